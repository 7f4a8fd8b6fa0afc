/** Paths used by tests: the shared material beside the repository, and the repository root. */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A file of the shared material the tests use, from the repository's own copy (src/testing/shared for
 * models and goldens, data/ for the bundled data sets), so that a clone with nothing beside it tests
 * itself; CANDOR_SHARED=dir reads them from another copy (e.g. ../shared) instead.
 */
export function sharedPath(rel: string): string {
  if (process.env.CANDOR_SHARED) return join(process.env.CANDOR_SHARED, rel);
  const local = rel.startsWith('data/') ? join(repoRoot, rel) : join(repoRoot, 'src', 'testing', 'shared', rel);
  return existsSync(local) ? local : join(repoRoot, '..', 'shared', rel);
}

export function hasShared(rel: string): boolean {
  return existsSync(sharedPath(rel));
}
