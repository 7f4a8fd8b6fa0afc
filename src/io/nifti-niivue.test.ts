/**
 * A map exported by `candor explain` as NIfTI opens in NiiVue (the web viewer the field uses; @niivue/niivue,
 * a dev dependency) in real headless Chromium, over the scan it was computed from: NiiVue reads the same
 * dimensions and voxel→world affine for the map as for the source, and draws both.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { repoRoot } from '../testing/paths.js';
import { niftiBytes } from './nifti-write.js';
import type { Affine } from './nifti.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need it`;
const dir = mkdtempSync(join(tmpdir(), 'candor-niivue-'));
let server: Server | undefined;
let base = '';

// An oblique, anisotropic CT-like volume (rotated 20° about z; 0.7 × 0.9 × 2.5 mm).
const [NX, NY, NZ] = [36, 30, 14];
const c = Math.cos(0.35);
const s = Math.sin(0.35);
const AFFINE: Affine = [[-0.7 * c, 0.9 * s, 0, 25], [-0.7 * s, -0.9 * c, 0, 12], [0, 0, 2.5, -40], [0, 0, 0, 1]];

before(() => {
  if (skip) return;
  const vol = new Float32Array(NX * NY * NZ);
  for (let k = 0; k < NZ; k++) for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) {
    vol[(k * NY + j) * NX + i] = -900 + 1000 * Math.exp(-(((i - 20) / 5) ** 2 + ((j - 12) / 5) ** 2 + ((k - 6) / 2) ** 2));
  }
  writeFileSync(join(dir, 'ct.nii.gz'), niftiBytes(vol, [NX, NY, NZ], AFFINE, { gzip: true }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'explain', '--model', join(repoRoot, 'src/explain/fixtures/r3d_small.onnx'), '--input', join(dir, 'ct.nii.gz'), '--methods', 'gradcam', '--out', join(dir, 'out')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><canvas id="gl" width="320" height="320"></canvas><script src="/niivue.umd.js"></script>'],
    '/niivue.umd.js': ['text/javascript', join(repoRoot, 'node_modules/@niivue/niivue/dist/niivue.umd.js')],
    '/ct.nii.gz': ['application/octet-stream', join(dir, 'ct.nii.gz')],
    '/map.nii.gz': ['application/octet-stream', join(dir, 'out/gradcam_0.nii.gz')],
  };
  server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f[0] }).end(req.url === '/' ? f[1] : readFileSync(f[1]));
  });
  return new Promise<void>((ok) => server!.listen(0, '127.0.0.1', () => ok()));
});

after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a candor map as NIfTI opens in NiiVue over its source scan, with the same dimensions and affine', { skip }, async () => {
  base = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-first-run'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    const got = await page.evaluate(async () => {
      const nv = new (window as any).niivue.Niivue({ show3Dcrosshair: true });
      await nv.attachToCanvas(document.getElementById('gl'));
      await nv.loadVolumes([{ url: '/ct.nii.gz' }, { url: '/map.nii.gz', colormap: 'warm', opacity: 0.6 }]);
      nv.drawScene();
      return {
        volumes: nv.volumes.map((v: any) => ({ dims: Array.from(v.hdr.dims as number[]).slice(0, 4), affine: v.hdr.affine as number[][], max: v.global_max as number })),
        drawn: nv.volumes.length,
      };
    });
    assert.deepEqual(errors, []);
    assert.equal(got.drawn, 2);
    const [ct, map] = got.volumes as { dims: number[]; affine: number[][]; max: number }[];
    assert.deepEqual(map!.dims, ct!.dims);
    assert.deepEqual(ct!.dims, [3, NX, NY, NZ]);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 4; b++) {
      assert.ok(Math.abs(map!.affine[a]![b]! - AFFINE[a]![b]!) < 1e-4, `map affine[${a}][${b}] ${map!.affine[a]![b]} vs ${AFFINE[a]![b]}`);
      assert.ok(Math.abs(map!.affine[a]![b]! - ct!.affine[a]![b]!) < 1e-4, 'map and scan share the affine');
    }
    assert.ok(map!.max > 0, 'the map has non-zero values');
    // NiiVue drew the scan and the warm overlay: the canvas has many colours, some of them warm (red > blue)
    const { decodePng } = await import('./image.js');
    const shot = decodePng(await page.locator('#gl').screenshot()).tensor;
    const [, h, w] = shot.shape as [number, number, number];
    const colours = new Set<number>();
    let warm = 0;
    for (let p = 0; p < h * w; p++) {
      const [r, g, b] = [0, 1, 2].map((ch) => Math.round(shot.data[ch * h * w + p]! * 255));
      colours.add((r! << 16) | (g! << 8) | b!);
      if (r! > b! + 60) warm++;
    }
    assert.ok(colours.size > 50 && warm > 100, `canvas: ${colours.size} colours, ${warm} warm pixels`);
  } finally {
    await browser.close();
  }
});
