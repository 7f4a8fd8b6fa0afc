/** `candor layers`: the layers of a model that can be explained, with their shapes. */
import { loadModel } from '../runtime/node.js';
import { parse, required } from './args.js';

const USAGE = `usage: candor layers --model m.onnx

Lists the layers of a model that CAM methods can use (module path, op, output shape, tensor name; the
default layer marked) and, for transformers, the attention maps rollout and relevance read.`;

export async function layersCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { model: { type: 'string' } }, USAGE);
  const model = loadModel(required(values.model, '--model', USAGE));
  await model.learnShapes();
  const auto = model.resolveLayer();
  console.log(`input '${model.inputName}' [${model.inputShape.join(', ')}], ${model.numClasses} classes`);
  for (const note of model.adaptations()) console.log(note);
  for (const l of model.layers()) {
    const mark = l.tensor === auto ? '  (default for CAM methods)' : '';
    const layout = l.layout === 'nchw' ? '' : `  (${l.layout === 'tokens' ? 'tokens, folded to a grid' : 'channels-last'})`;
    console.log(`${(l.module ?? '').padEnd(28)} ${l.opType.padEnd(18)} [${l.shape.join(', ')}]  ${l.tensor}${mark}${layout}`);
  }
  const att = model.attentionMaps();
  if (att.length) {
    console.log(`attention maps (for attention rollout and relevance):`);
    for (const a of att) console.log(`${(a.module ?? '').padEnd(28)} Softmax            ${a.tokens}×${a.tokens} tokens, ${a.heads ?? '?'} heads  ${a.tensor}`);
  }
}
