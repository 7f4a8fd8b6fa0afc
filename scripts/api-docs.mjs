#!/usr/bin/env node
// API reference from the TypeScript: API Extractor reads each package.json entry point's declarations
// (dist/**/*.d.ts, `npm run build` first) and API Documenter writes Markdown pages into docs/api/.
// (TypeDoc would be the usual choice, but it needs TypeScript's compiler API, which TypeScript 7 — the
// compiler candor builds with — no longer ships; API Extractor carries its own TypeScript to read .d.ts files.)
//   node scripts/api-docs.mjs [--out DIR]   write docs/api (or DIR); `npm run docs` builds first
// docs/api is generated, not committed (about 1,000 pages).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(ROOT, 'docs', 'api');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'candor-api-'));
const models = join(work, 'models');
mkdirSync(models);

try {
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || !target.types) continue;
    const dts = join(ROOT, target.types);
    if (!existsSync(dts)) throw new Error(`${dts} is missing: run npm run build first`);
    // One API model per entry point, named as users import it (candor, candor/explain, …).
    // (API Extractor takes package names without '/': candor-explain, shown as candor/explain below.)
    const name = sub === '.' ? 'candor' : `candor-${sub.slice(2)}`;
    const file = name;
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: ROOT,
        mainEntryPointFilePath: dts,
        compiler: { tsconfigFilePath: join(ROOT, 'tsconfig.json') },
        apiReport: { enabled: false },
        docModel: { enabled: true, apiJsonFilePath: join(models, `${file}.api.json`) },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: { default: { logLevel: 'none' } },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      configObjectFullPath: join(ROOT, 'api-extractor.json'),
      packageJsonFullPath: join(ROOT, 'package.json'),
      packageJson: { ...pkg, name },
    });
    const r = Extractor.invoke(config, { localBuild: true, messageCallback: (m) => { if (m.logLevel === ExtractorLogLevel.Warning || m.logLevel === ExtractorLogLevel.Error) { m.handled = true; console.error(`api-docs: ${name}: ${m.text}`); } else m.handled = true; } });
    if (!r.succeeded) throw new Error(`api-docs: API Extractor failed on ${name}`);
  }
  const md = join(work, 'md');
  const doc = spawnSync(process.execPath, [join(ROOT, 'node_modules/@microsoft/api-documenter/bin/api-documenter'), 'markdown', '-i', models, '-o', md], { encoding: 'utf8' });
  if (doc.status !== 0) throw new Error(`api-docs: API Documenter failed: ${doc.stderr || doc.stdout}`);
  // Entry points as users import them: candor-explain → candor/explain (not inside link targets).
  const subs = Object.keys(pkg.exports).filter((k) => k.startsWith('./') && k !== './package.json').map((k) => k.slice(2));
  const shown = new RegExp(`(?<![./\\w])candor-(${subs.join('|')})(?![\\w.-])`, 'g');
  for (const f of readdirSync(md)) {
    const p = join(md, f);
    writeFileSync(p, readFileSync(p, 'utf8').replace(shown, 'candor/$1'));
  }
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(dirname(OUT), { recursive: true });
  cpSync(md, OUT, { recursive: true });
  console.log(`api-docs: ${readdirSync(OUT).length} pages in ${OUT} (start at index.md)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
