/** Paths used by tests and benches: the repository root, the tests' fixtures, and ../shared (benches only). */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A fixture the tests read, always from the repository itself: the real exports and PyTorch goldens copied from
 * ../shared live in src/testing/shared, the bundled data sets in data/. Never ../shared, so that a clone with
 * nothing beside it tests itself (CANDOR_FIXTURES=dir reads them from another copy instead).
 */
export function fixturePath(rel: string): string {
  if (process.env.CANDOR_FIXTURES) return join(process.env.CANDOR_FIXTURES, rel);
  return rel.startsWith('data/') ? join(repoRoot, rel) : join(repoRoot, 'src', 'testing', 'shared', rel);
}

export function hasFixture(rel: string): boolean {
  return existsSync(fixturePath(rel));
}

/** A path inside ../shared (override with CANDOR_SHARED): for the benches' yardsticks (peer-times.json), not for tests. */
export function sharedPath(rel: string): string {
  return join(process.env.CANDOR_SHARED ?? join(repoRoot, '..', 'shared'), rel);
}
