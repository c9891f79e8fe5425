/**
 * A dataset folder is untrusted data: it may come from another machine, a bucket, or an
 * attacker. Every file a manifest or index names must be a plain file name inside the folder,
 * opened without following a symlink, and a regular file (a FIFO would hang a reader, a device
 * grow memory without bound); every length read from JSON is checked against the file's real
 * size before anything is allocated. The readers, `verify`, `inspect` and `merge` open folder
 * files only through here.
 *
 * @example
 *   const name = plainFileName(info.file, 'manifest.json: splits.train.shards[0].file');
 *   const { fh, size } = await openInFolder(dir, name);   // regular file, no symlink, size from fstat
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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


/**
 * Opens `<dir>/<name>` for reading: refuses a symlink (O_NOFOLLOW), opens non-blocking (a FIFO
 * cannot hang the open) and checks the open descriptor is a regular file. `name` must already
 * be a plain file name (plainFileName). The caller closes `fh`.
 */
export async function openInFolder(dir: string, name: string): Promise<{ fh: FileHandle; size: number; path: string }> {
  const path = join(dir, plainFileName(name, dir));
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new DatasetFolderError(`${path}: a symbolic link; a dataset folder's files are read only when they are regular files inside it`);
    if (code === 'ENOENT') throw Object.assign(new DatasetFolderError(`${path}: file not found`), { code });
    throw Object.assign(new DatasetFolderError(`${path}: cannot open (${code ?? (e as Error).message})`), { code });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new DatasetFolderError(`${path}: ${fileKind(st)}, not a regular file`);
    return { fh, size: st.size, path };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The whole of a folder file of at most `maxBytes` (regular, no symlink), as a Buffer. */
export async function readInFolder(dir: string, name: string, maxBytes: number): Promise<Buffer> {
  const { fh, size, path } = await openInFolder(dir, name);
  try {
    if (size > maxBytes) throw Object.assign(new DatasetFolderError(`${path}: ${size} bytes, more than the ${maxBytes} expected`), { code: 'EFBIG' });
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}
