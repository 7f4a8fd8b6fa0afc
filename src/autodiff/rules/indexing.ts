/**
 * Backward rules for indexed reads and writes and other fixed rearrangements:
 *
 *  GatherND        dX = ScatterND(zeros(X), I, dY, reduction 'add')   (batch_dims 0)
 *  ScatterND       dX = dY with the written positions zeroed (ScatterND(dY, I, 0)); dUpdates = GatherND(dY, I)
 *                  (reduction 'add': dX = dY)
 *  ScatterElements the same with ScatterElements / GatherElements along the axis
 *  Trilu           dX = Trilu(dY) (the same triangle)
 *  CumSum          dX = CumSum(dY) in the other direction (exclusive stays exclusive)
 *  DepthToSpace / SpaceToDepth   the inverse rearrangement
 */
import { A, attrInt, attrString } from '../../onnx/ir.js';
import type { RuleContext, RuleSet } from '../rule.js';

const zerosOf = (c: RuleContext, name: string) => c.zerosLike(name);

export const indexingRules: RuleSet = {
  GatherND: (c) => {
    if (!c.needs[0]) return [];
    if (attrInt(c.node, 'batch_dims', 0) !== 0) c.fail('GatherND with batch_dims > 0 has no backward rule yet');
    const [x, ind] = c.node.inputs as [string, string];
    return [c.b.op('ScatterND', [zerosOf(c, x), ind, c.dy[0]!], { reduction: A.s('add') })];
  },

  ScatterND: (c) => {
    const [, ind, upd] = c.node.inputs as [string, string, string];
    const red = attrString(c.node, 'reduction', 'none');
    if (red !== 'none' && red !== 'add') c.fail(`ScatterND with reduction '${red}' has no backward rule`);
    const dy = c.dy[0]!;
    const out: (string | undefined)[] = [];
    if (c.needs[0]) out[0] = red === 'add' ? dy : c.b.op('ScatterND', [dy, ind, zerosOf(c, upd)]);
    if (c.needs[2]) out[2] = c.b.op('GatherND', [dy, ind]);
    return out;
  },

  ScatterElements: (c) => {
    const [, ind, upd] = c.node.inputs as [string, string, string];
    const red = attrString(c.node, 'reduction', 'none');
    if (red !== 'none' && red !== 'add') c.fail(`ScatterElements with reduction '${red}' has no backward rule`);
    const axis = A.i(attrInt(c.node, 'axis', 0));
    const dy = c.dy[0]!;
    const out: (string | undefined)[] = [];
    if (c.needs[0]) out[0] = red === 'add' ? dy : c.b.op('ScatterElements', [dy, ind, zerosOf(c, upd)], { axis });
    if (c.needs[2]) out[2] = c.b.op('GatherElements', [dy, ind], { axis });
    return out;
  },

  Trilu: (c) => {
    const k = c.node.inputs[1];
    return [c.b.op('Trilu', k ? [c.dy[0]!, k] : [c.dy[0]!], { upper: A.i(attrInt(c.node, 'upper', 1)) })];
  },

  CumSum: (c) => {
    const axis = c.node.inputs[1]!;
    const attrs = { exclusive: A.i(attrInt(c.node, 'exclusive', 0)), reverse: A.i(1 - attrInt(c.node, 'reverse', 0)) };
    return [c.b.op('CumSum', [c.dy[0]!, axis], attrs)];
  },

  /** DCR: SpaceToDepth is the inverse; CRD: dY [N, C, H·b, W·b] → [N, C, H, b, W, b] → [N, C, b, b, H, W]. */
  DepthToSpace: (c) => {
    const bs = attrInt(c.node, 'blocksize', 1);
    const mode = attrString(c.node, 'mode', 'DCR');
    if (mode === 'DCR') return [c.b.op('SpaceToDepth', [c.dy[0]!], { blocksize: A.i(bs) })];
    const [, ch, h, w] = c.staticDims(c.node.inputs[0]!);
    const C = ch! / (bs * bs);
    const b = c.b;
    const r = b.op('Reshape', [c.dy[0]!, b.int64([-1, C, h!, bs, w!, bs])]);
    const t = b.op('Transpose', [r], { perm: A.ints([0, 1, 3, 5, 2, 4]) });
    return [b.op('Reshape', [t, b.int64([-1, ch!, h!, w!])])];
  },

  SpaceToDepth: (c) => [c.b.op('DepthToSpace', [c.dy[0]!], { blocksize: A.i(attrInt(c.node, 'blocksize', 1)), mode: A.s('DCR') })],
};
