/**
 * Checks an output folder before any work is done: not on a special filesystem (/proc, /sys, /dev —
 * writing there hangs or does something else entirely), a folder if it exists, and writable (a temporary
 * file is created and removed in it, or in the nearest existing parent it would be created in). An
 * audit that runs for minutes and then fails on EACCES is what this prevents.
 */
import { accessSync, constants, existsSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const SPECIAL = ['/proc', '/sys', '/dev'];

export function checkOutputDir(dir: string, flag = '--out'): void {
  const abs = resolve(dir);
  let existing = abs;
  while (!existsSync(existing)) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // unreadable: the access check below says so
  }
  const special = SPECIAL.find((p) => real === p || real.startsWith(p + sep));
  if (special) throw new Error(`${flag} ${dir}: is on ${special}, a special filesystem; choose a normal folder`);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new Error(`${flag} ${dir}: exists and is not a folder`);
  try {
    accessSync(existing, constants.W_OK);
    const probe = join(existing, `.candor-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`${flag} ${dir}: cannot write ${existing === abs ? 'there' : `in ${existing}`} (${code}); choose a folder you can write to`);
  }
}
