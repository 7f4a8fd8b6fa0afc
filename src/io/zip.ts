/**
 * A small ZIP container reader/writer for `.npz` archives. Browser-safe (no Node APIs).
 *
 * Reading goes through the central directory (not the local headers), so members written with data
 * descriptors (flag bit 3) and streamed archives are handled. ZIP64 is supported: 0xFFFFFFFF sizes and
 * offsets are resolved through the zip64 extra field, and the entry count / directory location through
 * the zip64 end-of-central-directory record. Members are stored (method 0) or deflated (method 8); every
 * extracted member's CRC-32 is verified.
 */
import { deflateSync, inflateSync, type DeflateOptions } from 'fflate';
import { MAX_DEFLATE_RATIO, READ_LIMITS } from './limits.js';

// ---------------------------------------------------------------------------------------------- CRC-32

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as used by ZIP and gzip) of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------- reading

export interface ZipEntry {
  /** Member name as stored (UTF-8 decoded). */
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the member's local file header. */
  readonly localHeaderOffset: number;
}

export interface ZipReader {
  readonly source: string;
  readonly entries: readonly ZipEntry[];
  /** Entry by exact name, or undefined. */
  find(name: string): ZipEntry | undefined;
  /** Decompress one member and verify its size and CRC-32. */
  extract(entry: ZipEntry | string): Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

const utf8 = new TextDecoder('utf-8');

function u64(view: DataView, off: number, what: () => string): number {
  const v = view.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what()}: 64-bit value ${v} is too large`);
  return Number(v);
}

/** Open a ZIP archive held in memory. Only the directory is parsed; members are inflated on `extract`. */
export function openZip(bytes: Uint8Array, source = '<zip>'): ZipReader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  function fail(msg: string): never {
    throw new Error(`${source}: ${msg}`);
  }
  const looksLikeZip = len >= 4 && view.getUint32(0, true) === SIG_LOCAL;

  // 1. End of central directory: 22 bytes + a comment of up to 65535 bytes, at the very end.
  // Prefer a record whose comment ends exactly at the end of the file; accept trailing bytes otherwise.
  let eocd = -1;
  let loose = -1;
  for (let p = len - 22; p >= 0 && p >= len - 22 - U16_MAX; p--) {
    if (view.getUint32(p, true) !== SIG_EOCD) continue;
    const end = p + 22 + view.getUint16(p + 20, true);
    if (end === len) {
      eocd = p;
      break;
    }
    if (end < len && loose < 0) loose = p;
  }
  if (eocd < 0 && loose >= 0) {
    const end = loose + 22 + view.getUint16(loose + 20, true);
    fail(`${len - end} bytes of trailing data after the zip archive's end record: the file is corrupt or has something appended`);
  }
  if (eocd < 0) {
    if (looksLikeZip) fail('truncated: the zip archive has no end-of-central-directory record (file cut short?)');
    if (len === 0) fail('empty file, not a zip archive');
    fail('not a zip archive (no end-of-central-directory record; .npz files are zip archives)');
  }
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0 || view.getUint16(eocd + 8, true) !== view.getUint16(eocd + 10, true)) {
    fail('multi-disk (split) zip archives are not supported, or the end record is corrupt (its disk numbers and entry counts disagree)');
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);

  // 2. ZIP64 end of central directory, found through its locator just before the EOCD record.
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === SIG_ZIP64_LOCATOR) {
    const at = u64(view, eocd - 20 + 8, () => `${source}: zip64 locator`);
    if (at + 56 > len || view.getUint32(at, true) !== SIG_ZIP64_EOCD) {
      fail(`zip64 end-of-central-directory record not found at offset ${at} (archive truncated or corrupt)`);
    }
    const what = () => `${source}: zip64 end-of-central-directory`;
    count = u64(view, at + 32, what);
    cdSize = u64(view, at + 40, what);
    cdOffset = u64(view, at + 48, what);
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    fail('archive needs ZIP64 but has no zip64 end-of-central-directory locator');
  }
  if (count === 0 && (cdOffset > 0 || looksLikeZip)) fail(`corrupt: the end record lists no members, but ${Math.max(cdOffset, eocd)} bytes of the archive come before it`);
  if (cdOffset + cdSize > eocd) {
    fail(`truncated or corrupt: central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${eocd}`);
  }

  // 3. Central directory entries.
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > len || view.getUint32(p, true) !== SIG_CENTRAL) {
      fail(`corrupt central directory: entry ${i} of ${count} not found at offset ${p}`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const disk = view.getUint16(p + 34, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > len) fail(`corrupt central directory: entry ${i} runs past the end of the file`);
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));

    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present, in order.
    if (uncompressedSize === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX || disk === U16_MAX) {
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      let found = false;
      while (e + 4 <= extraEnd) {
        const id = view.getUint16(e, true);
        const size = view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const lim = Math.min(e + 4 + size, extraEnd);
          const what = () => `${source}: member '${name}' zip64 extra field`;
          const need = () => {
            if (q + 8 > lim) fail(`member '${name}': zip64 extra field is too short`);
          };
          if (uncompressedSize === U32_MAX) { need(); uncompressedSize = u64(view, q, what); q += 8; }
          if (compressedSize === U32_MAX) { need(); compressedSize = u64(view, q, what); q += 8; }
          if (localHeaderOffset === U32_MAX) { need(); localHeaderOffset = u64(view, q, what); q += 8; }
          found = true;
          break;
        }
        e += 4 + size;
      }
      if (!found) fail(`member '${name}': sizes are 0xFFFFFFFF but there is no zip64 extra field`);
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
    p = end;
  }

  // Every byte of the central directory must be accounted for: a count lowered by damage would drop members silently.
  if (p !== cdOffset + cdSize) fail(`corrupt central directory: its ${count} entries end at offset ${p}, but the end record says it spans ${cdOffset}–${cdOffset + cdSize}`);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) fail(`member '${e.name}' is listed twice in the central directory`);
    byName.set(e.name, e);
    // Each member's local header must be where the directory says and agree with it (checked now, so a
    // damaged name cannot hide a member from the listing).
    const h = e.localHeaderOffset;
    const m = (msg: string): never => fail(`member '${e.name}': ${msg}`);
    if (h + 30 > len) m(`truncated: local header at offset ${h} is past the end of the file (${len} bytes)`);
    if (view.getUint32(h, true) !== SIG_LOCAL) m(`corrupt: no local file header at offset ${h}`);
    const localNameLen = view.getUint16(h + 26, true);
    const localName = h + 30 + localNameLen <= len ? utf8.decode(bytes.subarray(h + 30, h + 30 + localNameLen)) : '';
    if (localName !== e.name) m(`corrupt: its local header names it '${localName}' (the central directory and the local header must agree)`);
    if (view.getUint16(h + 8, true) !== e.method) m(`corrupt: its local header says compression method ${view.getUint16(h + 8, true)}, the central directory ${e.method}`);
  }

  function extract(entryOrName: ZipEntry | string): Uint8Array {
    const entry = typeof entryOrName === 'string' ? byName.get(entryOrName) : entryOrName;
    if (!entry) return fail(`no member named '${String(entryOrName)}'`);
    const name = entry.name;
    function m(msg: string): never {
      return fail(`member '${name}': ${msg}`);
    }
    if (entry.flags & 1) m('is encrypted (not supported)');
    const h = entry.localHeaderOffset;
    const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
    const stop = start + entry.compressedSize;
    if (stop > len) {
      m(`truncated: needs ${entry.compressedSize} bytes of data at offset ${start} but the file ends after ${Math.max(0, len - start)}`);
    }
    const raw = bytes.subarray(start, stop);
    let out: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        m(`stored member has compressed size ${entry.compressedSize} != size ${entry.uncompressedSize}`);
      }
      out = raw;
    } else if (entry.method === 8) {
      if (entry.uncompressedSize > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) m(`corrupt: ${entry.compressedSize} compressed bytes cannot inflate to the ${entry.uncompressedSize} the directory declares (deflate expands at most ${MAX_DEFLATE_RATIO}:1)`);
      if (entry.uncompressedSize > READ_LIMITS.maxInflatedBytes) m(`declares ${entry.uncompressedSize.toLocaleString('en')} bytes inflated, more than the limit of ${READ_LIMITS.maxInflatedBytes.toLocaleString('en')} (CANDOR_MAX_INFLATED_MB raises it)`);
      try {
        out = inflateSync(raw, { out: new Uint8Array(entry.uncompressedSize) });
      } catch (err) {
        return m(`corrupt deflate data (${(err as Error).message})`);
      }
      if (out.length !== entry.uncompressedSize) {
        m(`corrupt deflate data: inflated to ${out.length} bytes, directory says ${entry.uncompressedSize}`);
      }
    } else {
      return m(`compression method ${entry.method} is not supported (only stored and deflate)`);
    }
    const actual = crc32(out);
    if (actual !== entry.crc32) {
      m(`CRC-32 mismatch (stored ${hex(entry.crc32)}, computed ${hex(actual)}): the archive is corrupt`);
    }
    return out;
  }

  return { source, entries, find: (name) => byName.get(name), extract };
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------------------------- writing

