/**
 * A small progress reporter for long loops (training epochs, batched attribution), no dependencies.
 *
 * - On a TTY: one line rewritten in place with `\r` — label, bar, i/n, rate, elapsed, ETA and the
 *   caller's fields (loss, acc, …) — at most every `redrawMs`, clipped to the terminal width.
 * - Otherwise (CI, log files): a plain line each time another `everyFraction` of the work is done (10% by
 *   default) or `intervalMs` has passed since the last line, whichever comes first — but none in the
 *   first `quietMs` (5 s): a short loop (one epoch of a small model) prints only its final line.
 * - Rates and ETAs are shown once 0.2 s have passed (the first update's rate is meaningless).
 * - `silent: true` prints nothing.
 *
 * The stream and the clock are injectable (tests, or a server forwarding progress).
 */

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressFields = Record<string, number | string | undefined>;

export interface ProgressOptions {
  /** Total number of units (batches, images, …). */
  total: number;
  /** Printed first, e.g. 'epoch 3/10'. */
  label?: string;
  /** Unit for the rate ('it' by default: "12.5 it/s"). */
  unit?: string;
  /** Where to write (default process.stderr). */
  stream?: ProgressStream;
  /** Overrides the stream's own `isTTY`. */
  tty?: boolean;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
  /** Print nothing. */
  silent?: boolean;
  /** Non-TTY: print when another this fraction is done (default 0.1). */
  everyFraction?: number;
  /** Non-TTY: also print when this many ms have passed since the last line (default 30 000). */
  intervalMs?: number;
  /** Non-TTY: no intermediate lines during the first this many ms (default 5 000). */
  quietMs?: number;
  /** TTY: minimum ms between redraws (default 100). */
  redrawMs?: number;
  /** TTY: bar width in characters (default 20). */
  barWidth?: number;
}

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Integers as they are; other numbers with 4 significant digits (exponent form when tiny or huge). */
export function formatField(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function formatRate(perSecond: number, unit: string): string {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return `? ${unit}/s`;
  if (perSecond < 1) return `${(1 / perSecond).toFixed(1)} s/${unit}`;
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)} ${unit}/s`;
}

export class Progress {
  readonly total: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly stream: ProgressStream | undefined;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly everyFraction: number;
  private readonly intervalMs: number;
  private readonly quietMs: number;
  private readonly redrawMs: number;
  private readonly barWidth: number;
  private readonly start: number;
  private current = 0;
  private fields: ProgressFields = {};
  private lastPrint: number;
  private lastBucket = 0;
  private finished = false;
  private drawn = false;

  constructor(opts: ProgressOptions) {
    if (!Number.isFinite(opts.total) || opts.total < 0) throw new Error(`Progress: total must be a finite number ≥ 0, got ${opts.total}`);
    this.total = opts.total;
    this.label = opts.label ?? '';
    this.unit = opts.unit ?? 'it';
    this.stream = opts.silent ? undefined : opts.stream ?? process.stderr;
    this.tty = opts.tty ?? this.stream?.isTTY ?? false;
    this.now = opts.now ?? (() => performance.now());
    this.everyFraction = opts.everyFraction ?? 0.1;
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.quietMs = opts.quietMs ?? 5_000;
    this.redrawMs = opts.redrawMs ?? 100;
    this.barWidth = opts.barWidth ?? 20;
    if (!(this.everyFraction > 0 && this.everyFraction <= 1)) throw new Error(`Progress: everyFraction must be in (0, 1], got ${this.everyFraction}`);
    this.start = this.now();
    this.lastPrint = this.start;
  }

  /** Units done so far. */
  get done(): number {
    return this.current;
  }

  /** Advance by `n` units (default 1), optionally replacing displayed fields. */
  tick(n = 1, fields?: ProgressFields): void {
    this.update(this.current + n, fields);
  }

  /** Set the number of units done (absolute) and optionally the displayed fields (merged). */
  update(done: number, fields?: ProgressFields): void {
    if (this.finished) return;
    this.current = Math.min(Math.max(done, 0), this.total);
    if (fields) this.fields = { ...this.fields, ...fields };
    if (!this.stream) return;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastPrint >= this.redrawMs || !this.drawn) this.draw(t);
      return;
    }
    const bucket = this.total > 0 ? Math.floor(this.current / this.total / this.everyFraction + 1e-9) : 0;
    if (bucket > this.lastBucket || t - this.lastPrint >= this.intervalMs) {
      this.lastBucket = Math.max(bucket, this.lastBucket);
      if (this.current < this.total && t - this.start >= this.quietMs) this.line(t); // the final line is finish()'s
    }
  }

  /** Print the final state (a newline on a TTY) and stop; later updates are ignored. */
  finish(fields?: ProgressFields): void {
    if (this.finished) return;
    if (fields) this.fields = { ...this.fields, ...fields };
    this.finished = true;
    if (!this.stream) return;
    const t = this.now();
    if (this.tty) {
      this.draw(t);
      this.stream.write('\n');
    } else {
      this.line(t);
    }
  }

  /** The status text without bar or control characters (also what non-TTY lines print). */
  text(t = this.now()): string {
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed >= 0.2 ? this.current / elapsed : NaN;
    const remaining = this.total - this.current;
    const eta = remaining === 0 ? 0 : rate > 0 ? remaining / rate : NaN;
    const pct = this.total > 0 ? Math.floor((100 * this.current) / this.total) : 100;
    const parts = [
      `${this.current}/${this.total}`,
      `(${pct}%)`,
      formatRate(rate, this.unit),
      `elapsed ${formatDuration(elapsed)}`,
      this.finished || remaining === 0 ? '' : `ETA ${formatDuration(eta)}`,
      ...Object.entries(this.fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${formatField(v!)}`),
    ].filter((s) => s !== '');
    return (this.label ? `${this.label} ` : '') + parts.join(' ');
  }

  private line(t: number): void {
    this.lastPrint = t;
    this.stream!.write(this.text(t) + '\n');
  }

  private draw(t: number): void {
    this.lastPrint = t;
    this.drawn = true;
    const frac = this.total > 0 ? this.current / this.total : 1;
    const full = Math.round(frac * this.barWidth);
    const bar = `[${'#'.repeat(full)}${'-'.repeat(this.barWidth - full)}]`;
    const text = this.text(t);
    const body = this.label ? `${this.label} ${bar} ${text.slice(this.label.length + 1)}` : `${bar} ${text}`;
    const cols = this.stream!.columns;
    const clipped = cols && cols > 1 && body.length > cols - 1 ? body.slice(0, cols - 1) : body;
    this.stream!.write(`\r${clipped}\x1b[K`);
  }
}

/** Shorthand: `const p = progress({ total: batches, label: 'epoch 1/10' }); … p.tick(1, { loss }); p.finish();` */
export function progress(opts: ProgressOptions): Progress {
  return new Progress(opts);
}
