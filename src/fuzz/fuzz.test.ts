/**
 * The readers under seeded mutation (issue 20): a CI-sized campaign per reader — every input a fixture with
 * one mutation, run in a worker thread with a 5 s watchdog — must give no crash, hang, memory blow-up,
 * error without the file's name, or accepted-but-wrong result; and every reproducer kept in
 * src/fuzz/corpus/ must be refused with the file named. Longer campaigns: `npm run fuzz` (10,000 per
 * reader by default, other seeds with --seed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign } from './campaign.js';
import { TARGETS } from './targets.js';
import { repoRoot } from '../testing/paths.js';

const INPUTS = Number(process.env.CANDOR_FUZZ_INPUTS ?? 2000);

for (const name of Object.keys(TARGETS)) {
  test(`${name}: ${INPUTS} mutated inputs, no crash, hang, memory blow-up, unnamed error or accepted-but-wrong result`, async () => {
    const r = await runCampaign(name, { inputs: INPUTS, seed: 20, timeoutMs: 5000, maxRssMb: 1024 });
    const c = r.counts;
    console.log(`# ${name}: ${JSON.stringify(c)}, max RSS ${r.maxRssMb.toFixed(0)} MB, ${r.seconds.toFixed(1)} s`);
    assert.deepEqual(r.findings.map((f) => `${f.outcome}: ${f.seedFile} ${f.mutation}@${f.at}: ${f.detail}`), []);
    assert.ok(c.clean > INPUTS / 3, 'most mutations are refused with a named error');
  });
}

test('every reproducer in the corpus is refused, naming the file', async () => {
  const root = join(repoRoot, 'src', 'fuzz', 'corpus');
  let n = 0;
  for (const target of existsSync(root) ? readdirSync(root) : []) {
    const t = TARGETS[target];
    assert.ok(t, `corpus folder ${target} has no fuzz target`);
    for (const f of readdirSync(join(root, target))) {
      const source = `corpus/${target}/${f}`;
      await assert.rejects(async () => t.run(new Uint8Array(readFileSync(join(root, target, f))), source), (e: Error) => e instanceof Error && !['TypeError', 'RangeError'].includes(e.constructor.name) && e.message.includes(source), source);
      n++;
    }
  }
  console.log(`# ${n} reproducers refused`);
});
