/**
 * --device: the errors a device gives where it cannot run, and the WebGPU path for real — onnxruntime-node's
 * WebGPU provider (Dawn over Vulkan) on a software Vulkan driver (Chromium's SwiftShader, as CI has it):
 * the forward and gradient graphs placed whole on the device, and one unit of the work queue computed by
 * a `candor worker --device webgpu` against the same unit on the CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceError, parseDevice, providersFor } from './device.js';
import { loadModel } from './node.js';
import { explain } from '../explain/registry.js';
import { loadBatch } from '../cli/explain-input.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocessing.js';
import { repoRoot } from '../testing/paths.js';
import { redisSkip, startRedis } from '../testing/redis-server.js';
import { QueueExecutor } from '../queue/coordinator.js';
import { ContentStore } from '../queue/store.js';
import { candorVersion } from '../train/card.js';
import { BUNDLED_MODEL } from '../audit/context.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasVulkanLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some((p) => existsSync(p));
const vulkanSkip = !existsSync(SWIFTSHADER) ? `${SWIFTSHADER} is missing (apt-get install chromium: its SwiftShader is the software Vulkan driver)` : !hasVulkanLoader ? 'libvulkan.so.1 is missing (apt-get install libvulkan1)' : false;
const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });

test('devices parse, map to onnxruntime providers, and say in one line what is missing', () => {
  assert.equal(parseDevice('webgpu'), 'webgpu');
  assert.throws(() => parseDevice('gpu'), /--device must be one of cpu, webgpu, cuda, got 'gpu'/);
  assert.deepEqual(providersFor('cpu'), ['cpu']);
  assert.deepEqual(providersFor('webgpu'), ['webgpu', 'cpu']);
  assert.match(deviceError('webgpu', 'Failed to get a WebGPU adapter: No supported adapters')!, /no WebGPU adapter .*VK_ICD_FILENAMES/);
  assert.match(deviceError('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')!, /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js.*CUDA 12 and cuDNN 9/);
  assert.equal(deviceError('cuda', 'a graph error'), undefined);
});

test('--device cuda without the CUDA provider libraries, and a bad --device, are one clear line', () => {
  const r = cli(['explain', '--device', 'cuda', '--methods', 'saliency', '--input', 'pneumoniamnist:test:0-1', '--out', join(tmpdir(), `candor-cuda-${process.pid}`)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^candor explain: --device cuda: onnxruntime's CUDA provider is not usable here .*ONNXRUNTIME_NODE_INSTALL=cuda12/m);
  const b = cli(['explain', '--device', 'tpu']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--device must be one of cpu, webgpu, cuda, got 'tpu'/);
});

test('--device webgpu with no Vulkan driver is one clear line', { skip: hasVulkanLoader ? false : 'libvulkan.so.1 is missing' }, () => {
  const r = cli(['explain', '--device', 'webgpu', '--methods', 'saliency', '--input', 'pneumoniamnist:test:0-1', '--out', join(tmpdir(), `candor-nogpu-${process.pid}`)], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^candor explain: --device webgpu: no WebGPU adapter \(Dawn found no usable Vulkan driver\)/m);
});

test('on WebGPU (software Vulkan) the forward, gradient and Grad-CAM graphs run whole on the device', { skip: vulkanSkip }, () => {
  const r = cli(['devices', '--device', 'webgpu'], { VK_ICD_FILENAMES: SWIFTSHADER });
  assert.equal(r.status, 0, r.stderr);
  for (const g of ['forward', 'input gradient \\(VJP\\)', 'Grad-CAM \\([^)]*\\)']) assert.match(r.stdout, new RegExp(`^${g}: (\\d+) nodes — \\1 on WebGpu$`, 'm'));
  assert.match(r.stdout, /^training: \d+ nodes — /m);
});

test('a queue unit computed by a worker on WebGPU (software Vulkan) equals the CPU within float tolerance', { skip: vulkanSkip || redisSkip, timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'candor-webgpu-'));
  const redis = await startRedis();
  const worker = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'worker', '--device', 'webgpu', '--queue', redis.url, '--store', join(dir, 'store'), '--threads', '1'], { cwd: repoRoot, env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER }, stdio: 'ignore' });
  const model = loadModel(BUNDLED_MODEL, { threads: 1 });
  try {
    const images = (await loadBatch('pneumoniamnist:test:0-2', { channels: 1, height: 64, width: 64 }, DEFAULT_PREPROCESSING)).x;
    const ex = await QueueExecutor.connect({ url: redis.url, store: await ContentStore.open(join(dir, 'store')), version: candorVersion(), log: () => {} });
    for (const method of ['saliency', 'gradcam']) {
      const gpu = await ex.maps(model, images, [0, 1], method, {});
      const cpu = (await explain(model, images, method, [0, 1], {})).map;
      let scale = 0;
      let err = 0;
      for (let i = 0; i < cpu.size; i++) {
        scale = Math.max(scale, Math.abs(cpu.data[i]!));
        err = Math.max(err, Math.abs(cpu.data[i]! - gpu.data[i]!));
      }
      assert.ok(scale > 0 && err <= 1e-4 * scale, `${method}: max |GPU − CPU| ${err} against a map scale of ${scale}`);
    }
    await ex.close();
  } finally {
    worker.kill('SIGKILL');
    await model.dispose();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
