#!/usr/bin/env node
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('candor: the compiled CLI (dist/) is missing; run `npm ci` or `npm run build` in the candor folder first');
  process.exit(1);
}
await import(main.href);
