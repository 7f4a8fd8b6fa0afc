/**
 * Input invariance (Kindermans et al. 2019; Quantus `InputInvariance`): shift every input element by a constant
 * (`shift`, default −1) and give the model's first layer a bias that cancels the shift, so the shifted model
 * on the shifted input computes exactly what the original computes on the original; an input-invariant method
 * gives the same map. Per image: true when every element agrees, |a − a'| ≤ 1e-4 + 1e-5·|a'| (NumPy's isclose,
 * atol 1e-4 as Quantus). Gradients pass, input × gradient and IG with a zero baseline fail.
 * The compensating bias is Quantus' (`add_mean_shift_to_first_layer`): the first Conv's output on a constant
 * input of value `shift`, c_o(p) = b_o + shift·Σ_{taps in the image} w_o, and b'_o = 2·b_o − min_p c_o(p) —
 * exact where every tap is inside the image (no padding); at padded borders the shift is not fully
 * cancelled, in Quantus as here. The first layer must be a 2-D Conv fed by the model's input, with constant
 * weights. normalise and abs false (Quantus' defaults).
 * Divergence: Quantus 0.6 leaves each image's first element unshifted (its `perturb_batch` passes the indices
 * `[1:]`, dropping index 0), so even a gradient fails its test wherever that pixel's change reaches the output;
 * candor shifts every element. `quantusFirstElement: true` reproduces Quantus (tested).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { attrInt, attrInts, attrString, cloneModel, constantValues, DataType } from '../../onnx/ir.js';

/** The map of inputs on a given model, for the given targets. */
export type ExplainOn = (model: Model, inputs: Tensor, targets: readonly number[]) => Promise<Tensor>;

/** The model with its first Conv's bias compensating an input shift (Quantus' add_mean_shift_to_first_layer). */
export function shiftCompensatedModel(model: Model, shift: number, spatial: readonly [number, number]): Model {
  const ir = cloneModel(model.ir);
  const g = ir.graph;
  const conv = g.nodes.find((nd) => nd.inputs[0] === model.inputName);
  if (!conv || conv.opType !== 'Conv') throw new Error(`${model.source}: input invariance needs a Conv as the first layer (fed by the input '${model.inputName}'); it is ${conv ? `a ${conv.opType}` : 'not found'}`);
  const wInit = g.initializers.get(conv.inputs[1] ?? '');
  if (!wInit || wInit.dims.length !== 4) throw new Error(`${model.source}: input invariance: the first Conv's weights must be a constant [O, C, kH, kW]`);
  const W = Array.from(wInit.data as ArrayLike<number>, Number);
  const [O, Cg, kh, kw] = wInit.dims as [number, number, number, number];
  const bias = conv.inputs[2] ? constantValues(g, conv.inputs[2], 1 << 20) : new Array<number>(O).fill(0);
  if (!bias) throw new Error(`${model.source}: input invariance: the first Conv's bias must be constant`);
  const autoPad = attrString(conv, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new Error(`${model.source}: input invariance: the first Conv's auto_pad ${autoPad} is not supported (explicit pads only)`);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : attrInts(conv, 'pads', [0, 0, 0, 0]);
  const [sh, sw] = attrInts(conv, 'strides', [1, 1]) as [number, number];
  const [dh, dw] = attrInts(conv, 'dilations', [1, 1]) as [number, number];
  const group = attrInt(conv, 'group', 1);
  void group; // a constant input makes every input channel alike: the sum over a group's Cg channels is all that matters
  const [H, Wd] = spatial;
  const oh = Math.floor((H + pads[0]! + pads[2]! - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((Wd + pads[1]! + pads[3]! - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    let min = Infinity;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let c = 0; c < Cg; c++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * sh - pads[0]! + ky * dh;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = x * sw - pads[1]! + kx * dw;
              if (ix < 0 || ix >= Wd) continue;
              s += W[((o * Cg + c) * kh + ky) * kw + kx]!;
            }
          }
        }
        min = Math.min(min, Math.fround(bias[o]! + Math.fround(shift * s)));
      }
    }
    out[o] = Math.fround(2 * bias[o]! - min);
  }
  const name = `${conv.inputs[2] || conv.name || 'conv'}_input_shift`;
  g.initializers.set(name, { name, dataType: DataType.FLOAT, dims: [O], data: out });
  const idx = g.nodes.indexOf(conv);
  g.nodes[idx] = { ...conv, inputs: [conv.inputs[0]!, conv.inputs[1]!, name] };
  return model.derive(ir, `${model.source} (first layer compensating an input shift of ${shift})`);
}

export async function inputInvariance(model: Model, x: Tensor, targets: readonly number[], a: Tensor, explainOn: ExplainOn, opts: { shift?: number; quantusFirstElement?: boolean } = {}): Promise<boolean[]> {
  if (x.shape.length !== 4) throw new Error(`input invariance: images [N, C, H, W] needed, got [${x.shape.join(', ')}]`);
  const shift = opts.shift ?? -1;
  const shifted = shiftCompensatedModel(model, shift, [x.shape[2]!, x.shape[3]!]);
  try {
    const per = x.data.length / x.shape[0]!;
    const xs = new Tensor(Float32Array.from(x.data, (v, i) => (opts.quantusFirstElement && i % per === 0 ? v : v + shift)), x.shape);
    const as = await explainOn(shifted, xs, targets);
    if (as.data.length !== a.data.length) throw new Error(`input invariance: the method gave ${as.data.length} values on the shifted input, ${a.data.length} on the original`);
    const n = x.shape[0]!;
    const pa = a.data.length / n;
    return Array.from({ length: n }, (_, i) => {
      for (let p = i * pa; p < (i + 1) * pa; p++) if (!(Math.abs(a.data[p]! - as.data[p]!) <= 1e-4 + 1e-5 * Math.abs(as.data[p]!))) return false;
      return true;
    });
  } finally {
    await shifted.dispose();
  }
}
