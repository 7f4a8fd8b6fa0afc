/**
 * The workbench's HTTP server (node:http, read-only): the built page (dist-web), onnxruntime-web's
 * wasm, the bundled model and sample images, and the user's report folder. Security model:
 *
 * - nothing is uploaded: models and images are opened in the browser and stay there, so every method
 *   but GET/HEAD is refused (405) and a request body is refused (413) — the body cap is 0 bytes;
 * - paths outside the served folders are refused (see paths.ts), so are symlinks leading out of them;
 * - a strict Content-Security-Policy (same origin only: no external scripts, styles, fonts, images or
 *   connections, so the page cannot send data anywhere), plus nosniff, no referrer, no framing, and
 *   cross-origin isolation headers;
 * - on a loopback address, requests must name a loopback Host (defeats DNS-rebinding pages reading the
 *   reports from another site).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { contentType, escapeHtml, HttpError, pathSegments, realRoot, resolveInside } from './paths.js';
import { makeSamples, type Sample } from './samples.js';

export interface ServerOptions {
  /** Built page (index.html, main.js, worker.js…). */
  webDir: string;
  /** Folder holding onnxruntime-web's ort-wasm-*.{wasm,mjs}. */
  ortDir: string;
  /** Folder of the JPEG 2000 codec's wasm (optional). */
  codecDir?: string;
  /** Bundled models (*.onnx with *.json cards beside them). */
  modelDir?: string;
  /** MedMNIST .npz the sample images come from. */
  samplesNpz?: string;
  /** The user's audit reports (read-only). */
  reportsDir?: string;
  host?: string;
  port?: number;
  /** Longest request target accepted (default 2048). */
  maxUrlLength?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Reports are the user's own HTML (inline styles and scripts allowed), still same-origin only. */
export const REPORT_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

const ORT_FILES = /^ort-wasm-simd-threaded(\.jsep|\.jspi|\.asyncify)?\.(wasm|mjs)$/;
const CODEC_FILES = /^openjpegwasm_decode\.wasm$/;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim().toLowerCase());
  return m?.[1];
}

function baseHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', csp === PAGE_CSP ? 'DENY' : 'SAMEORIGIN');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), usb=(), serial=()');
  res.setHeader('Cache-Control', 'no-cache');
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function sendBytes(res: ServerResponse, bytes: Uint8Array, type: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', bytes.byteLength);
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function sendFile(res: ServerResponse, path: string): Promise<void> {
  return new Promise((resolve) => {
    res.statusCode = 200;
    res.setHeader('Content-Type', contentType(path));
    if (res.req.method === 'HEAD') {
      res.end();
      return resolve();
    }
    const s = createReadStream(path);
    s.on('error', () => {
      if (!res.headersSent) sendText(res, 500, 'could not read the file');
      else res.destroy();
      resolve();
    });
    s.on('end', resolve);
    s.pipe(res);
  });
}

/** Serve a file under `root`, or (for folders) its index.html or a listing. */
async function serveFrom(res: ServerResponse, root: string, segs: readonly string[], urlBase: string, listing: boolean): Promise<void> {
  const real = await realRoot(root);
  const hit = await resolveInside(real, segs);
  if (!hit.isDir) return sendFile(res, hit.path);
  if (segs.length && segs[segs.length - 1] !== '') {
    res.statusCode = 301;
    res.setHeader('Location', `${urlBase}${segs.map(encodeURIComponent).join('/')}/`);
    return void res.end();
  }
  const index = join(hit.path, 'index.html');
  if (existsSync(index)) return sendFile(res, (await resolveInside(real, [...segs.filter(Boolean), 'index.html'])).path);
  if (!listing) throw new HttpError(404, 'not found');
  const entries = (await readdir(hit.path, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name));
  const items = entries.map((e) => {
    const name = e.name + (e.isDirectory() ? '/' : '');
    return `<li><a href="${escapeHtml(encodeURIComponent(e.name) + (e.isDirectory() ? '/' : ''))}">${escapeHtml(name)}</a></li>`;
  });
  const title = `reports/${segs.filter(Boolean).join('/')}`;
  sendText(res, 200, `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><ul>${items.join('')}</ul>`, 'text/html; charset=utf-8');
}

export function createHandler(opts: ServerOptions, allowHost: (host: string | undefined) => boolean) {
  let samples: Sample[] | undefined;
  const getSamples = () => (samples ??= opts.samplesNpz ? makeSamples(opts.samplesNpz) : []);
  const maxUrl = opts.maxUrlLength ?? 2048;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    if (target.length > maxUrl) throw new HttpError(414, 'request target too long');
    if (!allowHost(hostName(req.headers.host))) throw new HttpError(421, 'this server only answers requests addressed to localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'the workbench server is read-only: files are opened in the browser, never uploaded');
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > 0 || req.headers['transfer-encoding']) throw new HttpError(413, 'request bodies are not accepted');
    const segs = pathSegments(target);
    const [head, ...rest] = segs;
    if (head === 'reports') {
      baseHeaders(res, REPORT_CSP);
      res.setHeader('Cache-Control', 'no-store');
      if (!opts.reportsDir) throw new HttpError(404, 'no reports folder (start with --reports DIR)');
      return serveFrom(res, opts.reportsDir, rest, '/reports/', true);
    }
    baseHeaders(res, PAGE_CSP);
    if (head === 'ort' && rest.length === 1 && ORT_FILES.test(rest[0]!)) return sendFile(res, (await resolveInside(await realRoot(opts.ortDir), rest)).path);
    if (segs.length === 1 && opts.codecDir && CODEC_FILES.test(head!)) return sendFile(res, (await resolveInside(await realRoot(opts.codecDir), segs)).path);
    if (head === 'models') {
      if (!opts.modelDir) throw new HttpError(404, 'no bundled models');
      if (rest.length === 1 && rest[0] === 'index.json') {
        const files = (await readdir(opts.modelDir)).filter((f) => f.endsWith('.onnx')).sort();
        const list = files.map((f) => {
          const card = f.replace(/\.onnx$/, '.json');
          return { name: f, onnx: `models/${encodeURIComponent(f)}`, card: existsSync(join(opts.modelDir!, card)) ? `models/${encodeURIComponent(card)}` : undefined };
        });
        return sendText(res, 200, JSON.stringify(list), 'application/json; charset=utf-8');
      }
      if (rest.length !== 1 || !/\.(onnx|json|data)$/.test(rest[0]!)) throw new HttpError(404, 'not found');
      return serveFrom(res, opts.modelDir, rest, '/models/', false);
    }
    if (head === 'samples') {
      if (rest.length === 1 && rest[0] === 'index.json') {
        const list = getSamples().map((s) => ({ name: s.name, label: s.label, url: `samples/${encodeURIComponent(s.name)}` }));
        return sendText(res, 200, JSON.stringify(list), 'application/json; charset=utf-8');
      }
      const s = rest.length === 1 ? getSamples().find((x) => x.name === rest[0]) : undefined;
      if (!s) throw new HttpError(404, 'no such sample');
      return sendBytes(res, s.png, 'image/png');
    }
    return serveFrom(res, opts.webDir, segs, '/', false);
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (res.headersSent) return void res.destroy();
      if (!res.hasHeader('Content-Security-Policy')) baseHeaders(res, PAGE_CSP);
      if (status === 405 || status === 413) res.setHeader('Connection', 'close');
      sendText(res, status, `${status} ${err instanceof HttpError ? err.message : 'internal error'}\n`);
      if (status >= 500) console.error(`candor serve: ${req.method} ${basename(req.url ?? '')}: ${(err as Error).message}`);
    });
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  // Exposed deliberately (--host): any Host name may be used to reach it.
  const allowHost = (h: string | undefined) => !loopback || (h !== undefined && isLoopback(h));
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 60_000, headersTimeout: 15_000 }, createHandler(opts, allowHost));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8737, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
