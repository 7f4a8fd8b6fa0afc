/**
 * `npm run fuzz -- [--targets npy,npz,image,dicom,onnx,nifti] [--inputs 10000] [--seed 1] [--timeout 5000]
 * [--mutations int32,splice,…] [--corpus DIR]`: seeded mutation campaigns against candor's readers (src/fuzz/campaign.ts). Prints one
 * row per reader (the outcome counts) and writes the reproducers of every finding to the corpus folder
 * (default src/fuzz/corpus/<target>/), which the test suite replays.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCampaign } from '../src/fuzz/campaign.js';
import { TARGETS } from '../src/fuzz/targets.js';
import type { Mutation } from '../src/fuzz/mutate.js';

const { values: v } = parseArgs({ options: { targets: { type: 'string' }, inputs: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, timeout: { type: 'string', default: '5000' }, corpus: { type: 'string' }, 'max-rss': { type: 'string', default: '1024' }, mutations: { type: 'string' } } });
const targets = v.targets ? v.targets.split(',') : Object.keys(TARGETS);
console.log('| reader | inputs | clean errors | unnamed errors | crashes | hangs | memory | accepted but wrong | accepted | max RSS MB | s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
let bad = 0;
for (const t of targets) {
  const r = await runCampaign(t, { inputs: Number(v.inputs), seed: Number(v.seed), timeoutMs: Number(v.timeout), maxRssMb: Number(v['max-rss']), mutations: v.mutations ? (v.mutations.split(',') as Mutation[]) : undefined });
  const c = r.counts;
  console.log(`| ${t} | ${r.inputs} | ${c.clean} | ${c.unnamed} | ${c.crash} | ${c.hang} | ${c.memory} | ${c.wrong} | ${c.accepted} | ${r.maxRssMb.toFixed(0)} | ${r.seconds.toFixed(0)} |`);
  const dir = v.corpus ?? join('src', 'fuzz', 'corpus', t);
  for (const f of r.findings) {
    bad++;
    mkdirSync(dir, { recursive: true });
    const name = `${f.outcome}-seed${v.seed}-${f.mutation}-${f.at}${f.seedFile.slice(f.seedFile.lastIndexOf('.'))}`;
    writeFileSync(join(dir, name), f.bytes);
    console.error(`  ${t} ${f.outcome}: ${f.seedFile} ${f.mutation}@${f.at}: ${f.detail}  → ${join(dir, name)}`);
  }
}
process.exit(bad ? 1 : 0);
