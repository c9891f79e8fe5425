/**
 * Object storage (S3 and compatibles: AWS, GCS interoperability, MinIO, Ceph) for reading
 * dataset folders: `s3://bucket/prefix`. Credentials and region come from the standard AWS
 * environment and config files (the SDK's default chain: AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …); an endpoint from AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL turns on path-style addressing. 5xx answers and timeouts are retried with
 * backoff by the SDK (AWS_MAX_ATTEMPTS, default 5 here).
 *
 * @example
 *   const loc = parseS3Url('s3://bucket/datasets/ct');   // { bucket: 'bucket', prefix: 'datasets/ct' }
 *   const { size } = await s3Head(loc, 'manifest.json');
 *   const bytes = await s3Get(loc, 'train-00000.ctws', { offset: 0, length: 16 });
 */
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
}

export const isS3Url = (s: string): boolean => s.startsWith('s3://');

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) throw new Error(`${url}: not an s3://bucket/prefix URL`);
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, '') };
}

const keyOf = (loc: S3Location, name: string) => (loc.prefix ? `${loc.prefix}/${name}` : name);
export const s3UrlOf = (loc: S3Location, name: string) => `s3://${loc.bucket}/${keyOf(loc, name)}`;

let client: S3Client | undefined;
/** One client per process, configured from the environment. */
export function s3Client(): S3Client {
  if (client) return client;
  // The SDK's notice that it will drop Node 20 is not the CLI user's business (engines: node ≥ 20).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  client = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    maxAttempts: Number(process.env.AWS_MAX_ATTEMPTS) || 5,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return client;
}

/** An S3 failure in words naming the object: "s3://b/k: not found" (code ENOENT), access denied, … */
export class S3Error extends Error {
  constructor(readonly url: string, readonly reason: string, readonly code?: string) {
    super(`${url}: ${reason}`);
  }
}

function explain(url: string, e: unknown): S3Error {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = err.$metadata?.httpStatusCode;
  // A HEAD answer has no body to name the error: say the status instead.
  const name = err.name && err.name !== 'Unknown' && !/^\d+$/.test(err.name) ? err.name : status ? `HTTP ${status}` : 'error';
  if (status === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey') return new S3Error(url, 'not found', 'ENOENT');
  if (status === 403 || err.name === 'AccessDenied' || err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch') {
    return new S3Error(url, `access denied (${name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE`, 'EACCES');
  }
  return new S3Error(url, `${name}${status && !name.startsWith('HTTP') ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}`, 'EIO');
}

/** An object as a stream, from its full URL (s3://bucket/key). */
export async function s3Stream(url: string): Promise<NodeJS.ReadableStream & import('node:stream').Readable> {
  const { bucket, prefix: key } = parseS3Url(url);
  try {
    const r = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return r.Body as unknown as import('node:stream').Readable;
  } catch (e) {
    throw explain(url, e);
  }
}

/** An object's bytes from its full URL (s3://bucket/key); an object over `maxBytes` is refused before its body is read. */
export async function s3GetUrl(url: string, maxBytes = Infinity): Promise<Buffer> {
  const { bucket, prefix: key } = parseS3Url(url);
  return getObject(bucket, key, url, undefined, maxBytes);
}

/** Whether the bucket exists and answers these credentials (a run's dicomRoot): throws S3Error otherwise. */
export async function s3CheckPrefix(url: string): Promise<void> {
  const loc = parseS3Url(url);
  try {
    await s3Client().send(new HeadBucketCommand({ Bucket: loc.bucket }));
  } catch (e) {
    const err = explain(url, e);
    throw err.code === 'ENOENT' ? new S3Error(url, 'no such bucket', 'ENOENT') : err;
  }
}

/** The object's size in bytes. */
export async function s3Head(loc: S3Location, name: string): Promise<{ size: number }> {
  try {
    const r = await s3Client().send(new HeadObjectCommand({ Bucket: loc.bucket, Key: keyOf(loc, name) }));
    return { size: Number(r.ContentLength ?? 0) };
  } catch (e) {
    throw explain(s3UrlOf(loc, name), e);
  }
}

/** The object's bytes, or `length` bytes from `offset` (one ranged GET). */
export async function s3Get(loc: S3Location, name: string, range?: { offset: number; length: number }): Promise<Buffer> {
  if (range && range.length === 0) return Buffer.alloc(0);
  return getObject(loc.bucket, keyOf(loc, name), s3UrlOf(loc, name), range);
}

/** One GET (ranged when `range` is given); an object over `maxBytes` is refused before its body is read. */
async function getObject(bucket: string, key: string, url: string, range?: { offset: number; length: number }, maxBytes = Infinity): Promise<Buffer> {
  let r;
  try {
    r = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}) }));
  } catch (e) {
    throw explain(url, e);
  }
  const size = Number(r.ContentLength ?? 0);
  if (size > maxBytes) {
    (r.Body as unknown as { destroy?: () => void }).destroy?.();
    throw new S3Error(url, `file too large (${size} bytes, at most ${maxBytes})`, 'EFBIG');
  }
  try {
    const bytes = await r.Body!.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    throw explain(url, e);
  }
}

/** Every key under the location's prefix, relative to it (`train-00000.ctws`, …), by pages. */
export async function s3List(loc: S3Location): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  const prefix = loc.prefix ? `${loc.prefix}/` : '';
  let token: string | undefined;
  do {
    let r;
    try {
      r = await s3Client().send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (e) {
      throw explain(`s3://${loc.bucket}/${prefix}`, e);
    }
    for (const o of r.Contents ?? []) if (o.Key) out.push({ name: o.Key.slice(prefix.length), size: Number(o.Size ?? 0) });
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * Uploads a local file as `<prefix>/<name>`: one object that appears only when complete
 * (multipart for large files, 16 MiB parts, 4 in flight).
 */
export async function s3Put(loc: S3Location, name: string, path: string): Promise<void> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { createReadStream } = await import('node:fs');
  try {
    await new Upload({ client: s3Client(), params: { Bucket: loc.bucket, Key: keyOf(loc, name), Body: createReadStream(path) }, partSize: 16 << 20, queueSize: 4 }).done();
  } catch (e) {
    throw explain(s3UrlOf(loc, name), e);
  }
}

/** Downloads `<prefix>/<name>` to a local file. */
export async function s3Download(loc: S3Location, name: string, path: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await s3Get(loc, name));
}
