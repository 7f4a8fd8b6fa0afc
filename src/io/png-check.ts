/**
 * Checks a PNG before it is decoded (pngjs decodes it; this makes that safe and exact): the signature,
 * every chunk's length and CRC-32, IHDR's fields and its size against READ_LIMITS.maxPixels, the image data
 * (the IDAT chunks together) inflating to exactly the bytes the size, depth, colour type and interlacing
 * need, with zlib's Adler-32 verified, and nothing after IEND. A PNG that passes cannot make the decoder
 * read memory it did not fill, allocate beyond the limit, or abort the process (a 2^31-pixel IHDR reached a
 * native zlib assertion in pngjs); one that fails is an error naming the file and what is wrong.
 */
import { Inflate } from 'fflate';
import { crc32 } from './zip.js';
import { checkPixels } from './limits.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Bytes of filtered scanlines for a w×h image (one filter byte per row). */
function scanlineBytes(w: number, h: number, bitsPerPixel: number): number {
  return w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8));
}

/** Adam7: the seven passes' sizes. */
function adam7Bytes(w: number, h: number, bpp: number): number {
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) total += scanlineBytes(Math.ceil((w - x0) / dx), Math.ceil((h - y0) / dy), bpp);
  return total;
}

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; ) {
    const end = Math.min(b.length, i + 5552);
    for (; i < end; i++) {
      a += b[i]!;
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

export function checkPng(bytes: Uint8Array, source: string): void {
  const fail = (msg: string): never => {
    throw new Error(`${source}: corrupt PNG: ${msg}`);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let ihdr: { w: number; h: number; depth: number; color: number; interlace: number } | undefined;
  const idat: Uint8Array[] = [];
  let idatBytes = 0;
  let ended = false;
  let first = true;
  while (p < bytes.length) {
    if (p + 12 > bytes.length) fail(`chunk at byte ${p} is cut short (${bytes.length - p} bytes left; a chunk needs at least 12)`);
    const len = dv.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`chunk at byte ${p} has an invalid type`);
    if (len > 0x7fffffff || p + 12 + len > bytes.length) fail(`chunk '${type}' at byte ${p} declares ${len} bytes, but the file ends ${bytes.length - p - 12} bytes later (truncated?)`);
    const data = bytes.subarray(p + 8, p + 8 + len);
    const stored = dv.getUint32(p + 8 + len);
    if (crc32(bytes.subarray(p + 4, p + 8 + len)) !== stored) fail(`chunk '${type}' at byte ${p} fails its CRC-32 check`);
    if (first && type !== 'IHDR') fail(`the first chunk is '${type}', not IHDR`);
    first = false;
    if (type === 'IHDR') {
      if (ihdr) fail('two IHDR chunks');
      if (len !== 13) fail(`IHDR is ${len} bytes, not 13`);
      const h = new DataView(data.buffer, data.byteOffset, 13);
      ihdr = { w: h.getUint32(0), h: h.getUint32(4), depth: data[8]!, color: data[9]!, interlace: data[12]! };
      if (!DEPTHS[ihdr.color]) fail(`IHDR colour type ${ihdr.color} is invalid`);
      if (!DEPTHS[ihdr.color]!.includes(ihdr.depth)) fail(`IHDR bit depth ${ihdr.depth} is invalid for colour type ${ihdr.color}`);
      if (data[10] !== 0 || data[11] !== 0 || ihdr.interlace > 1) fail('IHDR compression, filter or interlace method is invalid');
      if (ihdr.w === 0 || ihdr.h === 0 || ihdr.w > 0x7fffffff || ihdr.h > 0x7fffffff) fail(`IHDR size ${ihdr.w} × ${ihdr.h} is invalid`);
      checkPixels(source, 'the PNG header (IHDR)', ihdr.w, ihdr.h);
    } else if (type === 'IDAT') {
      idat.push(data);
      idatBytes += len;
    } else if (type === 'IEND') {
      ended = true;
      p += 12 + len;
      break;
    }
    p += 12 + len;
  }
  const hd = ihdr ?? fail('no IHDR chunk');
  if (!ended) fail('no IEND chunk (the file is cut short)');
  if (p !== bytes.length) fail(`${bytes.length - p} bytes after the IEND chunk`);
  if (idatBytes === 0) fail('no image data (IDAT)');
  const bpp = hd.depth * CHANNELS[hd.color]!;
  const expected = hd.interlace ? adam7Bytes(hd.w, hd.h, bpp) : scanlineBytes(hd.w, hd.h, bpp);
  // zlib stream: 2-byte header, deflate data, 4-byte Adler-32 of the inflated bytes.
  const z = new Uint8Array(idatBytes);
  let o = 0;
  for (const c of idat) {
    z.set(c, o);
    o += c.length;
  }
  if (z.length < 6 || (z[0]! & 0x0f) !== 8 || ((z[0]! << 8) | z[1]!) % 31 !== 0 || z[1]! & 0x20) fail('the image data is not a valid zlib stream');
  const out = new Uint8Array(expected);
  let got = 0;
  let over = false;
  let done = false;
  const inf = new Inflate((chunk, final) => {
    if (got + chunk.length > expected) over = true;
    else out.set(chunk, got);
    got += chunk.length;
    if (final) done = true;
    if (over) throw new Error('more image data than the header needs');
  });
  try {
    inf.push(z.subarray(2, z.length - 4), true);
  } catch (err) {
    fail(`the image data do not inflate (${(err as Error).message})`);
  }
  if (over || got !== expected) fail(`the image data inflate to ${got} bytes, but a ${hd.w} × ${hd.h} image of ${bpp} bits per pixel${hd.interlace ? ', interlaced,' : ''} needs ${expected}`);
  if (!done) fail('the image data end early');
  const adler = new DataView(z.buffer, z.byteOffset + z.length - 4, 4).getUint32(0);
  if (adler32(out) !== adler) fail('the image data fail their Adler-32 check');
}
