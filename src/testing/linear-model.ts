/** Test support: a linear classifier logits = Gemm(Flatten(x), W) (+ b) on [N,C,H,W] input, for closed forms. */
import { DataType, type Model as IRModel } from '../onnx/ir.js';

/**
 * `W` is [k, c·h·w] (`layout: 'kd'`, Gemm transB = 1, as torch.nn.Linear stores it) or [c·h·w, k]
 * (`'dk'`); `b` is optional.
 */
export function linearClassifierIR(c: number, h: number, w: number, k: number, W: Float32Array, b?: Float32Array, layout: 'kd' | 'dk' = 'kd'): IRModel {
  const d = c * h * w;
  if (W.length !== d * k) throw new Error(`linearClassifierIR: W has ${W.length} values, expected ${d}×${k}`);
  const inits: [string, { name: string; dataType: number; dims: number[]; data: Float32Array }][] = [['W', { name: 'W', dataType: DataType.FLOAT, dims: layout === 'kd' ? [k, d] : [d, k], data: W }]];
  if (b) inits.push(['b', { name: 'b', dataType: DataType.FLOAT, dims: [k], data: b }]);
  return {
    irVersion: 8,
    opsets: new Map([['', 17]]),
    producerName: 'candor-test',
    producerVersion: '',
    graph: {
      name: 'linear',
      nodes: [
        { opType: 'Flatten', domain: '', name: 'flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: { type: 'int', value: 1 } } },
        { opType: 'Gemm', domain: '', name: 'gemm', inputs: b ? ['f', 'W', 'b'] : ['f', 'W'], outputs: ['y'], attrs: layout === 'kd' ? { transB: { type: 'int', value: 1 } } : {} },
      ],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', c, h, w] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', k] }],
      initializers: new Map(inits),
      valueInfo: new Map(),
    },
    passthrough: {},
  };
}
