/**
 * `candor devices`: where each node of candor's graphs for a model runs on a device — the forward pass,
 * the input-gradient (VJP) graph every gradient method runs, a Grad-CAM graph (layer activations and
 * their gradients) and the training graph — as onnxruntime places them, by op type.
 */
import { existsSync } from 'node:fs';
import { parse } from './args.js';
import { loadModel, currentDevice } from '../runtime/node.js';
import { BUNDLED_MODEL } from '../audit/context.js';
import { buildVjp } from '../autodiff/vjp.js';
import { buildTrainingGraph } from '../train/graph.js';
import { placements, placementChild, type Placement } from '../runtime/placement.js';
import { parseDevice, DEVICES } from '../runtime/device.js';

export const DEVICES_USAGE = `usage: candor devices --device ${DEVICES.filter((d) => d !== 'cpu').join('|')} [--model m.onnx]

Lists, for the model's forward graph, its input-gradient graph (saliency, IG, SmoothGrad, …), its
Grad-CAM graph and its training graph, how many nodes onnxruntime runs on the device's execution
provider and which fall back to the CPU provider (by op type). --device is every command's option;
here it is required. Default model: the bundled baseline.`;

export async function devicesCommand(argv: string[]): Promise<void> {
  if (argv[0] === '--placement-child') return placementChild(parseDevice(argv[1]!), argv[2]!);
  const { values: v } = parse(argv, { model: { type: 'string' } }, DEVICES_USAGE);
  const device = currentDevice();
  if (device === 'cpu') throw new Error(`give --device ${DEVICES.filter((d) => d !== 'cpu').join(' or ')}: on the CPU every node runs on the CPU provider`);
  const path = v.model ?? BUNDLED_MODEL;
  if (!existsSync(path)) throw new Error(`${path}: no such model file`);
  const model = loadModel(path);
  try {
    const spatial = model.inputShape.slice(2).map((d) => (typeof d === 'number' ? d : 64));
    const c = typeof model.inputShape[1] === 'number' ? model.inputShape[1] : 1;
    const inputShapes = { [model.inputName]: [1, c, ...spatial] };
    const layer = model.resolveLayer();
    const layerName = model.layers().find((l) => l.tensor === layer)?.module ?? layer;
    const graphs = [
      { name: 'forward', model: model.ir },
      { name: 'input gradient (VJP)', model: buildVjp(model.ir, { wrt: [model.inputName], source: path, inputShapes }).model },
      { name: `Grad-CAM (${layerName})`, model: buildVjp(model.ir, { wrt: [layer], expose: [layer], source: path, inputShapes }).model },
    ];
    try {
      graphs.push({ name: 'training', model: buildTrainingGraph(model.ir, { task: model.multiLabel ? 'multi' : 'single', imageShape: [c, ...spatial], source: path }).model });
    } catch (e) {
      console.log(`training graph: not built (${(e as Error).message.split('\n')[0]})`);
    }
    const entry = process.argv[1]!;
    const result = await placements(graphs, device, { execArgv: process.execArgv, entry });
    for (const p of result) console.log(formatPlacement(p));
  } finally {
    await model.dispose();
  }
}

export function formatPlacement(p: Placement): string {
  if (p.error) return `${p.graph}: no session (${p.error})`;
  const parts = Object.entries(p.byProvider).map(([prov, ops]) => {
    const n = Object.values(ops).reduce((a, b) => a + b, 0);
    const list = Object.entries(ops).filter(([op]) => op !== '(all)');
    return `${n} on ${prov.replace('ExecutionProvider', '')}${list.length ? ` (${list.sort((a, b) => b[1] - a[1]).map(([op, k]) => `${op} ${k}`).join(', ')})` : ''}`;
  });
  return `${p.graph}: ${p.nodes} nodes — ${parts.join('; ')}`;
}
