/**
 * Reaching the queue's Redis (or Valkey): the URL checked, the server pinged once with a short timeout
 * so a wrong address is one clear line rather than a wait; after that, connections retry for ever, so a
 * run survives Redis restarting (it resumes when Redis is back, and says so).
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';

/** Connection settings for ioredis and BullMQ. */
export interface QueueConnection {
  url: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
}

/** Queue names carry candor's version: a worker of another version never takes (or computes) a unit. */
export function queueName(version: string): string {
  return `candor-${version.replace(/[^0-9A-Za-z.-]/g, '_')}`;
}

/** This machine's name and process, for worker heartbeats. */
export function workerHost(): string {
  return `${hostname()}:${process.pid}`;
}

/** Key of a worker's heartbeat (expires when it stops renewing it). */
export const WORKER_KEY_PREFIX = 'candor:worker:';

export function redisOptions(url: string): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: not a URL; give redis://HOST:PORT (or rediss:// for TLS), e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue ${url}: the queue is a Redis server, redis://HOST:PORT[/DB] or rediss://…, not ${u.protocol.replace(/:$/, '')}://`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue ${url}: the database '${u.pathname.slice(1)}' is not a number`);
  return {
    url,
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's requirement for blocking connections; commands wait through a reconnection instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Ping the server once (timeout: a few seconds); throws one line naming the URL and the cause. */
export async function checkReachable(url: string, timeoutMs = 5000): Promise<void> {
  const { url: _u, retryStrategy: _r, ...opts } = redisOptions(url);
  const client = new Redis({ ...opts, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: NodeJS.ErrnoException | undefined;
  client.on('error', (e: NodeJS.ErrnoException) => (cause ??= e));
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs).unref()),
    ]);
  } catch (e) {
    const err = cause ?? (e as NodeJS.ErrnoException);
    throw new Error(`--queue ${displayUrl(url)}: cannot reach Redis (${err.code ?? err.message}); start it (redis-server) or check the host and port`);
  } finally {
    client.disconnect();
  }
}
