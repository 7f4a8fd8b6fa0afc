import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../tensor/tensor.js';
import { lesionVolumes, windowToUint8 } from './lesion-volumes.js';
import { injectShortcut, removeArtifact, tutorialShortcut } from './shortcut.js';

test('planted-lesion volumes: seeded, balanced, a mask exactly where a lesion was planted, nodule HU inside and lung HU around it', () => {
  const a = lesionVolumes({ count: 12, size: [24, 28, 32], seed: 5, noise: 0 });
  const b = lesionVolumes({ count: 12, size: [24, 28, 32], seed: 5, noise: 0 });
  assert.deepEqual(a.volumes, b.volumes, 'same seed, same volumes');
  assert.notDeepEqual(lesionVolumes({ count: 12, size: [24, 28, 32], seed: 6, noise: 0 }).labels, a.labels);
  assert.equal(a.labels.reduce((s, v) => s + v, 0), 6);
  const vox = 24 * 28 * 32;
  for (let i = 0; i < 12; i++) {
    const m = a.masks.subarray(i * vox, (i + 1) * vox);
    const v = a.volumes.subarray(i * vox, (i + 1) * vox);
    const inside = [...m.keys()].filter((q) => m[q]);
    assert.equal(inside.length > 0, a.labels[i] === 1, `volume ${i}: mask iff lesion`);
    if (!inside.length) continue;
    // the nodule's core is 35 HU (no noise here; its border is partly covered and mixed with lung)
    const l = a.lesions[i]!;
    const [z, y, x] = l.centre.map(Math.round) as [number, number, number];
    assert.equal(m[(z * 28 + y) * 32 + x], 1, 'the centre is in the mask');
    assert.ok(Math.abs(v[(z * 28 + y) * 32 + x]! - 35) < 1e-3, `volume ${i}: nodule core ${v[(z * 28 + y) * 32 + x]} HU`);
    assert.ok(inside.every((q) => v[q]! > -850 * 0.5 + 35 * 0.5 - 70), `volume ${i}: every mask voxel is at least half nodule`);
    // the nodule sits in a lung: a shell 1.5–2.5 voxels beyond its radius is mostly lung (−850 HU)
    let sum = 0;
    let k = 0;
    for (let zz = 0; zz < 24; zz++) for (let yy = 0; yy < 28; yy++) for (let xx = 0; xx < 32; xx++) {
      const d = Math.hypot(zz - l.centre[0], yy - l.centre[1], xx - l.centre[2]) - l.radius;
      if (d >= 1.5 && d <= 2.5) (sum += v[(zz * 28 + yy) * 32 + xx]!), k++;
    }
    assert.ok(sum / k < -300, `volume ${i}: the shell around the nodule averages ${(sum / k).toFixed(0)} HU, not lung`);
  }
  const u8 = windowToUint8(Float32Array.from([-1400, -1350, -600, 150, 1000]));
  assert.deepEqual(Array.from(u8), [0, 0, 128, 255, 255]);
});

test('the shortcut marker in volumes is a cube in a corner (class 1 at voxel 0, class 0 opposite), its mask [N, D, H, W]', () => {
  const x = new Tensor(Float32Array.from({ length: 2 * 8 * 10 * 12 }, (_, q) => Math.sin(q)), [2, 1, 8, 10, 12]);
  const r = injectShortcut(x, [1, 0], { perClass: tutorialShortcut(16, 8), seed: 1 });
  assert.deepEqual(r.mask.shape, [2, 8, 10, 12]);
  const m = r.mask.data;
  const at = (i: number, z: number, y: number, xx: number) => m[((i * 8 + z) * 10 + y) * 12 + xx];
  assert.equal(at(0, 0, 0, 0), 1);
  assert.equal(at(0, 7, 9, 11), 0);
  assert.equal(at(1, 7, 9, 11), 1);
  assert.equal(at(1, 0, 0, 0), 0);
  assert.equal(m.subarray(0, 8 * 10 * 12).reduce((s, v) => s + v, 0), 2 * 2 * 2, 'a 2-voxel cube (8 at 64, scaled to 16)');
  assert.throws(() => injectShortcut(x, [1, 0], { perClass: { 1: { kind: 'text', text: 'L' } } }), /text markers are 2-D/);
  // the marker is the volume's maximum, and removing it restores the volume
  assert.equal(r.images.data[0], Math.max(...Array.from(x.data.subarray(0, 960))));
  const back = removeArtifact(r.images, r.mask, x);
  assert.deepEqual(back.data, x.data);
});
