import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir } from './out-dir.js';
import { auditCommand } from '../cli/audit.js';

test('output folders are checked before any work: special filesystems, files in the way, unwritable folders', async () => {
  assert.throws(() => checkOutputDir('/proc/x'), /--out \/proc\/x: is on \/proc, a special filesystem/);
  assert.throws(() => checkOutputDir('/sys/candor/out'), /is on \/sys, a special filesystem/);
  const dir = mkdtempSync(join(tmpdir(), 'candor-out-'));
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(() => checkOutputDir(join(dir, 'file')), /exists and is not a folder/);
  checkOutputDir(join(dir, 'new', 'deeper')); // created later, in a writable parent: fine
  if (process.getuid?.() !== 0) {
    const ro = join(dir, 'ro');
    (await import('node:fs')).mkdirSync(ro);
    chmodSync(ro, 0o500);
    assert.throws(() => checkOutputDir(join(ro, 'out')), /cannot write in .*ro \(EACCES\)/);
  }
  // The audit refuses at once, before loading data or training anything.
  const t0 = performance.now();
  await assert.rejects(auditCommand(['--out', '/proc/candor-report', '--quiet']), /\/proc\/candor-report: is on \/proc, a special filesystem/);
  assert.ok(performance.now() - t0 < 3000);
});
