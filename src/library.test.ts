/**
 * candor as a library: from a project that installs it (node_modules/candor → this repository, as `npm
 * install ../candor` or `npm link` make it), the README's library snippet runs, and every entry point of
 * package.json `exports` imports, with the names the README promises. Uses the built `dist` (npm ci builds it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './testing/paths.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'candor-user-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'candor'), 'dir');
  return dir;
}

test("the README's library snippet runs from a project that installs candor", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- library-snippet -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has a library snippet');
  const dir = project();
  try {
    writeFileSync(join(dir, 'snippet.mjs'), m[1]!);
    const r = spawnSync(process.execPath, ['snippet.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[ 4, 64, 64 \]/);
    assert.match(r.stdout, /^(incremental|direct) \(/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every entry point of package.json exports imports from an installing project', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const expect: Record<string, string[]> = {
    '.': ['loadModel', 'explain', 'runAudit', 'Tensor', 'METHOD_NAMES'],
    './explain': ['explain', 'occlusion', 'gradCam', 'integratedGradients', 'IncrementalForward'],
    './audit': ['runAudit'],
    './evaluate': ['noisyLinearImpute'],
    './trust': ['clinicalMetrics', 'reliability'],
    './data': ['loadMedMnist', 'resize'],
    './io': ['readNpyFile'],
    './tabular': [],
  };
  const dir = project();
  try {
    for (const entry of Object.keys(pkg.exports).filter((e) => e !== './package.json')) {
      const spec = entry === '.' ? 'candor' : `candor/${entry.slice(2)}`;
      const names = expect[entry];
      assert.ok(names, `${entry}: listed in this test`);
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import('${spec}'); console.log(JSON.stringify(Object.keys(m)))`], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `${spec}: ${r.stderr}`);
      const keys = JSON.parse(r.stdout) as string[];
      assert.ok(keys.length > 0, spec);
      for (const n of names) assert.ok(keys.includes(n), `${spec} exports ${n}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
