/** Paths used by tests: the shared material beside the repository, and the repository root. */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A path inside ../shared (override with CANDOR_SHARED). */
export function sharedPath(rel: string): string {
  const base = process.env.CANDOR_SHARED ?? join(repoRoot, '..', 'shared');
  return join(base, rel);
}

export function hasShared(rel: string): boolean {
  return existsSync(sharedPath(rel));
}
