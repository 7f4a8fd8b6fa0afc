/**
 * Verdicts that cannot mislead (issue 14): a degenerate quick audit — sanity models trained for one epoch,
 * which learn nothing — must say "not meaningful" for the data randomization and both shortcut items, with
 * the reason and what to change, and no sentence of its report may claim a finding its numbers do not show
 * (the marker "learned", the tutorial "reproduced", maps "different, as they should be").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from './run.js';

test('a degenerate quick audit (sanity models that learned nothing) gives "not meaningful", never pass or fail, and no unsupported sentence', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-degenerate-'));
  const out = join(dir, 'report');
  const r = await runAudit({
    data: 'pneumoniamnist',
    methods: ['saliency', 'ig', 'occlusion', 'gradcam'],
    n: 12,
    nRandomization: 4,
    nStability: 4,
    shortcut: 'corner:8',
    epochs: { randomLabels: 1, shortcut: 1 },
    trainLimit: 200,
    tests: ['performance', 'data-randomization', 'shortcut'],
    seed: 0,
    quiet: true,
    out,
    force: false,
  });
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  // The run is degenerate, as the test assumes: the random-label model did not memorise, the shortcut model
  // did not learn its marker. (If a change makes one epoch enough, pick a harder recipe here.)
  assert.ok(results.sections['data-randomization'].model.trainAccuracy < 0.95, 'the random-label model memorised in one epoch');
  assert.ok(results.sections.shortcut.markedSample.balancedAccuracy < 0.95, 'the shortcut model learned its marker in one epoch');
  const verdict = (id: string) => r.checklist.find((c) => c.id === id)!;
  for (const id of ['data-randomization', 'shortcut-learned', 'shortcut-revealed']) {
    assert.equal(verdict(id).verdict, 'not meaningful', `${id}: ${JSON.stringify(verdict(id))}`);
    assert.match(verdict(id).why, /--epochs|--shortcut|--train-limit/, `${id} says what to change`);
  }
  assert.equal(verdict('random-labels-chance').verdict, 'warn');
  assert.match(verdict('random-labels-chance').why, /not memorised/);
  const text = readFileSync(join(out, 'index.html'), 'utf8').replace(/data:[^"')]+/g, '');
  assert.doesNotMatch(text, /the drop of [\d.]+ is what it learned from the marker/);
  assert.doesNotMatch(text, /this run (reproduces|agrees)/);
  assert.doesNotMatch(text, /different, as it should be/);
  assert.doesNotMatch(text, /Methods at ≥ \d+× the marker's area show the shortcut/);
  assert.match(text, /it did not learn to rely on the marker/);
  assert.match(text, /These shares say nothing about the methods on this run/);
  assert.match(text, /Not meaningful on this run: it has not memorised/);
});

test('constant maps: a similarity over fewer than 3 non-constant images is not read, and with none left the verdict is "not meaningful"', async () => {
  const { randomizationVerdict, similarityLevel, similarityValue, MIN_COUNTED } = await import('./sections/model-randomization.js');
  // the checklist value never shows an interval over fewer than MIN_COUNTED images (the 16³ Grad-CAM case: n = 2)
  assert.equal(similarityValue('gradcam', { mean: -0.5, lo: -2.09, hi: 1.09, n: 2 }), 'gradcam not measured (2 of the images had non-constant maps; 3 needed)');
  assert.equal(similarityValue('ig', { mean: 0.12, lo: 0.05, hi: 0.19, n: 24 }), 'ig 0.12 [0.05, 0.19]');
  assert.equal(MIN_COUNTED, 3);
  assert.equal(similarityLevel({ mean: NaN, n: 0 }), 'unmeasured');
  assert.equal(similarityLevel({ mean: 0.9, n: 2 }), 'unmeasured');
  assert.equal(similarityLevel({ mean: 0.9, n: 3 }), 'strong');
  assert.equal(randomizationVerdict([{ mean: NaN, n: 0 }, { mean: 0.95, n: 1 }]), 'not meaningful');
  assert.equal(randomizationVerdict([{ mean: NaN, n: 0 }, { mean: 0.1, n: 12 }]), 'pass');
  assert.equal(randomizationVerdict([{ mean: 0.45, n: 12 }, { mean: 0.1, n: 12 }]), 'warn');
});

test('faithfulness: when blurring the whole image barely moves the probability, deletion and insertion are "not meaningful", never fail', async () => {
  const { faithfulnessVerdict, MIN_ROOM } = await import('./sections/faithfulness.js');
  const none = [{ del: false, ins: false }];
  assert.equal(faithfulnessVerdict(MIN_ROOM / 2, none), 'not meaningful');
  assert.equal(faithfulnessVerdict(NaN, none), 'not meaningful');
  assert.equal(faithfulnessVerdict(0.5, none), 'fail');
  assert.equal(faithfulnessVerdict(0.5, [{ del: true, ins: false }, { del: false, ins: false }]), 'warn');
  assert.equal(faithfulnessVerdict(0.5, [{ del: true, ins: true }]), 'pass');
});

test('metrics against controls: intervals must not overlap; pass needs every method above every control on half the faithfulness metrics; too few images is "not meaningful"', async () => {
  const { beats, controlsVerdict } = await import('./sections/metrics.js');
  const def = { id: 'x', name: 'x', family: 'faithfulness' as const, higherIsBetter: true, about: '' };
  const ci = (mean: number, lo: number, hi: number, n = 10) => ({ mean, lo, hi, n, dropped: 0, level: 0.95, method: 't' as const });
  assert.equal(beats(def, ci(0.5, 0.4, 0.6), ci(0.1, 0, 0.2)), true);
  assert.equal(beats(def, ci(0.5, 0.15, 0.6), ci(0.1, 0, 0.2)), false, 'overlapping intervals');
  assert.equal(beats({ ...def, higherIsBetter: false }, ci(0.1, 0, 0.2), ci(0.5, 0.4, 0.6)), true);
  assert.equal(beats(def, ci(NaN, NaN, NaN), ci(0.1, 0, 0.2)), false, 'an unmeasured score beats nothing');
  assert.equal(controlsVerdict(16, [4, 5], 7), 'pass');
  assert.equal(controlsVerdict(16, [4, 1], 7), 'warn');
  assert.equal(controlsVerdict(16, [0, 0], 7), 'fail');
  assert.equal(controlsVerdict(2, [7, 7], 7), 'not meaningful');
  assert.equal(controlsVerdict(16, [], 7), 'not meaningful');
});

test('degenerate runs: the metrics and localisation checks say "not meaningful" when the model does not react to removing the image or every map is constant', async () => {
  const { controlsVerdict } = await import('./sections/metrics.js');
  const { localisationVerdict } = await import('./sections/localisation.js');
  assert.equal(controlsVerdict(16, [4, 5], 7, 0.02), 'not meaningful', 'a model whose output does not move when the image is removed');
  assert.equal(controlsVerdict(16, [4, 5], 7, 0.5), 'pass');
  assert.equal(localisationVerdict(10, []), 'not meaningful', 'every method’s maps constant');
  assert.equal(localisationVerdict(2, [true]), 'not meaningful');
  assert.equal(localisationVerdict(10, [true, false]), 'warn');
});

test('a model that learned nothing (zero weights): the metrics and localisation checks are "not meaningful", with the reason', async () => {
  const { writeFileSync } = await import('node:fs');
  const { linearClassifierIR } = await import('../testing/linear-model.js');
  const { serializeModel } = await import('../onnx/proto.js');
  const dir = mkdtempSync(join(tmpdir(), 'candor-dead-model-'));
  const model = join(dir, 'dead.onnx');
  writeFileSync(model, serializeModel(linearClassifierIR(1, 64, 64, 2, new Float32Array(2 * 64 * 64), Float32Array.from([0.3, -0.3]))));
  const r = await runAudit({ model, data: 'pneumoniamnist', scale: 'pm1', methods: ['saliency'], n: 4, nRandomization: 2, nStability: 2, shortcut: 'corner:8', masks: 'box:20,20,16,16', epochs: { randomLabels: 1, shortcut: 1 }, tests: ['metrics', 'localisation'], seed: 0, quiet: true, out: join(dir, 'report'), force: false });
  for (const id of ['metrics-controls', 'localisation']) {
    const c = r.checklist.find((x) => x.id === id)!;
    assert.equal(c.verdict, 'not meaningful', `${id}: ${JSON.stringify(c)}`);
    assert.match(c.why, /Not meaningful: (setting the whole image|every method gave constant maps)/);
    assert.match(c.value!, /saliency: not measured \(its maps are constant\)/);
  }
});

test('control maps: a method is "as similar as a control" only when its interval reaches a measured control’s; the faithfulness sentence names which control each curve beats', async () => {
  const { asSimilarAsAControl } = await import('./sections/model-randomization.js');
  const { controlSentence } = await import('./sections/faithfulness.js');
  const s = (mean: number, lo: number, hi: number, n = 12) => ({ mean, lo, hi, n });
  const controls = {
    random: { spearmanAbs: s(1, 1, 1), spearman: s(1, 1, 1), pearson: s(1, 1, 1), ssim: s(1, 1, 1), hog: s(1, 1, 1) },
    constant: { spearmanAbs: s(NaN, NaN, NaN, 0), spearman: s(NaN, NaN, NaN, 0), pearson: s(NaN, NaN, NaN, 0), ssim: s(1, 1, 1), hog: s(1, 1, 1) },
  };
  assert.equal(asSimilarAsAControl(s(0.2, 0.1, 0.3), controls), undefined);
  assert.equal(asSimilarAsAControl(s(0.97, 0.94, 1), controls), 'random');
  assert.equal(asSimilarAsAControl(s(0.99, 0.9, 1, 2), controls), undefined, 'an unmeasured method is not compared');
  assert.equal(controlSentence({ delRandom: true, insRandom: true, delSobel: true, insSobel: true }), 'better than both controls on both curves.');
  assert.equal(controlSentence({ delRandom: true, insRandom: false, delSobel: false, insSobel: false }), 'better than a random order on deletion only, than Sobel edges on neither curve.');
});

test('constant maps are "not measured" in the faithfulness and shortcut checks; when every method’s are, the check is "not meaningful"', async () => {
  const { faithfulnessVerdict } = await import('./sections/faithfulness.js');
  const { shortcutVerdict } = await import('./sections/shortcut.js');
  assert.equal(faithfulnessVerdict(0.5, [{ del: false, ins: false, constant: true }]), 'not meaningful');
  assert.equal(faithfulnessVerdict(0.5, [{ del: false, ins: false, constant: true }, { del: true, ins: true }]), 'pass');
  assert.equal(faithfulnessVerdict(0.5, [{ del: false, ins: false, constant: false }, { del: true, ins: true }]), 'warn');
  assert.equal(shortcutVerdict(true, [{ shows: false, constant: true }]), 'not meaningful');
  assert.equal(shortcutVerdict(false, [{ shows: true, constant: false }]), 'not meaningful');
  assert.equal(shortcutVerdict(true, [{ shows: false, constant: true }, { shows: true, constant: false }]), 'pass');
  assert.equal(shortcutVerdict(true, [{ shows: false, constant: false }, { shows: true, constant: false }]), 'warn');
  assert.equal(shortcutVerdict(true, [{ shows: false, constant: false }]), 'fail');
});

test('a model that learned nothing (zero weights): faithfulness, stability and model randomization are "not meaningful", with the reason', async () => {
  const { writeFileSync } = await import('node:fs');
  const { linearClassifierIR } = await import('../testing/linear-model.js');
  const { serializeModel } = await import('../onnx/proto.js');
  const dir = mkdtempSync(join(tmpdir(), 'candor-dead-model-'));
  const model = join(dir, 'dead.onnx');
  writeFileSync(model, serializeModel(linearClassifierIR(1, 64, 64, 2, new Float32Array(2 * 64 * 64), Float32Array.from([0.3, -0.3]))));
  const r = await runAudit({ model, data: 'pneumoniamnist', scale: 'pm1', methods: ['saliency'], n: 4, nRandomization: 3, nStability: 3, shortcut: 'corner:8', epochs: { randomLabels: 1, shortcut: 1 }, tests: ['faithfulness', 'stability', 'model-randomization'], seed: 0, quiet: true, out: join(dir, 'report'), force: false });
  for (const id of ['faithfulness', 'stability', 'model-randomization']) {
    const c = r.checklist.find((x) => x.id === id)!;
    assert.equal(c.verdict, 'not meaningful', `${id}: ${JSON.stringify(c)}`);
  }
});
