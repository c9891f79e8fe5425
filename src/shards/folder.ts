/**
 * A dataset folder is untrusted data: it may come from another machine, a bucket, or an
 * attacker. Every file a manifest or index names must be a plain file name inside the folder,
 * opened without following a symlink, and a regular file (a FIFO would hang a reader, a device
 * grow memory without bound); every length read from JSON is checked against the file's real
 * size before anything is allocated. The readers, `verify`, `inspect` and `merge` open folder
 * files only through here; a folder may also be `s3://bucket/prefix` (read by ranged GETs).
 *
 * @example
 *   const name = plainFileName(info.file, 'manifest.json: splits.train.shards[0].file');
 *   const f = await openInFolder(dir, name);   // regular file, no symlink; f.size, f.read(offset, length)
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isS3Url, parseS3Url, s3Get, s3Head, s3UrlOf, type S3Error } from '../storage/s3.js';
import { join } from 'node:path';
import { fileKind } from '../util/file-kind.js';

/** A folder's file is unusable: the message names the file (and the field that named it). */
export class DatasetFolderError extends Error {}

/** Largest JSON file (manifest or index) read: beyond V8's string limit it could not be parsed anyway. */
export const MAX_JSON_BYTES = 256 * 2 ** 20;

/**
 * `name` when it is a plain file name (no directory part, not `.` or `..`, no NUL, at most 255
 * bytes); otherwise a DatasetFolderError that quotes it and says where it was found.
 */
export function plainFileName(name: unknown, where: string): string {
  const ok =
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\\0]/.test(name);
  if (!ok) throw new DatasetFolderError(`${where}: ${JSON.stringify(name)} is not a plain file name inside the dataset folder`);
  return name;
}


/** `<dir>/<name>` for messages and local opens: a path, or an s3:// URL when `dir` is one. */
export function inFolder(dir: string, name: string): string {
  if (isHttpUrl(dir)) return `${dir.replace(/\/+$/, '')}/${encodeURIComponent(name)}`;
  return isS3Url(dir) ? s3UrlOf(parseS3Url(dir), name) : join(dir, name);
}

/** A dataset folder served over HTTP(S) (a public bucket or a static server): read-only. */
export const isHttpUrl = (s: string): boolean => /^https?:\/\//.test(s);

/** One HTTP request with retries on 5xx and network errors (backoff 0.2, 0.4, 0.8, 1.6 s). */
async function httpFetch(url: string, init: { method?: string; headers?: Record<string, string> }): Promise<Response> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    try {
      const r = await fetch(url, init);
      if (r.status < 500) return r;
      last = new Error(`HTTP ${r.status}`);
      await r.body?.cancel();
    } catch (e) {
      last = e;
    }
  }
  throw new DatasetFolderError(`${url}: ${(last as Error)?.message ?? last}`);
}

async function openHttp(dir: string, name: string): Promise<FolderFile> {
  const url = inFolder(dir, name);
  const head = await httpFetch(url, { method: 'HEAD' });
  if (head.status === 404) throw Object.assign(new DatasetFolderError(`${url}: not found`), { code: 'ENOENT' });
  if (!head.ok) throw new DatasetFolderError(`${url}: HTTP ${head.status}`);
  const size = Number(head.headers.get('content-length'));
  if (!Number.isSafeInteger(size) || size < 0) throw new DatasetFolderError(`${url}: the server gives no Content-Length`);
  const get = async (offset: number, length: number): Promise<Buffer> => {
    const n = Math.max(0, Math.min(length, size - offset));
    if (n === 0) return Buffer.alloc(0);
    const r = await httpFetch(url, { headers: { range: `bytes=${offset}-${offset + n - 1}` } });
    if (r.status !== 206 && !(r.status === 200 && offset === 0 && n === size)) {
      await r.body?.cancel();
      throw new DatasetFolderError(`${url}: HTTP ${r.status} to a range request (the server must answer ranges with 206)`);
    }
    const buf = Buffer.from(await r.arrayBuffer());
    if (buf.length !== n) throw new DatasetFolderError(`${url}: ${buf.length} bytes for a range of ${n}`);
    return buf;
  };
  return rangedFile(url, size, get);
}

/** One file of a dataset folder, open for reading: local, or an object in S3 read by ranged GETs. */
export interface FolderFile {
  /** Its path or URL, for messages. */
  path: string;
  size: number;
  /** `length` bytes from `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Buffer>;
  /** The whole file in pieces, in order. */
  chunks(chunk?: number): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

async function openLocal(dir: string, name: string): Promise<FolderFile> {
  const path = join(dir, name);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new DatasetFolderError(`${path}: a symbolic link; a dataset folder's files are read only when they are regular files inside it`);
    if (code === 'ENOENT') throw Object.assign(new DatasetFolderError(`${path}: file not found`), { code });
    throw Object.assign(new DatasetFolderError(`${path}: cannot open (${code ?? (e as Error).message})`), { code });
  }
  let size: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new DatasetFolderError(`${path}: ${fileKind(st)}, not a regular file`);
    size = st.size;
  } catch (e) {
    await fh.close();
    throw e;
  }
  return {
    path,
    size,
    async read(offset, length) {
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, offset + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === buf.length ? buf : buf.subarray(0, off);
    },
    async *chunks(chunk = 1 << 20) {
      for await (const c of fh.createReadStream({ highWaterMark: chunk, autoClose: false })) yield c as Buffer;
    },
    close: () => fh.close(),
  };
}

/** A remote file whose bytes come by range (S3, HTTP): `get(offset, length)` is one request. */
function rangedFile(path: string, size: number, get: (offset: number, length: number) => Promise<Buffer>): FolderFile {
  return {
    path,
    size,
    read: get,
    async *chunks(chunk = 8 << 20) {
      for (let at = 0; at < size; at += chunk) yield await get(at, chunk);
    },
    close: async () => {},
  };
}

async function openS3(url: string, name: string): Promise<FolderFile> {
  const loc = parseS3Url(url);
  let size: number;
  try {
    ({ size } = await s3Head(loc, name));
  } catch (e) {
    throw Object.assign(new DatasetFolderError((e as Error).message), { code: (e as S3Error).code });
  }
  const path = s3UrlOf(loc, name);
  const get = (offset: number, length: number) =>
    s3Get(loc, name, { offset, length: Math.max(0, Math.min(length, size - offset)) }).catch((e) => {
      throw Object.assign(new DatasetFolderError((e as Error).message), { code: (e as S3Error).code });
    });
  return rangedFile(path, size, get);
}

/**
 * Opens `<dir>/<name>` for reading. Local: refuses a symlink (O_NOFOLLOW), opens non-blocking
 * (a FIFO cannot hang the open) and checks the open descriptor is a regular file. `s3://`: the
 * object's size from a HEAD, its bytes by ranged GETs. `name` must be a plain file name.
 */
export async function openInFolder(dir: string, name: string): Promise<FolderFile> {
  plainFileName(name, dir);
  if (isHttpUrl(dir)) return openHttp(dir, name);
  return isS3Url(dir) ? openS3(dir, name) : openLocal(dir, name);
}

/** The whole of a folder file of at most `maxBytes`, as a Buffer. */
export async function readInFolder(dir: string, name: string, maxBytes: number): Promise<Buffer> {
  const f = await openInFolder(dir, name);
  try {
    if (f.size > maxBytes) throw Object.assign(new DatasetFolderError(`${f.path}: ${f.size} bytes, more than the ${maxBytes} expected`), { code: 'EFBIG' });
    return await f.read(0, f.size);
  } finally {
    await f.close();
  }
}
