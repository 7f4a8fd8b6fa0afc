/**
 * Gunzip with integrity and size checks: every member's CRC-32 and length (ISIZE) are verified — fflate,
 * which inflates, checks neither — bytes after the last member are an error, and inflating stops as soon
 * as the output passes a limit (the caller's, e.g. the size a NIfTI header declares, or
 * READ_LIMITS.maxInflatedBytes), so a small file cannot inflate to gigabytes. Pure TypeScript (the
 * browser workbench reads .nii.gz through it too).
 */
import { Gunzip } from 'fflate';
import { crc32 } from './zip.js';
import { READ_LIMITS } from './limits.js';

export function isGzip(u8: Uint8Array): boolean {
  return u8.length >= 2 && u8[0] === 0x1f && u8[1] === 0x8b;
}

export interface GunzipOptions {
  /**
   * Called as output arrives with what has been inflated so far; returns the most bytes the whole output
   * may have (undefined: not known yet). An output beyond it stops the inflation with an error.
   */
  limit?: (head: Uint8Array) => number | undefined;
  /** What the output is, for the size error (default 'data'). */
  what?: string;
}

class Stop extends Error {}

export function gunzipChecked(u8: Uint8Array, source: string, opts: GunzipOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let cap = READ_LIMITS.maxInflatedBytes;
  let capKnown = false;
  let capWhy = `the limit of ${READ_LIMITS.maxInflatedBytes.toLocaleString('en')} bytes (CANDOR_MAX_INFLATED_MB raises it)`;
  const members = [0];
  const outAt = [0];
  let head: Uint8Array | undefined;
  try {
    const g = new Gunzip((chunk) => {
      chunks.push(chunk);
      total += chunk.length;
      if (opts.limit && !capKnown) {
        head = concat(chunks, total);
        const l = opts.limit(head);
        if (l !== undefined) {
          capKnown = true;
          if (l < cap) {
            cap = l;
            capWhy = `the ${l.toLocaleString('en')} bytes its header declares`;
          }
        }
      }
      if (total > cap) throw new Stop(`${source}: gzip data inflate to more than ${capWhy}${opts.what ? ` (${opts.what})` : ''}`);
    });
    g.onmember = (offset) => {
      members.push(offset);
      outAt.push(total);
    };
    g.push(u8, true);
  } catch (err) {
    if (err instanceof Stop) throw new Error(err.message);
    throw new Error(`${source}: corrupt or truncated gzip data (${(err as Error).message})`);
  }
  const out = concat(chunks, total);
  members.push(u8.length);
  outAt.push(total);
  for (let m = 0; m + 1 < members.length; m++) {
    const end = members[m + 1]!;
    if (end - members[m]! < 18) throw new Error(`${source}: gzip member ${m + 1} at byte ${members[m]} is truncated (${end - members[m]!} bytes)`);
    const dv = new DataView(u8.buffer, u8.byteOffset + end - 8, 8);
    const storedCrc = dv.getUint32(0, true);
    const storedSize = dv.getUint32(4, true);
    const part = out.subarray(outAt[m]!, outAt[m + 1]!);
    const crc = crc32(part);
    if (crc !== storedCrc || storedSize !== part.length % 2 ** 32) {
      throw new Error(
        `${source}: gzip member ${m + 1} fails its check (CRC-32 ${hex(crc)} computed, ${hex(storedCrc)} stored; ${part.length} bytes, ${storedSize} stored)` +
          `${m + 2 === members.length ? ': the file is corrupt, or has bytes after its last gzip member' : ': the file is corrupt'}`,
      );
    }
  }
  return out;
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  chunks.length = 0;
  chunks.push(out);
  return out;
}
