/**
 * An S3-compatible server on 127.0.0.1 for the content store's tests: s3rver (a Node implementation of
 * the S3 REST API over a folder), with one bucket, and the AWS SDK environment that points at it.
 * Not AWS: it checks candor's S3 code against the protocol, not against AWS's behaviour under load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3Server {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'candor-store'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'candor-s3-'));
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as unknown as { port: number };
  return {
    env: { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
