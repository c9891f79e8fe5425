/**
 * An append-only shard file: the writer's only way to put bytes on disk. Two implementations
 * behind one interface, the same bytes either way:
 *
 *   buffered  writev of the frame's parts, in writes of ≤ 1 MiB (see MAX_WRITE_BYTES)
 *   direct    O_DIRECT: parts are copied into a page-aligned staging area and written in
 *             aligned 8 MiB blocks straight to the device, bypassing the page cache; the last
 *             block is padded to 4 KiB and the file truncated to its exact size on finish.
 *             Two blocks: one is written (libuv thread) and hashed (hasher.ts thread, if asked) while
 *             the other fills, so neither costs the main thread.
 *
 * Both compute the file's sha256 as they go when asked (`finish` returns it); the writer asks
 * only with `output.sha256: true` (its CRC-32C digest comes from the frames, digest.ts).
 *
 * Why direct: a run writes ~0.8 MB per 512² slice, terabytes for RSNA PE, that nobody reads
 * back soon. Through the page cache, every written page is first allocated and copied (and on
 * VMs with free-page reporting, like this project's, first faulted in by the host): measured
 * here at 0.5–1.9 ms of system time per slice, the largest single cost of a run. O_DIRECT costs
 * ~0.03 ms per slice and leaves the page cache to the training job. `auto` (the default) uses
 * direct where the filesystem accepts it (ext4, xfs, …) and buffered elsewhere (tmpfs, some
 * network and FUSE filesystems answer EINVAL), also when a filesystem refuses a direct write
 * after accepting the open. (tmpfs takes O_DIRECT since Linux 6.6.)
 *
 * Written by hand: O_DIRECT needs page-aligned memory, which JavaScript cannot request and no
 * npm package offers without a native addon; a WebAssembly.Memory's buffer is page-aligned by
 * construction (V8 maps it with mmap), so it serves as the staging area.
 *
 * @example
 *   const f = await openShardFile('/out/.train-00000.ctws.tmp', 'auto');
 *   await f.append(frame.chunks);
 *   const { length, sha256 } = await f.finish();   // flushed, fsynced, closed; f.direct says which way
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { openHash, type StreamHash } from './hasher.js';

export type ShardIo = 'auto' | 'direct' | 'buffered';

export interface ShardFile {
  /** Whether bytes go to disk with O_DIRECT (false after a fallback). */
  readonly direct: boolean;
  /** Bytes appended so far. */
  readonly length: number;
  /** Appends the parts in order; the caller may reuse them once this resolves. */
  append(chunks: Uint8Array[]): Promise<void>;
  /** Writes what is staged, fsyncs and closes; the file's length and, when hashing, its sha256 (hex). */
  finish(): Promise<{ length: number; sha256?: string }>;
  /** Closes without flushing (the caller discards the file). */
  abort(): Promise<void>;
}

/**
 * Largest single buffered write. A record of 32 slices is ~25 MB; handing it to one writev
 * made the kernel (ext4 with large folios, Linux 6.x) allocate the page cache in large folios,
 * and on this project's VMs that cost ~2 ms of system time per 0.79 MB slice. Writes of ≤ 1 MiB
 * cost ~0.6 ms per slice on the same run (1,008 CT slices: 2.2 s → 0.66 s system time; 256 KiB
 * gave 0.83 s). The bytes on disk are the same either way.
 */
export const MAX_WRITE_BYTES = 1 << 20;

/** Direct I/O alignment of memory, file offsets and lengths (covers 512 B and 4 KiB sectors). */
export const DIRECT_ALIGN = 4096;
/** Staging block: one aligned direct write. */
export const DIRECT_BLOCK = 8 << 20;

/** Splits a frame's parts into consecutive groups of ≤ `limit` bytes (a larger part is a group of its own). */
export function writeGroups(chunks: Uint8Array[], limit = MAX_WRITE_BYTES): { chunks: Uint8Array[]; length: number }[] {
  const groups: { chunks: Uint8Array[]; length: number }[] = [];
  let cur: { chunks: Uint8Array[]; length: number } = { chunks: [], length: 0 };
  for (const c of chunks) {
    if (cur.chunks.length && cur.length + c.length > limit) {
      groups.push(cur);
      cur = { chunks: [], length: 0 };
    }
    cur.chunks.push(c);
    cur.length += c.length;
  }
  if (cur.chunks.length) groups.push(cur);
  return groups;
}

