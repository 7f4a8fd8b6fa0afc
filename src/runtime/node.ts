/**
 * The Node adapter: onnxruntime-node and the file system. Everything Node-only in the
 * engine lives here; the browser passes onnxruntime-web and bytes to `Model` instead.
 */
import { readFileSync, openSync, readSync, closeSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Model, type ModelOptions, type OrtApi } from './model.js';

export const nodeOrt = ort as unknown as OrtApi;

/** Load an ONNX classifier from a file (external weight files beside it are found). */
export function loadModel(path: string, options: ModelOptions = {}): Model {
  if (!existsSync(path)) throw new Error(`${path}: no such model file`);
  const bytes = readFileSync(path);
  const dir = dirname(resolve(path));
  return Model.fromBytes(bytes, nodeOrt, {
    source: path,
    ...options,
    parse: {
      readExternal: (location, offset, length) => {
        const file = resolve(dir, location);
        if (!file.startsWith(dir)) throw new Error(`${path}: external data '${location}' points outside the model's folder`);
        if (!existsSync(file)) throw new Error(`${path}: external weight file '${location}' not found beside the model`);
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
