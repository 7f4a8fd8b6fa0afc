/**
 * Seeded mutations of a file's bytes, the kinds real damage and hostile files take: bit flips, bytes set
 * to boundary values, 16/32-bit fields overwritten with huge, negative or zero values (sizes, counts,
 * offsets), truncation, appended garbage, deleted, duplicated or spliced byte ranges. One mutation per
 * call, deterministic in the generator's state, so a campaign is reproduced from its seed.
 */
import { Rng } from '../tensor/rng.js';

export type Mutation = 'bitflip' | 'byte' | 'int16' | 'int32' | 'truncate' | 'append' | 'delete' | 'duplicate' | 'splice' | 'zero-run';

const BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const INT32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0xffff, 0x10000, 1 << 24, 46341, 30000, 100000];
const INT16 = [0, 1, 0x7fff, 0x8000, 0xffff, 30000, 255, 256];

export function mutate(src: Uint8Array, rng: Rng, only?: readonly Mutation[]): { bytes: Uint8Array; kind: Mutation; at: number } {
  const kinds: readonly Mutation[] = only ?? ['bitflip', 'byte', 'int16', 'int32', 'truncate', 'append', 'delete', 'duplicate', 'splice', 'zero-run'];
  const kind = kinds[rng.int(kinds.length)]!;
  const n = src.length;
  // Headers hold most structure: half the positions fall in the first 512 bytes.
  const pos = () => (n === 0 ? 0 : rng.next() < 0.5 ? rng.int(Math.min(n, 512)) : rng.int(n));
  const at = pos();
  const b = Uint8Array.from(src);
  const view = new DataView(b.buffer);
  switch (kind) {
    case 'bitflip':
      if (n) b[at] = b[at]! ^ (1 << rng.int(8));
      return { bytes: b, kind, at };
    case 'byte':
      if (n) b[at] = BYTES[rng.int(BYTES.length)]!;
      return { bytes: b, kind, at };
    case 'int16':
      if (at + 2 <= n) view.setUint16(at, INT16[rng.int(INT16.length)]! & 0xffff, rng.next() < 0.5);
      return { bytes: b, kind, at };
    case 'int32':
      if (at + 4 <= n) view.setInt32(at, INT32[rng.int(INT32.length)]! | 0, rng.next() < 0.5);
      return { bytes: b, kind, at };
    case 'truncate':
      return { bytes: src.slice(0, at), kind, at };
    case 'append': {
      const extra = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
      const out = new Uint8Array(n + extra.length);
      out.set(src);
      out.set(extra, n);
      return { bytes: out, kind, at: n };
    }
    case 'delete': {
      const len = Math.min(n - at, 1 + rng.int(16));
      const out = new Uint8Array(n - len);
      out.set(src.subarray(0, at));
      out.set(src.subarray(at + len), at);
      return { bytes: out, kind, at };
    }
    case 'duplicate': {
      const len = Math.min(n - at, 1 + rng.int(64));
      const out = new Uint8Array(n + len);
      out.set(src.subarray(0, at + len));
      out.set(src.subarray(at, at + len), at + len);
      out.set(src.subarray(at + len), at + 2 * len);
      return { bytes: out, kind, at };
    }
    case 'splice': {
      const from = pos();
      const len = Math.min(n - Math.max(at, from), 1 + rng.int(32));
      if (len > 0) b.set(src.subarray(from, from + len), at);
      return { bytes: b, kind, at };
    }
    case 'zero-run': {
      const len = Math.min(n - at, 1 + rng.int(256));
      b.fill(0, at, at + len);
      return { bytes: b, kind, at };
    }
  }
}