/** Writes the chunks in order from `position`: writev of ≤ `limit` bytes each, short writes completed. */
async function writevAllAt(fh: FileHandle, chunks: Uint8Array[], position: number, limit = Infinity): Promise<void> {
  for (const group of writeGroups(chunks, limit)) {
    const { bytesWritten } = await fh.writev(group.chunks, position);
    if (bytesWritten !== group.length) await writeAllAt(fh, Buffer.concat(group.chunks).subarray(bytesWritten), position + bytesWritten);
    position += group.length;
  }
}

/**
 * Memory known to be page-aligned: WebAssembly.Memory buffers (V8 maps them with mmap), as the
 * fast path's output slabs (fast/slab-pool.ts) register theirs. JavaScript cannot ask for an
 * ArrayBuffer's address, so only registered buffers are handed to O_DIRECT in place.
 */
const pageAligned = new WeakSet<ArrayBufferLike>();

/** Declares `buffer` page-aligned (it must be a WebAssembly.Memory's buffer). */
export function markPageAligned(buffer: ArrayBufferLike): void {
  pageAligned.add(buffer);
}

/** A chunk O_DIRECT takes as it is: in registered page-aligned memory, aligned offset and length. */
function writableInPlace(c: Uint8Array): boolean {
  return c.byteLength > 0 && c.byteOffset % DIRECT_ALIGN === 0 && c.byteLength % DIRECT_ALIGN === 0 && pageAligned.has(c.buffer);
}

/** Writes all of `bytes` at `position`, in pieces of at most `piece` bytes. */
async function writeAllAt(fh: FileHandle, bytes: Uint8Array, position: number, piece = bytes.length): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, off, Math.min(piece, bytes.length - off), position + off);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
    off += bytesWritten;
  }
}

class BufferedShardFile implements ShardFile {
  readonly direct = false;
  length = 0;
  private readonly hash: Hash | undefined;
  constructor(private readonly fh: FileHandle, sha256: boolean) {
    this.hash = sha256 ? createHash('sha256') : undefined;
  }

  async append(chunks: Uint8Array[]): Promise<void> {
    const at = this.length;
    this.length += chunks.reduce((n, c) => n + c.length, 0);
    await writevAllAt(this.fh, chunks, at, MAX_WRITE_BYTES);
    if (this.hash) for (const c of chunks) this.hash.update(c);
  }

  async finish(): Promise<{ length: number; sha256?: string }> {
    await this.fh.sync();
    await this.fh.close();
    return { length: this.length, sha256: this.hash?.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.fh.close();
  }
}

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no WebAssembly types). */
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }).WebAssembly;

// Staging areas (two blocks each) are reused across shards: one per open shard file, usually one or two.
const freeStaging: SharedArrayBuffer[] = [];

function takeStaging(): SharedArrayBuffer {
  const pages = (2 * DIRECT_BLOCK) / 65536; // WebAssembly pages are 64 KiB
  return freeStaging.pop() ?? new Wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
}

/** Staged, double-buffered writes: O_DIRECT while the filesystem takes it, buffered after a refusal. */
class StagedShardFile implements ShardFile {
  direct = true;
  length = 0;
  /** File offset of the block being filled. */
  private offset = 0;
  private fill = 0;
  private block = 0;
  private sab: SharedArrayBuffer | undefined = takeStaging();
  private readonly blocks: Uint8Array[];
  /** Write + hash of each block in flight. */
  private readonly inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
  private readonly hash: StreamHash | undefined;
  private fallback: Promise<void> | undefined;
  private directFh: FileHandle | undefined;

  constructor(private fh: FileHandle, private readonly path: string, private readonly openFile: OpenFile, sha256: boolean) {
    this.hash = sha256 ? openHash() : undefined;
    this.blocks = [new Uint8Array(this.sab!, 0, DIRECT_BLOCK), new Uint8Array(this.sab!, DIRECT_BLOCK, DIRECT_BLOCK)];
  }

