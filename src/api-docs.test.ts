/**
 * The API reference (`npm run docs`): generated from the built declarations by API Extractor and API
 * Documenter — a page per entry point with its description, and pages for the functions with their doc
 * comments and signatures. Uses the built `dist` (npm ci builds it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './testing/paths.js';

test('npm run docs writes an API reference page for every entry point, with descriptions, doc comments and signatures', { timeout: 120_000 }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'candor-docs-')), 'api');
  try {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/api-docs.mjs'), '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings from the declarations');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const index = readFileSync(join(out, 'index.md'), 'utf8');
    for (const sub of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
      const name = sub === '.' ? 'candor' : `candor/${sub.slice(2)}`;
      const file = join(out, `${name.replace('/', '-')}.md`);
      assert.ok(existsSync(file), `${name} has a page`);
      assert.match(index, new RegExp(`\\[${name.replace('/', '\\/')}\\]`), `the index lists ${name}`);
      assert.match(readFileSync(file, 'utf8'), new RegExp(`## ${name.replace('/', '\\/')} package\\s+\\S`), `${name}'s page starts with its description`);
    }
    const explain = readFileSync(join(out, 'candor-explain.explain.md'), 'utf8');
    assert.match(explain, /Run one method by name with its defaults/);
    assert.match(explain, /export declare function explain\(model: Model, inputs: Tensor, method: string, target: Target, options\?: MethodOptions\): Promise<Attribution>;/);
    assert.ok(existsSync(join(out, 'candor-audit.runaudit.md')));
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});
