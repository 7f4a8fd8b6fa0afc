/**
 * Limits every reader checks before it allocates or decodes: declared sizes are compared with these
 * (and with the bytes present) first, so a damaged or hostile file is an error naming the file, the field,
 * the declared and the allowed size — never a multi-gigabyte allocation, a native abort or a hang.
 *
 * Defaults fit large medical images with room (a 30,000 × 30,000 whole-slide tile would not; raise the
 * limit for it): 100 million pixels per 2-D image (a 10,000 × 10,000 mammogram), 512³ = 134 million
 * voxels per volume, 2 GiB inflated per compressed member. Each can be raised or lowered with an
 * environment variable (CANDOR_MAX_PIXELS, CANDOR_MAX_VOXELS, CANDOR_MAX_INFLATED_MB), read once when
 * candor starts, or with {@link setReadLimits}.
 */
export interface ReadLimits {
  /** Pixels (width × height × frames counted per frame) of one 2-D image. */
  maxPixels: number;
  /** Voxels (x·y·z·t) of one volume. */
  maxVoxels: number;
  /** Bytes one compressed member (zip, gzip, deflate stream) may inflate to. */
  maxInflatedBytes: number;
}

function envNumber(name: string, dflt: number): number {
  const env = typeof process !== 'undefined' ? process.env?.[name] : undefined;
  if (env === undefined || env === '') return dflt;
  const v = Number(env);
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name}=${env}: expected a positive number`);
  return v;
}

export const READ_LIMITS: ReadLimits = {
  maxPixels: envNumber('CANDOR_MAX_PIXELS', 100_000_000),
  maxVoxels: envNumber('CANDOR_MAX_VOXELS', 512 ** 3),
  maxInflatedBytes: envNumber('CANDOR_MAX_INFLATED_MB', 2048) * 2 ** 20,
};

export function setReadLimits(l: Partial<ReadLimits>): void {
  Object.assign(READ_LIMITS, l);
}

/** Deflate cannot expand data more than 1032:1: a declared inflated size beyond that is impossible. */
export const MAX_DEFLATE_RATIO = 1032;

export function checkPixels(source: string, what: string, width: number, height: number): void {
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) throw new Error(`${source}: ${what} declares ${width} × ${height} pixels, not a positive size`);
  if (width * height > READ_LIMITS.maxPixels) {
    throw new Error(`${source}: ${what} declares ${width} × ${height} = ${(width * height).toLocaleString('en')} pixels, more than the limit of ${READ_LIMITS.maxPixels.toLocaleString('en')} (CANDOR_MAX_PIXELS raises it)`);
  }
}
