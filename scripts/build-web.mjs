#!/usr/bin/env node
// Builds the browser workbench (src/web) into dist-web/ with esbuild: the page script, its Web Worker
// (which bundles the same engine code the CLI runs: src/runtime, src/explain, src/autodiff…), the HTML and
// the CSS. onnxruntime-web's .wasm/.mjs are not copied: `candor serve` serves them from node_modules.
//
//   node scripts/build-web.mjs            build
//   node scripts/build-web.mjs --if-stale build only when an input changed since the last build
//
// dist-web/build.json lists every input file (from esbuild's metafile), so staleness is exact.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SRC = join(ROOT, 'src', 'web');
export const WEB_OUT = join(ROOT, 'dist-web');
const STATIC = ['index.html', 'style.css'];

/** Node-only modules that shared code imports but the browser never calls (decoding goes through a canvas). */
const ALIASES = { pngjs: join(WEB_SRC, 'stubs', 'pngjs.ts') };

/**
 * Emscripten modules (the JPEG 2000 codec) `require('fs')`/`require('path')` in a branch that only runs
 * under Node; in the browser bundle those resolve to an empty module.
 */
const nodeBranchStubs = {
  name: 'node-branch-stubs',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(fs|path)$/ }, (args) =>
      /@cornerstonejs[\\/]codec-openjpeg/.test(args.importer) ? { path: args.path, namespace: 'empty' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** True when dist-web is missing, or older than any file it was built from (or than this script). */
export function webBuildIsStale(outdir = WEB_OUT) {
  const manifest = join(outdir, 'build.json');
  if (!existsSync(manifest)) return true;
  let info;
  try {
    info = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {
    return true;
  }
  const builtAt = info.builtAt ?? 0;
  const inputs = [...(info.inputs ?? []), fileURLToPath(import.meta.url)];
  for (const f of inputs) {
    const p = resolve(ROOT, f);
    if (!existsSync(p) || statSync(p).mtimeMs > builtAt) return true;
  }
  for (const f of [...STATIC, 'main.js', 'worker.js']) if (!existsSync(join(outdir, f))) return true;
  return false;
}

/** Build the page into `outdir`. Returns the output directory. */
export async function buildWeb({ outdir = WEB_OUT, minify = true, quiet = false } = {}) {
  const esbuild = await import('esbuild');
  const startedAt = Date.now();
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(WEB_SRC, 'main.ts'), worker: join(WEB_SRC, 'worker.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify,
    sourcemap: 'linked',
    metafile: true,
    alias: ALIASES,
    plugins: [nodeBranchStubs],
    // Anything Node-only reaching the bundle is a build error, not a runtime surprise.
    external: [],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: quiet ? 'error' : 'warning',
    legalComments: 'linked',
  });
  for (const f of STATIC) copyFileSync(join(WEB_SRC, f), join(outdir, f));
  const inputs = [...Object.keys(result.metafile.inputs), ...STATIC.map((f) => join('src', 'web', f))];
  writeFileSync(join(outdir, 'build.json'), JSON.stringify({ builtAt: startedAt, inputs }, null, 1));
  if (!quiet) {
    const sizes = Object.entries(result.metafile.outputs)
      .filter(([k]) => k.endsWith('.js'))
      .map(([k, v]) => `${k.split('/').pop()} ${(v.bytes / 1024).toFixed(0)} KiB`);
    console.log(`build-web: ${outdir} (${sizes.join(', ')}) in ${Date.now() - startedAt} ms`);
  }
  return outdir;
}

/** Build when stale; returns whether a build ran. */
export async function ensureWebBuild(opts = {}) {
  if (!webBuildIsStale(opts.outdir)) return false;
  await buildWeb(opts);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ifStale = process.argv.includes('--if-stale');
  const ran = ifStale ? await ensureWebBuild() : (await buildWeb(), true);
  if (!ran) console.log('build-web: dist-web is up to date');
}
