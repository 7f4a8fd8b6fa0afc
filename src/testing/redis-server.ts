/**
 * A real Redis for the queue's tests and bench: Debian's redis-server started on a free 127.0.0.1 port
 * with no persistence, stopped by the caller. `redisSkip` says why a test cannot run without one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
export const redisSkip: string | false = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server); the queue tests start a real one';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => c.write('PING\r\n'));
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Start redis-server (on `port`, else a free one) and wait until it answers PING. */
export async function startRedis(port?: number): Promise<RedisServer> {
  if (!REDIS_SERVER) throw new Error(redisSkip as string);
  const p = port ?? (await freePort());
  const proc = spawn(REDIS_SERVER, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await answers(p)) break;
    if (proc.exitCode !== null) throw new Error(`redis-server on port ${p} exited with code ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  return { url: `redis://127.0.0.1:${p}`, port: p, process: proc, stop };
}
