/**
 * Text files (CSV tables, image lists, prediction files) as UTF-8, strictly: bytes that are not UTF-8
 * are an error naming the file and the byte, instead of silently becoming U+FFFD and, say, a new class.
 * A UTF-8 byte-order mark is dropped.
 */
import { readFileSync } from 'node:fs';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new Error(`${source}: not UTF-8 text (an invalid byte sequence at byte ${firstInvalid(bytes)}); save it as UTF-8`);
  }
}

/** Offset of the first byte that does not start (or continue) a valid UTF-8 sequence. */
function firstInvalid(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

export function readUtf8File(path: string): string {
  return decodeUtf8(new Uint8Array(readFileSync(path)), path);
}
