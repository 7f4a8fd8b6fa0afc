/**
 * The workbench in real headless Chromium for the browser tests: `candor serve` on an ephemeral port, a
 * persistent context (downloads accepted), the page loaded and ready, and every request that leaves the
 * server and every page error recorded (the tests assert both stay empty).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { serve } from '../cli/serve.js';
import type { RunningServer } from '../web/server/app.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface WorkbenchPage {
  srv: RunningServer;
  ctx: BrowserContext;
  page: Page;
  /** Requests to anything but the server, data: and blob: URLs. */
  external: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/** Chromium's flags for WebGPU on its bundled software Vulkan driver (SwiftShader; needs Debian's libvulkan1). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'];
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function openWorkbench(opts: { webgpu?: boolean; query?: string } = {}): Promise<WorkbenchPage> {
  const { chromium } = await import('playwright-core');
  const srv = await serve({ host: '127.0.0.1', port: 0 }, () => {});
  const userDir = mkdtempSync(join(tmpdir(), 'candor-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 1000 },
    args: ['--no-sandbox', ...(opts.webgpu ? WEBGPU_ARGS : ['--disable-gpu']), '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...(opts.webgpu ? { env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD } as Record<string, string> } : {}),
  });
  const page = await ctx.newPage();
  const external: string[] = [];
  const pageErrors: string[] = [];
  ctx.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(srv.url) && !u.startsWith('data:') && !u.startsWith('blob:')) external.push(u);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(srv.url + (opts.query ?? ''));
  await page.evaluate(() => window.candor.ready);
  return {
    srv,
    ctx,
    page,
    external,
    pageErrors,
    async close() {
      await ctx.close();
      await srv.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Wait until the page is idle; fail with the page's own message if it shows an error. */
export async function pageIdle(page: Page): Promise<void> {
  await page.evaluate(() => window.candor.idle());
  const status = await page.locator('#status').getAttribute('class');
  if (status === 'error') assert.fail(`the page reports: ${await page.textContent('#status')}`);
}

/** max |a − b| / max |b|: the browser's error relative to the Node map's scale. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s > 0 ? d / s : d;
}
