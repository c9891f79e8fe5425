/**
 * An append-only shard file: the writer's only way to put bytes on disk. Two implementations
 * behind one interface, the same bytes either way:
 *
 *   buffered  writev of the frame's parts, in writes of ≤ 1 MiB (see MAX_WRITE_BYTES)
 *   direct    O_DIRECT: parts are copied into a page-aligned staging area and written in
 *             aligned 8 MiB blocks straight to the device, bypassing the page cache; the last
 *             block is padded to 4 KiB and the file truncated to its exact size on finish
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
 *   const bytes = await f.finish();   // flushed, fsynced, closed; f.direct says which way
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';

export type ShardIo = 'auto' | 'direct' | 'buffered';

export interface ShardFile {
  /** Whether bytes go to disk with O_DIRECT. */
  readonly direct: boolean;
  /** Bytes appended so far. */
  readonly length: number;
  append(chunks: Uint8Array[]): Promise<void>;
  /** Writes what is staged, fsyncs and closes; returns the file's length. */
  finish(): Promise<number>;
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

async function writeAllAt(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, position + off);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
    off += bytesWritten;
  }
}

class BufferedShardFile implements ShardFile {
  readonly direct = false;
  length: number;
  constructor(private readonly fh: FileHandle, length = 0) {
    this.length = length;
  }

  async append(chunks: Uint8Array[]): Promise<void> {
    for (const group of writeGroups(chunks)) {
      const { bytesWritten } = await this.fh.writev(group.chunks, this.length);
      if (bytesWritten !== group.length) {
        // Short write (rare on regular files): write the remainder explicitly.
        const rest = Buffer.concat(group.chunks).subarray(bytesWritten);
        await writeAllAt(this.fh, rest, this.length + bytesWritten);
      }
      this.length += group.length;
    }
  }

  async finish(): Promise<number> {
    await this.fh.sync();
    await this.fh.close();
    return this.length;
  }

  async abort(): Promise<void> {
    await this.fh.close();
  }
}

// Staging areas are reused across shards (one per open shard file, usually one or two).
const freeStaging: Uint8Array[] = [];

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no WebAssembly types). */
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

function takeStaging(): Uint8Array {
  const s = freeStaging.pop();
  if (s) return s;
  const pages = DIRECT_BLOCK / 65536; // WebAssembly pages are 64 KiB
  return new Uint8Array(new Wasm.Memory({ initial: pages, maximum: pages }).buffer);
}

class DirectShardFile implements ShardFile {
  direct = true;
  length = 0;
  /** Bytes of the file already on disk (a multiple of DIRECT_BLOCK while open). */
  private flushed = 0;
  private fill = 0;
  private staging: Uint8Array | undefined = takeStaging();
  private fallback: BufferedShardFile | undefined;

  constructor(private readonly fh: FileHandle, private readonly path: string, private readonly openFile: OpenFile) {}

  async append(chunks: Uint8Array[]): Promise<void> {
    if (this.fallback) return this.appendFallback(chunks);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      for (let off = 0; off < c.length; ) {
        const n = Math.min(c.length - off, DIRECT_BLOCK - this.fill);
        this.staging!.set(c.subarray(off, off + n), this.fill);
        this.fill += n;
        off += n;
        this.length += n;
        if (this.fill < DIRECT_BLOCK) continue;
        await this.flushBlock(DIRECT_BLOCK);
        // The filesystem refused direct writes: the rest goes buffered.
        if (this.fallback) return this.appendFallback([c.subarray(off), ...chunks.slice(i + 1)]);
      }
    }
  }

  private async appendFallback(chunks: Uint8Array[]): Promise<void> {
    await this.fallback!.append(chunks);
    this.length = this.fallback!.length;
  }

  /** Writes staging[0, len) (len a multiple of DIRECT_ALIGN) at `flushed`. */
  private async flushBlock(len: number): Promise<void> {
    try {
      await writeAllAt(this.fh, this.staging!.subarray(0, len), this.flushed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      // Accepted at open, refused at write (some FUSE/network filesystems): go buffered.
      await this.fh.close();
      const fh = await this.openFile(this.path, constants.O_WRONLY);
      this.fallback = new BufferedShardFile(fh, this.flushed);
      this.direct = false;
      await this.fallback.append([this.staging!.subarray(0, this.fill)]);
      this.releaseStaging();
      return;
    }
    this.flushed += len;
    this.fill = 0;
  }

  private releaseStaging(): void {
    if (this.staging) freeStaging.push(this.staging);
    this.staging = undefined;
  }

  async finish(): Promise<number> {
    if (!this.fallback && this.fill > 0) {
      // The tail: padded to the alignment, then cut back to the exact length.
      const padded = Math.ceil(this.fill / DIRECT_ALIGN) * DIRECT_ALIGN;
      this.staging!.fill(0, this.fill, padded);
      const exact = this.length;
      await this.flushBlock(padded);
      if (!this.fallback) await this.fh.truncate(exact);
    }
    if (this.fallback) return this.fallback.finish();
    this.releaseStaging();
    await this.fh.sync();
    await this.fh.close();
    return this.length;
  }

  async abort(): Promise<void> {
    this.releaseStaging();
    if (this.fallback) return this.fallback.abort();
    await this.fh.close();
  }
}

/** How files are opened: fs/promises' open, replaceable in tests (a filesystem that refuses O_DIRECT). */
export type OpenFile = (path: string, flags: number, mode?: number) => Promise<FileHandle>;

/**
 * Creates (truncates) `path` for appending. `direct` fails where the filesystem refuses
 * O_DIRECT; `auto` then falls back to buffered.
 */
export async function openShardFile(path: string, io: ShardIo = 'auto', openFile: OpenFile = open): Promise<ShardFile> {
  if (io !== 'buffered' && constants.O_DIRECT !== undefined) {
    try {
      const fh = await openFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o644);
      return new DirectShardFile(fh, path, openFile);
    } catch (e) {
      if (io === 'direct' || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  } else if (io === 'direct') {
    throw new Error(`${path}: output.io is 'direct' but this platform has no O_DIRECT`);
  }
  return new BufferedShardFile(await openFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644));
}
