/**
 * The workbench on WebGPU: headless Chromium with WebGPU on its software Vulkan driver (SwiftShader, as the
 * `--device webgpu` CLI tests use), the page choosing WebGPU by itself ('auto'), saying so, and giving maps equal
 * to Node's CPU engine within float tolerance; switching to wasm reopens the model on the CPU. Skipped, with the
 * reason, without Chromium or the Vulkan loader.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../cli/serve.js';
import { CHROMIUM, SWIFTSHADER_ICD, openWorkbench, pageIdle, relError, type WorkbenchPage } from '../testing/workbench-page.js';
import { loadModel } from '../runtime/node.js';
import { explain } from '../explain/registry.js';
import { decodePng } from '../io/image.js';
import { prepareInput } from './preprocess.js';

const hasVulkan = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].some((d) => existsSync(d) && readdirSync(d).includes('libvulkan.so.1'));
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : !existsSync(SWIFTSHADER_ICD) ? `${SWIFTSHADER_ICD} is missing (Debian's chromium ships it)` : !hasVulkan ? 'libvulkan.so.1 is missing (apt-get install libvulkan1)' : false;
const MODEL = join(PACKAGE_ROOT, 'models', 'baseline', 'small_cnn_pneumoniamnist64.onnx');

let wb: WorkbenchPage;
let page: Page;

before(async () => {
  if (skip) return;
  wb = await openWorkbench({ webgpu: true });
  page = wb.page;
});

after(async () => {
  await wb?.close();
});

test('where the browser has WebGPU the page runs on it, says so, and its maps equal the CPU engine’s; switching to wasm reopens the model', { skip, timeout: 300_000 }, async () => {
  await page.click('#use-baseline');
  await pageIdle(page);
  const engine = (await page.locator('#backend').textContent()) ?? '';
  console.log(`# ${engine}`);
  assert.match(engine, /\(WebGPU on [^;]*swiftshader[^;]*; ops WebGPU lacks on \d+ wasm threads?\)/i);
  const sample = page.locator('#samples button').first();
  const url = await sample.locator('img').getAttribute('src');
  await sample.click();
  await pageIdle(page);
  await page.click('#run');
  await pageIdle(page);
  const png = new Uint8Array(await (await fetch(new URL(url!, wb.srv.url))).arrayBuffer());
  const { x } = prepareInput(decodePng(png).tensor, { channels: 1, height: 64, width: 64, scale: 'pm1', resize: 'stretch' });
  const model = loadModel(MODEL, { threads: 1 });
  try {
    const got = await page.evaluate(() => [...window.candor.state.results.values()].map((r) => ({ method: r.method, target: r.target, map: Array.from(r.map) })));
    const errors: string[] = [];
    for (const method of ['gradcam', 'ig']) {
      const b = got.find((r) => r.method === method)!;
      assert.ok(b, `${method} missing`);
      const n = await explain(model, x, method, b.target);
      const e = relError(b.map, n.map.data);
      errors.push(`${method} ${e.toExponential(2)}`);
      assert.ok(e < 1e-3, `${method}: WebGPU and CPU maps differ by ${e} of the map's scale`);
    }
    console.log(`# WebGPU page vs Node CPU, max |Δ| / max |map|: ${errors.join(', ')}`);
    await page.selectOption('#engine', 'wasm');
    await pageIdle(page);
    assert.match((await page.locator('#backend').textContent()) ?? '', /\(wasm, \d+ threads?\); wasm chosen/);
    await page.click('#run');
    await pageIdle(page);
    const cpu = await page.evaluate(() => Array.from([...window.candor.state.results.values()].find((r) => r.method === 'gradcam')!.map));
    assert.ok(relError(cpu, (await explain(model, x, 'gradcam', got[0]!.target)).map.data) < 1e-4);
  } finally {
    await model.dispose();
  }
  assert.deepEqual(wb.pageErrors, []);
  assert.deepEqual(wb.external, []);
});
