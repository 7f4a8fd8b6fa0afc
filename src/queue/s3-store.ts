/**
 * The content store on S3-compatible object storage (`--store s3://BUCKET/PREFIX`), through the AWS SDK.
 * Credentials and region come from the SDK's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * AWS_PROFILE, instance roles; AWS_REGION, default us-east-1); another endpoint (MinIO, Ceph, a local
 * test server) from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, addressed path-style. A PUT makes an object
 * appear whole, so blobs need no temporary names. Loaded only when a store is on S3.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobBackend } from './store.js';

function notFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}

export class S3Backend implements BlobBackend {
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    readonly location: string,
  ) {}

  static async open(spec: string): Promise<S3Backend> {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(spec);
    if (!m || !m[1]) throw new Error(`--store ${spec}: an S3 store is s3://BUCKET or s3://BUCKET/PREFIX`);
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    // candor supports Node 20 and pins an SDK release that does (package.json): its notice that later
    // releases will need Node 22 would print on every run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const client = new S3Client({ region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1', ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
    const prefix = m[2]!.replace(/\/+$/, '');
    const b = new S3Backend(client, m[1], prefix ? `${prefix}/` : '', `s3://${m[1]}${prefix ? `/${prefix}` : ''}`);
    try {
      await client.send(new HeadBucketCommand({ Bucket: m[1] }));
      await b.read('store.json');
    } catch (e) {
      const err = e as Error & { $metadata?: { httpStatusCode?: number } };
      const what = err.$metadata?.httpStatusCode === 404 ? 'NoSuchBucket: no such bucket' : `${err.name}${err.$metadata?.httpStatusCode ? ` ${err.$metadata.httpStatusCode}` : ''}: ${err.message.split('\n')[0]}`;
      throw new Error(`--store ${b.location}: cannot read the bucket (${what}); check the bucket, AWS credentials${endpoint ? ` and the endpoint ${endpoint}` : ' and region (AWS_ENDPOINT_URL for MinIO and other S3-compatible servers)'}`);
    }
    return b;
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + name, Body: bytes }));
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
      return true;
    } catch (e) {
      if (notFound(e)) return false;
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
  }
}
