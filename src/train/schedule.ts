/**
 * Learning-rate schedules as pure functions of the 0-based optimiser step: `lr(t)` is the rate used by
 * step t, i.e. the value a PyTorch scheduler has set after t calls of `scheduler.step()`. Closed forms of
 * `torch.optim.lr_scheduler` (1.13): CosineAnnealingLR, OneCycleLR (with its momentum / beta1 cycling),
 * LinearLR→CosineAnnealingLR warm-up (as SequentialLR chains them), StepLR and MultiStepLR.
 * Checked against PyTorch's own sequences in schedule.test.ts.
 */

/** The learning rate at a 0-based optimiser step. */
export type Schedule = (step: number) => number;

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`schedule: step must be an integer ≥ 0, got ${step}`);
}

function checkPositive(what: string, v: number, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(`schedule: ${what} must be a finite number ${allowZero ? '≥' : '>'} 0, got ${v}`);
  }
}

function checkCount(what: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`schedule: ${what} must be an integer ≥ ${min}, got ${v}`);
}

/** The same rate at every step. */
export function constant(lr: number): Schedule {
  checkPositive('lr', lr, true);
  return (step) => {
    checkStep(step);
    return lr;
  };
}

export interface CosineOptions {
  baseLr: number;
  /** Half-period in steps (PyTorch `T_max`). */
  tMax: number;
  /** Floor of the rate (PyTorch `eta_min`), default 0. */
  etaMin?: number;
}

/**
 * Cosine annealing, PyTorch CosineAnnealingLR's closed form:
 * `etaMin + (baseLr − etaMin)(1 + cos(π t / tMax)) / 2`. Like PyTorch it is periodic past `tMax`
 * (rises again); use `warmupCosine` for a schedule that stays at its floor.
 */
export function cosine(opts: CosineOptions): Schedule {
  const { baseLr, tMax } = opts;
  const etaMin = opts.etaMin ?? 0;
  checkPositive('baseLr', baseLr, true);
  checkPositive('etaMin', etaMin, true);
  checkCount('tMax', tMax);
  return (step) => {
    checkStep(step);
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * step) / tMax))) / 2;
  };
}

export interface OneCycleOptions {
  maxLr: number;
  totalSteps: number;
  /** Fraction of the cycle spent increasing the rate (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  anneal?: 'cos' | 'linear';
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial rate, then annihilation) instead of two (default false). */
  threePhase?: boolean;
  /** Momentum (SGD) or beta1 (Adam) at the peak rate (default 0.85). */
  baseMomentum?: number;
  /** Momentum at the ends of the cycle (default 0.95). */
  maxMomentum?: number;
}

export interface OneCycle {
  /** Learning rate at a step; defined for 0 ≤ step ≤ totalSteps (as PyTorch), RangeError beyond. */
  lr: Schedule;
  /** The cycled momentum (SGD momentum or Adam beta1) at a step, same domain. */
  momentum: Schedule;
  totalSteps: number;
  initialLr: number;
  minLr: number;
}

interface Phase {
  end: number;
  startLr: number;
  endLr: number;
  startM: number;
  endM: number;
}

/**
 * The 1cycle policy (Smith & Topin 2018) exactly as PyTorch's OneCycleLR computes it, defaults included
 * (pct_start 0.3, cosine annealing, div_factor 25, final_div_factor 1e4, two phases, momentum cycled
 * between 0.95 and 0.85 inversely to the rate). As in PyTorch, `step == totalSteps` (the scheduler step
 * after the last optimiser step) is allowed and extrapolates the last phase; larger steps are an error.
 */
