/** The `candor` command itself: --version, and --help on every command (usage on stdout, exit 0). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../testing/paths.js';

const candor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

test('candor --version prints the package version', () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const r = candor('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^candor ${version.replace(/\./g, '\\.')} \\(node \\d+`));
});

test('--help on every command prints its usage and exits 0', () => {
  const list = candor('--help');
  assert.equal(list.status, 0);
  const commands = [...list.stdout.matchAll(/^ {2}([a-z-]+) +\S/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 12 && commands.includes('layers'), commands.join(', '));
  for (const c of commands) {
    const r = candor(c, '--help');
    assert.equal(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`usage: candor ${c}`), c);
  }
});
