import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLORMAP_NAMES, applyColormap, colorAt, getColormap, hexAt, lutIndex } from './colormap.js';

// Reference values from matplotlib 3.6 (`matplotlib.colormaps[name](x)[:3]`).
const REF: [string, number, [number, number, number]][] = [
  ['jet', 0, [0, 0, 0.5]],
  ['jet', 0.1, [0, 0, 0.945633]],
  ['jet', 0.25, [0, 0.503922, 1]],
  ['jet', 0.5, [0.490196, 1, 0.477546]],
  ['jet', 0.77, [1, 0.509078, 0]],
  ['jet', 1, [0.5, 0, 0]],
  ['viridis', 0.25, [0.229739, 0.322361, 0.545706]],
  ['viridis', 0.5, [0.127568, 0.566949, 0.550556]],
  ['inferno', 0.5, [0.735683, 0.215906, 0.330245]],
  ['inferno', 1, [0.988362, 0.998364, 0.644924]],
  ['turbo', 0, [0.18995, 0.07176, 0.23217]],
  ['turbo', 0.5, [0.64362, 0.98999, 0.23356]],
  ['turbo', 1, [0.4796, 0.01583, 0.01055]],
  ['bwr', 0.1, [0.196078, 0.196078, 1]],
  ['bwr', 0.5, [1, 0.996078, 0.996078]],
  ['bwr', 0.77, [1, 0.454902, 0.454902]],
  ['rdbu_r', 0.1, [0.127259, 0.395848, 0.668743]],
  ['rdbu_r', 0.5, [0.969089, 0.966474, 0.964937]],
  ['rdbu_r', 0.77, [0.871511, 0.45075, 0.359016]],
];

test('colormaps reproduce matplotlib values', () => {
  for (const [name, x, want] of REF) {
    const got = colorAt(name, x);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c]! - want[c]!) < 2e-5, `${name}(${x})[${c}] = ${got[c]}, matplotlib ${want[c]}`);
  }
  assert.equal(hexAt('viridis', 0), '#440154');
  assert.equal(hexAt('viridis', 1), '#fde725');
  assert.equal(hexAt('inferno', 0), '#000004');
  assert.equal(hexAt('rdbu_r', 0), '#053061');
  assert.equal(hexAt('rdbu_r', 1), '#67001f');
  assert.equal(hexAt('bwr', 0), '#0000ff');
  assert.equal(hexAt('bwr', 1), '#ff0000');
  assert.equal(hexAt('gray', 1), '#ffffff');
  const [r, g, b] = colorAt('jet', 0.5);
  assert.ok(g > 0.99 && r < 0.5 && b < 0.5, 'jet(0.5) is green');
});

test('lookup follows matplotlib: floor(v·256), clamped; NaN → first entry', () => {
  assert.equal(lutIndex(0), 0);
  assert.equal(lutIndex(0.5), 128);
  assert.equal(lutIndex(1), 255);
  assert.equal(lutIndex(255.9 / 256), 255);
  assert.equal(lutIndex(-3), 0);
  assert.equal(lutIndex(7), 255);
  assert.equal(lutIndex(Number.NaN), 0);
  for (const n of COLORMAP_NAMES) {
    const c = getColormap(n);
    assert.equal(c.lut.length, 768);
    assert.ok(c.lut.every((v) => v >= 0 && v <= 1), n);
    assert.equal(c.diverging, n === 'bwr' || n === 'rdbu_r');
  }
});

test('applyColormap returns planar RGB; unknown names list the valid ones', () => {
  const out = applyColormap([0, 1], 'viridis');
  assert.equal(out.length, 6);
  assert.deepEqual([out[0], out[2], out[4]], colorAt('viridis', 0));
  assert.deepEqual([out[1], out[3], out[5]], colorAt('viridis', 1));
  assert.equal(getColormap('RdBu_r').name, 'rdbu_r');
  assert.equal(getColormap('JET').name, 'jet');
  assert.throws(() => getColormap('hot'), /unknown colormap 'hot' \(valid: jet, turbo, viridis, inferno, gray, bwr, rdbu_r\)/);
});