export function oneCycle(opts: OneCycleOptions): OneCycle {
  const { maxLr, totalSteps } = opts;
  const pctStart = opts.pctStart ?? 0.3;
  const anneal = opts.anneal ?? 'cos';
  const divFactor = opts.divFactor ?? 25;
  const finalDivFactor = opts.finalDivFactor ?? 1e4;
  const baseM = opts.baseMomentum ?? 0.85;
  const maxM = opts.maxMomentum ?? 0.95;
  checkPositive('maxLr', maxLr, true);
  checkCount('totalSteps', totalSteps);
  if (!(pctStart >= 0 && pctStart <= 1)) throw new RangeError(`oneCycle: pctStart must be in [0, 1], got ${pctStart}`);
  if (anneal !== 'cos' && anneal !== 'linear') throw new RangeError(`oneCycle: anneal must be 'cos' or 'linear', got '${String(anneal)}'`);
  checkPositive('divFactor', divFactor);
  checkPositive('finalDivFactor', finalDivFactor);
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const phases: Phase[] = opts.threePhase
    ? [
        { end: pctStart * totalSteps - 1, startLr: initialLr, endLr: maxLr, startM: maxM, endM: baseM },
        { end: 2 * pctStart * totalSteps - 2, startLr: maxLr, endLr: initialLr, startM: baseM, endM: maxM },
        { end: totalSteps - 1, startLr: initialLr, endLr: minLr, startM: maxM, endM: maxM },
      ]
    : [
        { end: pctStart * totalSteps - 1, startLr: initialLr, endLr: maxLr, startM: maxM, endM: baseM },
        { end: totalSteps - 1, startLr: maxLr, endLr: minLr, startM: baseM, endM: maxM },
      ];
  const annealFn = anneal === 'cos'
    ? (start: number, end: number, pct: number) => end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1)
    : (start: number, end: number, pct: number) => (end - start) * pct + start;
  const at = (step: number, which: 'lr' | 'momentum'): number => {
    checkStep(step);
    if (step > totalSteps) {
      throw new RangeError(`oneCycle: tried to step ${step + 1} times; the specified number of total steps is ${totalSteps}`);
    }
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i]!;
      if (step <= ph.end || i === phases.length - 1) {
        const pct = (step - start) / (ph.end - start);
        return which === 'lr' ? annealFn(ph.startLr, ph.endLr, pct) : annealFn(ph.startM, ph.endM, pct);
      }
      start = ph.end;
    }
    throw new Error('unreachable');
  };
  return { lr: (s) => at(s, 'lr'), momentum: (s) => at(s, 'momentum'), totalSteps, initialLr, minLr };
}

export interface WarmupCosineOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Rate at step 0 as a fraction of baseLr (default 0: start from zero). */
  warmupStartFactor?: number;
  /** Floor reached at totalSteps and kept after it (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up from `warmupStartFactor·baseLr` to `baseLr` over `warmupSteps`, then cosine annealing to
 * `minLr` at `totalSteps`, held there after. For t < totalSteps this is PyTorch's
 * `SequentialLR([LinearLR(start_factor, total_iters=w), CosineAnnealingLR(T_max=total−w, eta_min)], [w])`.
 */
export function warmupCosine(opts: WarmupCosineOptions): Schedule {
  const { baseLr, warmupSteps: w, totalSteps: T } = opts;
  const s = opts.warmupStartFactor ?? 0;
  const minLr = opts.minLr ?? 0;
  checkPositive('baseLr', baseLr, true);
  checkPositive('minLr', minLr, true);
  checkCount('warmupSteps', w, 0);
  checkCount('totalSteps', T);
  if (w >= T) throw new RangeError(`warmupCosine: warmupSteps (${w}) must be < totalSteps (${T})`);
  if (!(s >= 0 && s <= 1)) throw new RangeError(`warmupCosine: warmupStartFactor must be in [0, 1], got ${s}`);
  return (step) => {
    checkStep(step);
    if (step < w) return baseLr * (s + ((1 - s) * step) / w);
    if (step >= T) return minLr;
    return minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * (step - w)) / (T - w)))) / 2;
  };
}

export type StepDecayOptions =
  | { baseLr: number; gamma?: number; stepSize: number }
  | { baseLr: number; gamma?: number; milestones: readonly number[] };

/**
 * Multiply the rate by `gamma` (default 0.1) every `stepSize` steps (PyTorch StepLR), or at each of the
 * given milestone steps (MultiStepLR). Steps are optimiser steps: to decay every E epochs,
 * pass `stepSize: E × stepsPerEpoch`.
 */
export function stepDecay(opts: StepDecayOptions): Schedule {
  const gamma = opts.gamma ?? 0.1;
  checkPositive('baseLr', opts.baseLr, true);
  checkPositive('gamma', gamma, true);
  const base = opts.baseLr;
  if ('stepSize' in opts) {
    const size = opts.stepSize;
    checkCount('stepSize', size);
    return (step) => {
      checkStep(step);
      return base * gamma ** Math.floor(step / size);
    };
  }
  const ms = [...opts.milestones].sort((a, b) => a - b);
  for (const m of ms) checkCount('milestone', m);
  return (step) => {
    checkStep(step);
    let k = 0;
    while (k < ms.length && ms[k]! <= step) k++;
    return base * gamma ** k;
  };
}
