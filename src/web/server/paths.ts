/**
 * Request paths → files, refusing anything outside the served folders. The raw request path is split
 * and each segment percent-decoded by hand (WHATWG URL parsing would silently resolve `..` and `%2e%2e`,
 * hiding the attempt); `..`, `.`, dot-files, NUL and backslashes are refused, and the final file's real
 * path (symlinks resolved) must lie inside the real path of its root.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Decoded path segments of a request target (query and fragment dropped). A trailing '/' gives a final ''. */
export function pathSegments(target: string): string[] {
  if (!target.startsWith('/')) throw new HttpError(400, 'request target must be an absolute path');
  const path = target.split(/[?#]/, 1)[0]!;
  const raw = path.slice(1).split('/');
  return raw.map((s, i) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the path');
    }
    if (d === '' && i !== raw.length - 1) throw new HttpError(400, 'empty path segment');
    if (d === '..' || d === '.') throw new HttpError(403, 'path traversal is refused');
    if (d.includes('/') || d.includes('\\') || d.includes('\0')) throw new HttpError(403, 'encoded separators are refused');
    if (d.startsWith('.')) throw new HttpError(404, 'not found');
    return d;
  });
}

/** The real path of an existing root folder (resolved once, at start-up). */
export async function realRoot(dir: string): Promise<string> {
  const r = await realpath(dir);
  if (!(await stat(r)).isDirectory()) throw new Error(`${dir} is not a folder`);
  return r;
}

/**
 * The file or folder `segments` names under `root` (a real path). 404 when missing, 403 when it
 * resolves (through a symlink) outside `root`.
 */
export async function resolveInside(root: string, segments: readonly string[]): Promise<{ path: string; isDir: boolean }> {
  const parts = segments.filter((s) => s !== '');
  let real: string;
  try {
    real = await realpath(join(root, ...parts));
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) throw new HttpError(403, 'outside the served folder');
  const st = await stat(real);
  if (!st.isFile() && !st.isDirectory()) throw new HttpError(404, 'not found');
  return { path: real, isDir: st.isDirectory() };
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  wasm: 'application/wasm',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

export function contentType(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
