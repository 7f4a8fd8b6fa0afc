/**
 * The Node adapter: onnxruntime-node and the file system. Everything Node-only in the
 * engine lives here; the browser passes onnxruntime-web and bytes to `Model` instead.
 */
import { readFileSync, openSync, readSync, closeSync, existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { Model, type ModelOptions, type OrtApi } from './model.js';
import type { OrtSessionApi } from './session.js';
import { deviceError, providersFor, type Device } from './device.js';
import { ruleOptionsForWebGpu } from '../autodiff/rule.js';

/**
 * onnxruntime's intra-op threads when the caller sets none: every core this process may use. Left to
 * onnxruntime-node's own default, the small CNN trained at 514 img/s on this 2-core machine, with 2
 * threads at 818 img/s (`candor train`, PneumoniaMNIST 64×64); the benches always set it.
 */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

let device: Device = 'cpu';

/** The device every session of this process runs on unless it names its providers (`--device`; CANDOR_DEVICE for worker processes). */
export function setDevice(d: Device): void {
  device = d;
  ruleOptionsForWebGpu(d === 'webgpu');
}

export function currentDevice(): Device {
  return device;
}

const withThreads = (options?: InferenceSession.SessionOptions): InferenceSession.SessionOptions => ({
  ...options,
  intraOpNumThreads: options?.intraOpNumThreads || defaultThreads(),
  ...(device !== 'cpu' && !options?.executionProviders ? { executionProviders: providersFor(device) } : {}),
});

async function createSession(bytes: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, withThreads(options));
  } catch (e) {
    const line = device !== 'cpu' ? deviceError(device, (e as Error).message) : undefined;
    throw line ? new DeviceError(line) : e;
  }
}

/** A device that cannot run here (no adapter, no libraries): one line, said as it is. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** onnxruntime-node, with `defaultThreads()` for sessions that do not say how many threads, on the process's device. */
export const nodeOrt = {
  Tensor: ort.Tensor,
  InferenceSession: { create: createSession },
} as unknown as OrtApi & OrtSessionApi;

/**
 * The JSON card beside a model file (model.json beside model.onnx), or undefined when there is none or it
 * does not parse (the CLI reports bad cards where it needs them).
 */
export function readCardJson(modelPath: string): Record<string, unknown> | undefined {
  const card = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(card)) return undefined;
  try {
    const j = JSON.parse(readFileSync(card, 'utf8')) as unknown;
    return j && typeof j === 'object' ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The task a model card states ('multilabel' or 'single'), if any. */
function cardTask(path: string): 'single' | 'multilabel' | undefined {
  const t = readCardJson(path)?.task;
  return t === 'multilabel' || t === 'single' ? t : undefined;
}

/** The class or finding names a model card states, if any. */
export function cardClasses(modelPath: string): string[] | undefined {
  const c = readCardJson(modelPath)?.classes;
  return Array.isArray(c) && c.every((x) => typeof x === 'string') ? (c as string[]) : undefined;
}

/** Load an ONNX classifier from a file (external weight files beside it are found). */
export function loadModel(path: string, options: ModelOptions = {}): Model {
  if (!existsSync(path)) throw new Error(`${path}: no such model file`);
  const bytes = readFileSync(path);
  const dir = dirname(resolve(path));
  return Model.fromBytes(bytes, nodeOrt, {
    source: path,
    task: cardTask(path),
    ...options,
    parse: {
      readExternal: (location, offset, length) => {
        const file = resolve(dir, location);
        if (!existsSync(file)) throw new Error(`${path}: external weight file '${location}' not found beside the model`);
        // Inside the model's folder after following links (a string-prefix test let '../m-evil/w.bin' through).
        const rel = relative(realpathSync(dir), realpathSync(file));
        if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${path}: external data '${location}' points outside the model's folder`);
        const fd = openSync(file, 'r');
        try {
          const buf = new Uint8Array(length ?? 0);
          const got = readSync(fd, buf, 0, buf.length, offset);
          if (got !== buf.length) throw new Error(`${path}: external weight file '${location}' is truncated`);
          return buf;
        } finally {
          closeSync(fd);
        }
      },
      ...options.parse,
    },
  });
}

/** Load from bytes with onnxruntime-node. */
export function modelFromBytes(bytes: Uint8Array, options: ModelOptions = {}): Model {
  return Model.fromBytes(bytes, nodeOrt, options);
}
