/**
 * `candor serve`: the browser workbench on a local HTTP server. Explanations and the randomization
 * check run in the browser (onnxruntime-web in a Web Worker, the same engine code as the CLI); the
 * server only hands out the page, the bundled model and sample images, and the report folder.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, UsageError } from './args.js';
import { isLoopback, startServer, type RunningServer, type ServerOptions } from '../web/server/app.js';

export const SERVE_USAGE = `usage: candor serve [--port 8737] [--host 127.0.0.1] [--reports DIR]

Serves the workbench at http://127.0.0.1:8737/: open an ONNX model (or the bundled baseline) and
PNG/JPEG/DICOM images, see the prediction, explanations and the model-randomization check. Models and
images are opened in the browser and never uploaded; the server is read-only.

  --port     port (default 8737; 0 picks a free one)
  --host     address to listen on (default 127.0.0.1, this machine only). Anything else exposes the
             workbench and your reports to the network: use it deliberately.
  --reports  audit report folder to serve under /reports/ (default ./candor-report if present)`;

/** The repository (or installed package) root: src/cli and dist/cli are both two levels down. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders the server needs, from the package root. */
export function defaultServerOptions(root = PACKAGE_ROOT): ServerOptions {
  return {
    webDir: join(root, 'dist-web'),
    ortDir: join(root, 'node_modules', 'onnxruntime-web', 'dist'),
    codecDir: join(root, 'node_modules', '@cornerstonejs', 'codec-openjpeg', 'dist'),
    modelDir: join(root, 'models', 'baseline'),
    samplesNpz: join(root, 'data', 'pneumoniamnist.npz'),
  };
}

/**
 * Build the page when its bundle is missing or older than its sources (a source checkout has
 * scripts/build-web.mjs and esbuild); an installed package ships dist-web prebuilt.
 */
export async function ensurePage(root = PACKAGE_ROOT, log: (s: string) => void = () => {}): Promise<void> {
  const script = join(root, 'scripts', 'build-web.mjs');
  const webDir = join(root, 'dist-web');
  if (existsSync(script)) {
    const mod = (await import(pathToFileURL(script).href)) as { ensureWebBuild: (o?: object) => Promise<boolean> };
    if (await mod.ensureWebBuild({ quiet: true })) log('built the workbench page into dist-web/');
    return;
  }
  if (!existsSync(join(webDir, 'index.html'))) throw new Error(`the workbench page is not built (${webDir} is missing) and scripts/build-web.mjs is not available`);
}

export interface ServeArgs {
  host: string;
  port: number;
  reports?: string;
}

export function parseServeArgs(argv: string[], cwd = process.cwd()): ServeArgs | 'help' {
  const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, reports: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, SERVE_USAGE);
  if (values.help) return 'help';
  const port = values.port === undefined ? 8737 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || values.port?.trim() === '') throw new UsageError(`--port must be an integer 0..65535, got '${values.port}'`);
  const host = values.host ?? '127.0.0.1';
  if (!host.trim()) throw new UsageError('--host is empty');
  let reports: string | undefined;
  if (values.reports !== undefined) {
    reports = resolve(cwd, values.reports);
    if (!existsSync(reports) || !statSync(reports).isDirectory()) throw new UsageError(`--reports ${values.reports}: no such folder`);
  } else if (existsSync(join(cwd, 'candor-report')) && statSync(join(cwd, 'candor-report')).isDirectory()) {
    reports = join(cwd, 'candor-report');
  }
  return { host, port, reports };
}

/** Start the workbench server (resolves once it listens; it runs until the process ends). */
export async function serve(args: ServeArgs, log: (s: string) => void = (s) => console.log(s)): Promise<RunningServer> {
  await ensurePage(PACKAGE_ROOT, log);
  const running = await startServer({ ...defaultServerOptions(), host: args.host, port: args.port, reportsDir: args.reports });
  log(`candor workbench: ${running.url}`);
  if (args.reports) log(`  reports: ${args.reports} (under ${running.url}reports/)`);
  if (!isLoopback(args.host)) log(`  warning: listening on ${args.host}; anyone who can reach this address can open the workbench and the reports`);
  log('  models and images you open stay in the browser; press Ctrl+C to stop');
  return running;
}

export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseServeArgs(argv);
  if (args === 'help') {
    console.log(SERVE_USAGE);
    return;
  }
  await serve(args);
}
