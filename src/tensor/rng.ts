/**
 * A small seeded pseudo-random number generator: xoshiro128** (Blackman & Vigna), its 128-bit state
 * filled by splitmix32 from a numeric seed. Deterministic across platforms (only 32-bit integer
 * arithmetic via Math.imul and >>>), fast enough to fill tens of millions of weights.
 *
 * `fork(label)` derives an independent stream from the generator's *seed* and a label, not from its
 * current position: `rng.fork('layer1.0.conv1.weight')` gives the same numbers however many draws were
 * made before, so adding a layer does not change the initial weights of the others.
 */

const TWO32 = 4294967296;

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** FNV-1a over the UTF-16 code units of a string, then finalised with a splitmix step. */
function hashString(s: string, h0: number): number {
  let h = (0x811c9dc5 ^ h0) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32(h)[1];
}

/** Two 32-bit words from a number seed (integers up to 2^53 and negative seeds are distinct; fractions are hashed). */
function seedWords(seed: number): [number, number] {
  if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
  if (Number.isInteger(seed)) {
    const neg = seed < 0;
    const a = Math.abs(seed);
    const lo = a % TWO32 >>> 0;
    const hi = (Math.floor(a / TWO32) >>> 0) ^ (neg ? 0x80000000 : 0);
    return [lo, hi];
  }
  return [hashString(String(seed), 0x2545f491), 0x7fffffff];
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;
  /** The two words this stream was seeded from (used by `fork`). */
  private key: readonly [number, number];

  constructor(seed = 0) {
    this.key = seedWords(seed);
    this.seedState(this.key);
  }

  private seedState(key: readonly [number, number]): void {
    this.key = key;
    this.spare = null;
    const [lo, hi] = key;
    let st = lo ^ Math.imul(hi, 0x9e3779b1);
    let out: number;
    [st, out] = splitmix32(st); this.s0 = out | 0;
    [st, out] = splitmix32(st ^ hi); this.s1 = out | 0;
    [st, out] = splitmix32(st); this.s2 = out | 0;
    [st, out] = splitmix32(st); this.s3 = out | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
    for (let i = 0; i < 4; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Normal(mean, std) by Box–Muller; the second value of each pair is cached for the next call. */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== null) {
      z = this.spare;
      this.spare = null;
    } else {
      const u1 = 1 - this.next(); // (0, 1]: log never sees 0
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const th = 2 * Math.PI * u2;
      z = r * Math.cos(th);
      this.spare = r * Math.sin(th);
    }
    return mean + std * z;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n must be an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO32 - (TWO32 % n);
    let r: number;
    do r = this.nextUint32();
    while (r >= limit);
    return r % n;
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<A extends { length: number; [i: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * An independent deterministic sub-stream named by `label`. Depends only on this stream's seed
   * (and its ancestors' labels) and the label, not on how many numbers have been drawn.
   */
  fork(label: string | number): Rng {
    const l = String(label);
    const lo = hashString(l, this.key[0]);
    const hi = hashString(l, this.key[1] ^ 0x6a09e667) ^ lo;
    const r = new Rng(0);
    r.seedState([lo >>> 0, hi >>> 0]);
    return r;
  }

  /** Fill with Uniform[lo, hi) and return the array. */
  fillUniform<T extends Float32Array | Float64Array>(arr: T, lo = 0, hi = 1): T {
    const w = hi - lo;
    for (let i = 0; i < arr.length; i++) arr[i] = lo + w * (this.nextUint32() / TWO32);
    return arr;
  }

  /** Fill with Normal(mean, std) and return the array. */
  fillNormal<T extends Float32Array | Float64Array>(arr: T, mean = 0, std = 1): T {
    const n = arr.length;
    let i = 0;
    if (n > 0 && this.spare !== null) arr[i++] = this.normal(mean, std);
    // pairs inline (same numbers as repeated normal() calls, without the per-call overhead)
    for (; i + 1 < n; i += 2) {
      const u1 = 1 - this.nextUint32() / TWO32;
      const u2 = this.nextUint32() / TWO32;
      const r = Math.sqrt(-2 * Math.log(u1));
      const th = 2 * Math.PI * u2;
      arr[i] = mean + std * (r * Math.cos(th));
      arr[i + 1] = mean + std * (r * Math.sin(th));
    }
    if (i < n) arr[i] = this.normal(mean, std);
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
