/**
 * Reads an input file only when it is a regular file of a sane size: FIFOs, devices,
 * directories and sockets are refused (a symlink to a regular file is fine), so a FIFO cannot
 * hang a run and a link to /dev/zero cannot grow memory without bound. The file is opened
 * non-blocking (opening a FIFO would otherwise wait for a writer) and checked with fstat on
 * the open descriptor, so a file swapped after a stat cannot slip through; at most the size
 * fstat reported is read.
 *
 * @example
 *   const bytes = readRegularFileSync('a.dcm');          // Uint8Array, or throws InputFileError
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { fileKind } from '../util/file-kind.js';
import { isS3Url, s3GetUrl, type S3Error } from '../storage/s3.js';

/** Largest input file read (2 GiB: a CT slice is well under 100 MiB; Node's Buffer limit). */
export const MAX_INPUT_BYTES = 2 ** 31 - 1;

/** Why a file is not read, in words that name the file kind or size: "<reason>: <path>". */
export class InputFileError extends Error {
  constructor(readonly path: string, readonly reason: string, readonly code?: string) {
    super(`${reason}: ${path}`);
  }
}


/**
 * The file's bytes, into `alloc(size)` when given (the caller's buffer, at least `size` long),
 * else a new buffer. Throws InputFileError: not found, unreadable, not a regular file, too large.
 */
export function readRegularFileSync(path: string, alloc?: (size: number) => Uint8Array, maxBytes = MAX_INPUT_BYTES): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (e as Error).message})`, code);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputFileError(path, `${fileKind(st)}, not a regular file`, 'ENOTREG');
    if (st.size > maxBytes) throw new InputFileError(path, `file too large (${st.size} bytes, at most ${maxBytes})`, 'EFBIG');
    const size = st.size;
    const buf = alloc ? alloc(size).subarray(0, size) : new Uint8Array(size);
    let off = 0;
    for (let n = 1; off < size && n > 0; off += n) n = readSync(fd, buf, off, size - off, off);
    return off === size ? buf : buf.subarray(0, off);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(path, `cannot read (${code ?? (e as Error).message})`, code);
  } finally {
    closeSync(fd);
  }
}

/**
 * An input file's bytes, local (readRegularFileSync's rules) or an `s3://bucket/key` object
 * (one GET; refused past `maxBytes` before its body is read). Throws InputFileError in the same
 * words for both ("file not found: s3://…").
 */
export async function readInputFile(path: string, maxBytes = MAX_INPUT_BYTES): Promise<Uint8Array> {
  if (!isS3Url(path)) return readRegularFileSync(path, undefined, maxBytes);
  try {
    const b = await s3GetUrl(path, maxBytes);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const err = e as S3Error;
    throw new InputFileError(path, err.code === 'ENOENT' ? 'file not found' : err.reason ?? err.message, err.code);
  }
}