  async append(chunks: Uint8Array[]): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      if (this.direct && !this.hash && writableInPlace(c) && (this.offset + this.fill) % DIRECT_ALIGN === 0) {
        // Page-aligned memory at an aligned file offset (the images of an aligned record,
        // format.ts alignPad): written from where it is, with the aligned chunks after it.
        let j = i + 1;
        while (j < chunks.length && writableInPlace(chunks[j])) j++;
        await this.writeInPlace(chunks.slice(i, j));
        i = j - 1;
        continue;
      }
      for (let off = 0; off < c.length; ) {
        const n = Math.min(c.length - off, DIRECT_BLOCK - this.fill);
        this.blocks[this.block].set(c.subarray(off, off + n), this.fill);
        this.fill += n;
        off += n;
        this.length += n;
        if (this.fill === DIRECT_BLOCK) await this.submit(DIRECT_BLOCK);
      }
    }
  }

  /**
   * Writes page-aligned chunks at the current (aligned) file offset straight from their memory:
   * what is staged goes first (its length is aligned, as the offset the chunks start at), then
   * one writev. Resolves when written, so the caller may reuse the chunks.
   */
  private async writeInPlace(run: Uint8Array[]): Promise<void> {
    if (this.fill > 0) await this.submit(this.fill);
    const at = this.offset;
    const total = run.reduce((n, c) => n + c.length, 0);
    this.offset += total;
    this.length += total;
    await this.writeDirectOr(
      () => writevAllAt(this.fh, run, at),
      () => writevAllAt(this.fh, run, at, MAX_WRITE_BYTES),
    );
  }

  /** Starts writing and hashing the current block (its first `fill` bytes, `len` with padding); switches blocks. */
  private async submit(len: number): Promise<void> {
    const k = this.block;
    const at = this.offset;
    const fill = this.fill;
    const done = Promise.all([this.write(k, len, fill, at), this.hash?.update(this.sab!, k * DIRECT_BLOCK, fill)]).then(() => undefined);
    done.catch(() => {}); // awaited below or in finish; a failure surfaces there
    this.inFlight[k] = done;
    this.offset += fill;
    this.fill = 0;
    this.block = k ^ 1;
    // The other block is free to fill once its own write and hash are done.
    await this.inFlight[this.block];
    this.inFlight[this.block] = undefined;
  }

  private write(k: number, len: number, fill: number, at: number): Promise<void> {
    return this.writeDirectOr(
      () => writeAllAt(this.fh, this.blocks[k].subarray(0, len), at),
      () => writeAllAt(this.fh, this.blocks[k].subarray(0, fill), at, MAX_WRITE_BYTES),
    );
  }

  /**
   * `direct` while O_DIRECT is accepted; after an EINVAL (here or in a write in flight) the
   * file goes buffered and `buffered` writes the same bytes (unpadded, in ≤ 1 MiB pieces).
   */
  private async writeDirectOr(direct: () => Promise<void>, buffered: () => Promise<void>): Promise<void> {
    if (this.direct) {
      try {
        return await direct();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        await this.toBuffered();
      }
    }
    await this.fallback; // another write may be switching handles
    await buffered();
  }

  /**
   * Accepted at open, refused at write (some FUSE/network filesystems): buffered from here on.
   * The direct handle stays open until finish (the other block may still be using it).
   */
  private toBuffered(): Promise<void> {
    this.fallback ??= (async () => {
      this.direct = false;
      this.directFh = this.fh;
      this.fh = await this.openFile(this.path, constants.O_WRONLY);
    })();
    return this.fallback;
  }

  async finish(): Promise<{ length: number; sha256?: string }> {
    const exact = this.length;
    if (this.fill > 0) {
      // The tail: padded to the alignment (direct), then cut back to the exact length.
      const padded = Math.ceil(this.fill / DIRECT_ALIGN) * DIRECT_ALIGN;
      this.blocks[this.block].fill(0, this.fill, padded);
      await this.submit(padded);
    }
    await Promise.all(this.inFlight);
    const sha256 = await this.hash?.digest();
    this.release();
    await this.fh.truncate(exact);
    await this.fh.sync();
    await this.fh.close();
    await this.directFh?.close();
    return { length: exact, sha256 };
  }

  private release(): void {
    if (this.sab) freeStaging.push(this.sab);
    this.sab = undefined;
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.hash?.digest().catch(() => undefined); // ends the hash stream
    this.release();
    await this.fh.close();
    await this.directFh?.close();
  }
}

/** How files are opened: fs/promises' open, replaceable in tests (a filesystem that refuses O_DIRECT). */
export type OpenFile = (path: string, flags: number, mode?: number) => Promise<FileHandle>;

/**
 * Creates (truncates) `path` for appending. `direct` fails where the filesystem refuses
 * O_DIRECT at open; `auto` then falls back to buffered. `sha256`: hash the bytes as they go.
 */
export async function openShardFile(path: string, io: ShardIo = 'auto', openFile: OpenFile = open, sha256 = true): Promise<ShardFile> {
  if (io !== 'buffered' && constants.O_DIRECT !== undefined) {
    try {
      const fh = await openFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o644);
      return new StagedShardFile(fh, path, openFile, sha256);
    } catch (e) {
      if (io === 'direct' || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  } else if (io === 'direct') {
    throw new Error(`${path}: output.io is 'direct' but this platform has no O_DIRECT`);
  }
  return new BufferedShardFile(await openFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644), sha256);
}
