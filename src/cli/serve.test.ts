import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultServerOptions, parseServeArgs } from './serve.js';
import { PAGE_CSP, REPORT_CSP, startServer, type RunningServer } from '../web/server/app.js';
import { UsageError } from './args.js';

const SECRET = 'top-secret-outside-the-served-folders';
let dir: string;
let srv: RunningServer;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request: the path goes out exactly as written (no URL normalisation). */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (opts.body) req.end(opts.body);
    else req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'candor-serve-'));
  const web = join(dir, 'web');
  const reports = join(dir, 'reports');
  mkdirSync(web);
  mkdirSync(join(reports, 'run1'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>workbench</title>');
  writeFileSync(join(web, 'main.js'), 'export {};');
  writeFileSync(join(reports, 'run1', 'report.html'), '<h1>audit</h1>');
  writeFileSync(join(reports, '.env'), SECRET);
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  symlinkSync(join(dir, 'secret.txt'), join(reports, 'link-out.txt'));
  symlinkSync(dir, join(reports, 'dir-out'));
  symlinkSync(join(reports, 'run1', 'report.html'), join(reports, 'link-in.html'));
  srv = await startServer({ ...defaultServerOptions(), webDir: web, reportsDir: reports, port: 0 });
});

after(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

test('listens on 127.0.0.1 unless told otherwise', () => {
  const args = parseServeArgs([], dir);
  assert.ok(args !== 'help');
  assert.equal(args.host, '127.0.0.1');
  assert.equal(args.port, 8737);
  const addr = srv.server.address();
  assert.ok(addr && typeof addr === 'object' && addr.address === '127.0.0.1');
  assert.ok(srv.url.startsWith('http://127.0.0.1:'));
});

test('serves the page with a strict same-origin Content-Security-Policy and hardening headers', async () => {
  const r = await raw('/');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/html/);
  const csp = String(r.headers['content-security-policy']);
  assert.equal(csp, PAGE_CSP);
  for (const policy of [PAGE_CSP, REPORT_CSP]) {
    assert.doesNotMatch(policy, /https?:|\*|wss?:/, 'no external origin, scheme or wildcard may appear');
    assert.match(policy, /default-src '(none|self)'/);
    assert.match(policy, /connect-src 'self'/);
  }
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
});

test('refuses traversal, encoded traversal and dot-files without leaking the file', async () => {
  const attempts = [
    '/../secret.txt',
    '/reports/../secret.txt',
    '/reports/../../secret.txt',
    '/reports/%2e%2e/secret.txt',
    '/reports/%2E%2E/secret.txt',
    '/reports/..%2fsecret.txt',
    '/reports/%2e%2e%2fsecret.txt',
    '/reports/..%5csecret.txt',
    '/reports/run1/..%2f..%2fsecret.txt',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/models/..%2f..%2fpackage.json',
    '/ort/..%2f..%2f..%2fpackage.json',
    '/reports/.env',
    '/reports/%2eenv',
    '/reports/secret.txt%00.html',
    '/reports/%E0%A4%A',
    '/reports//secret.txt',
  ];
  for (const p of attempts) {
    const r = await raw(p);
    assert.ok([400, 403, 404].includes(r.status), `${p}: status ${r.status}`);
    assert.ok(!r.body.toString().includes(SECRET), `${p}: leaked the file`);
  }
  assert.equal((await raw('/reports/../secret.txt')).status, 403);
  assert.equal((await raw('/reports/%2e%2e/secret.txt')).status, 403);
});

test('refuses symlinks that lead outside the served folder, follows those that stay inside', async () => {
  for (const p of ['/reports/link-out.txt', '/reports/dir-out/secret.txt', '/reports/dir-out/']) {
    const r = await raw(p);
    assert.equal(r.status, 403, p);
    assert.ok(!r.body.toString().includes(SECRET));
  }
  const ok = await raw('/reports/link-in.html');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), '<h1>audit</h1>');
});

test('serves reports read-only with a listing, under a same-origin policy', async () => {
  const list = await raw('/reports/');
  assert.equal(list.status, 200);
  assert.match(list.body.toString(), /run1\//);
  assert.doesNotMatch(list.body.toString(), /\.env/);
  assert.equal(list.headers['content-security-policy'], REPORT_CSP);
  assert.equal((await raw('/reports/run1')).status, 301);
  const rep = await raw('/reports/run1/report.html');
  assert.equal(rep.status, 200);
  assert.equal(rep.headers['cache-control'], 'no-store');
});

test('accepts no uploads: other methods are 405, request bodies 413', async () => {
  const big = Buffer.alloc(256 * 1024, 1);
  const post = await raw('/reports/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } }).catch((e: Error) => e);
  if (!(post instanceof Error)) assert.equal(post.status, 405);
  else assert.match(post.message, /ECONNRESET|EPIPE/); // refused before the body was read
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) assert.equal((await raw('/', { method })).status, 405, method);
  const withBody = await raw('/', { body: Buffer.from('x'.repeat(100)), headers: { 'content-length': '100' } });
  assert.equal(withBody.status, 413);
});

test('caps the request target and answers only loopback Host names (DNS rebinding)', async () => {
  assert.equal((await raw(`/${'a'.repeat(3000)}`)).status, 414);
  assert.equal((await raw('/', { headers: { host: 'evil.example:80' } })).status, 421);
  assert.equal((await raw('/', { headers: { host: `localhost:${srv.port}` } })).status, 200);
  assert.equal((await raw('/', { headers: { host: `[::1]:${srv.port}` } })).status, 200);
});

test('serves onnxruntime-web wasm, the bundled model and the sample images, and nothing else from node_modules', async () => {
  const wasm = await raw('/ort/ort-wasm-simd-threaded.wasm', { method: 'HEAD' });
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.equal((await raw('/ort/ort.min.js')).status, 404);
  assert.equal((await raw('/ort/package.json')).status, 404);
  const models = JSON.parse((await raw('/models/index.json')).body.toString()) as { name: string; onnx: string; card?: string }[];
  assert.ok(models.some((m) => m.name === 'small_cnn_pneumoniamnist64.onnx' && m.card));
  assert.equal((await raw(`/${models[0]!.onnx}`, { method: 'HEAD' })).status, 200);
  const samples = JSON.parse((await raw('/samples/index.json')).body.toString()) as { name: string; url: string; label: string }[];
  assert.equal(samples.length, 8);
  assert.deepEqual([...new Set(samples.map((s) => s.label))].sort(), ['normal', 'pneumonia']);
  const png = await raw(`/${samples[0]!.url}`);
  assert.equal(png.status, 200);
  assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal((await raw('/samples/nope.png')).status, 404);
});

test('parses serve options: --reports defaults to ./candor-report when present; bad values are usage errors', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'candor-serve-cwd-'));
  try {
    let a = parseServeArgs([], cwd);
    assert.ok(a !== 'help' && a.reports === undefined);
    mkdirSync(join(cwd, 'candor-report'));
    a = parseServeArgs(['--port', '0', '--host', '0.0.0.0'], cwd);
    assert.ok(a !== 'help');
    assert.equal(a.reports, join(cwd, 'candor-report'));
    assert.equal(a.port, 0);
    assert.equal(a.host, '0.0.0.0');
    assert.throws(() => parseServeArgs(['--port', '70000'], cwd), UsageError);
    assert.throws(() => parseServeArgs(['--reports', join(cwd, 'missing')], cwd), UsageError);
    assert.throws(() => parseServeArgs(['--bogus'], cwd), UsageError);
    assert.equal(parseServeArgs(['--help'], cwd), 'help');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