export interface ZipWriteOptions {
  /** Deflate members (default false: stored). */
  compress?: boolean;
  /** Deflate level 0-9 (default 6). */
  level?: number;
  /** Write ZIP64 records even when not needed (for testing). */
  forceZip64?: boolean;
}

export interface ZipInput {
  readonly name: string;
  readonly data: Uint8Array;
}

/** DOS date of 1980-01-01 00:00, as numpy uses: output is deterministic. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const utf8enc = new TextEncoder();

class ByteSink {
  private parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

class Rec {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private p = 0;
  constructor(n: number) {
    this.bytes = new Uint8Array(n);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(v: number): this { this.view.setUint16(this.p, v, true); this.p += 2; return this; }
  u32(v: number): this { this.view.setUint32(this.p, v >>> 0, true); this.p += 4; return this; }
  u64(v: number): this { this.view.setBigUint64(this.p, BigInt(v), true); this.p += 8; return this; }
  raw(b: Uint8Array): this { this.bytes.set(b, this.p); this.p += b.length; return this; }
}

/** Write a ZIP archive (stored or deflated members; ZIP64 records only when needed unless forced). */
export function writeZip(members: readonly ZipInput[], opts: ZipWriteOptions = {}): Uint8Array {
  const sink = new ByteSink();
  const central: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const { name, data } of members) {
    if (seen.has(name)) throw new Error(`writeZip: duplicate member name '${name}'`);
    seen.add(name);
    const nameBytes = utf8enc.encode(name);
    if (nameBytes.length > U16_MAX) throw new Error(`writeZip: member name too long`);
    const method = opts.compress ? 8 : 0;
    const body = opts.compress ? deflateSync(data, { level: (opts.level ?? 6) as DeflateOptions['level'] }) : data;
    const crc = crc32(data);
    const offset = sink.length;
    const big = data.length >= U32_MAX || body.length >= U32_MAX;
    const z64 = !!opts.forceZip64 || big || offset >= U32_MAX;
    const needed = z64 ? 45 : method === 8 ? 20 : 10;
    const flags = /[^\x00-\x7f]/.test(name) ? 0x800 : 0;

    // Local header: zip64 extra holds both sizes when either may overflow.
    const localZ64 = !!opts.forceZip64 || big;
    const local = new Rec(30 + nameBytes.length + (localZ64 ? 20 : 0))
      .u32(SIG_LOCAL).u16(needed).u16(flags).u16(method).u16(DOS_TIME).u16(DOS_DATE).u32(crc)
      .u32(localZ64 ? U32_MAX : body.length).u32(localZ64 ? U32_MAX : data.length)
      .u16(nameBytes.length).u16(localZ64 ? 20 : 0).raw(nameBytes);
    if (localZ64) local.u16(1).u16(16).u64(data.length).u64(body.length);
    sink.push(local.bytes);
    sink.push(body);

    const cdZ64 = z64;
    const cen = new Rec(46 + nameBytes.length + (cdZ64 ? 28 : 0))
      .u32(SIG_CENTRAL).u16(needed).u16(needed).u16(flags).u16(method).u16(DOS_TIME).u16(DOS_DATE).u32(crc)
      .u32(cdZ64 ? U32_MAX : body.length).u32(cdZ64 ? U32_MAX : data.length)
      .u16(nameBytes.length).u16(cdZ64 ? 28 : 0).u16(0).u16(0).u16(0).u32(0)
      .u32(cdZ64 ? U32_MAX : offset).raw(nameBytes);
    if (cdZ64) cen.u16(1).u16(24).u64(data.length).u64(body.length).u64(offset);
    central.push(cen.bytes);
  }
  const cdOffset = sink.length;
  let cdSize = 0;
  for (const c of central) {
    sink.push(c);
    cdSize += c.length;
  }
  const n = central.length;
  const z64End = !!opts.forceZip64 || n >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  if (z64End) {
    const at = sink.length;
    sink.push(
      new Rec(56).u32(SIG_ZIP64_EOCD).u64(44).u16(45).u16(45).u32(0).u32(0).u64(n).u64(n).u64(cdSize).u64(cdOffset).bytes,
    );
    sink.push(new Rec(20).u32(SIG_ZIP64_LOCATOR).u32(0).u64(at).u32(1).bytes);
  }
  sink.push(
    new Rec(22)
      .u32(SIG_EOCD).u16(0).u16(0)
      .u16(z64End ? U16_MAX : n).u16(z64End ? U16_MAX : n)
      .u32(z64End ? U32_MAX : cdSize).u32(z64End ? U32_MAX : cdOffset).u16(0).bytes,
  );
  return sink.concat();
}
