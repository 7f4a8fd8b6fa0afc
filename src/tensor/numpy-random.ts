/**
 * NumPy's legacy generator (`np.random.RandomState(s)` / `np.random.seed(s)`, then `uniform`, `normal` /
 * `standard_normal`, `randint`) — MT19937 seeded by init_genrand, 53-bit doubles from two 32-bit draws, polar
 * Box–Muller with one cached deviate, masked rejection for bounded integers. Used where a reference draws from it
 * and candor must draw the same: scikit-learn's NMF initialisation (Deep Feature Factorization), and in the tests,
 * the noise Quantus drew. candor's own randomness is `tensor/rng.ts`.
 */
export class NumpyRandomState {
  private mt = new Uint32Array(624);
  private pos = 624;
  private gauss: number | null = null;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private generate(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.pos = 0;
  }

  nextUint32(): number {
    if (this.pos >= 624) this.generate();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `np.random.random_sample()`: (a·2^26 + b) / 2^53 with a = 27 bits, b = 26 bits. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  uniform(lo: number, hi: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.nextDouble();
    return out;
  }

  private gaussian(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.nextDouble() - 1;
      x2 = 2 * this.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }

  normal(mean: number, std: number, n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.gaussian();
    return out;
  }

  /** `np.random.randint(lo, hi, n)` for a range below 2^32: masked rejection on 32-bit draws. */
  randint(lo: number, hi: number, n: number): number[] {
    const rng = hi - lo - 1;
    let mask = rng;
    for (const s of [1, 2, 4, 8, 16]) mask |= mask >>> s;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (rng === 0) {
        out.push(lo);
        continue;
      }
      let v: number;
      do v = (this.nextUint32() & mask) >>> 0;
      while (v > rng);
      out.push(lo + v);
    }
    return out;
  }
}
