/**
 * Node readers: records in written order (`readRecords`), random access by index entry
 * (`ShardFiles.read`), and the shared loading of manifest + indexes (`loadDataset`).
 * Every frame's CRCs are always checked (crc32c is hardware-accelerated: ~2 GB/s); `verify: true`
 * also checks each shard's sha256 before any of its records is yielded (a second full read,
 * ~6× slower; `ctwindow verify` does the complete check).
 *
 * @example
 *   for await (const r of readRecords(out, { split: 'train' })) console.log(r.index, r.shape, r.pixels.length);
 */
import { join } from 'node:path';
import type { Split } from '../types.js';
import { decodeFrameAt, decodeImages, decodePayload, FRAME_OVERHEAD, type RecordPayload } from './format.js';
import { readManifest, type Manifest } from './manifest.js';
import { readShardIndex, type IndexEntry, type ShardIndex } from './shard-index.js';
import { checkShardFile, sameDigests } from './digest.js';
import { openInFolder, type FolderFile } from './folder.js';

export interface DecodedRecord extends RecordPayload {
  /** Images as numbers: Uint8Array for uint8; Float32Array for float32 and float16 (widened). */
  pixels: Uint8Array | Float32Array;
  /** Shard file and position of the record in it. */
  shard: string;
  position: number;
}

export interface LoadedSplit {
  manifest: Manifest;
  split: Split;
  indexes: ShardIndex[];
}

/** Reads the manifest and the indexes of one split; checks they agree. */
export async function loadDataset(dir: string, split: Split = 'train'): Promise<LoadedSplit> {
  const manifest = await readManifest(dir);
  const s = manifest.splits[split];
  if (!s) throw new Error(`${dir}: manifest has no '${split}' split (has ${Object.keys(manifest.splits).join(', ') || 'none'})`);
  const indexes: ShardIndex[] = [];
  for (const info of s.shards) {
    const idx = await readShardIndex(dir, info.index);
    if (!sameDigests(idx, info) || idx.records !== info.records) {
      throw new Error(`${info.index}: does not match manifest.json (digests/records differ); run ctwindow verify ${dir}`);
    }
    indexes.push(idx);
  }
  return { manifest, split, indexes };
}

/** Open shard files with random access to frames. */
export class ShardFiles {
  private handles = new Map<string, FolderFile>();
  constructor(private readonly dir: string) {}

  /** Reads and decodes the record of `entry` in `file` (CRCs checked). */
  async read(file: string, entry: IndexEntry, position: number): Promise<DecodedRecord> {
    let h = this.handles.get(file);
    if (!h) {
      h = await openInFolder(this.dir, file); // a regular file inside the folder, or an S3 object
      this.handles.set(file, h);
    }
    const where = `${file} record ${entry.index}`;
    // The index is data: its length is allocated only once the frame is known to fit the file.
    if (entry.offset + entry.length + FRAME_OVERHEAD > h.size) {
      throw new Error(`${where}: the index places it at bytes ${entry.offset}–${entry.offset + entry.length + FRAME_OVERHEAD}, the shard has ${h.size} bytes (truncated or a damaged index); run ctwindow verify ${this.dir}`);
    }
    const buf = await h.read(entry.offset, entry.length + FRAME_OVERHEAD);
    let payload: Buffer;
    try {
      ({ payload } = decodeFrameAt(buf, 0));
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    const rec = decodePayload(payload, where);
    return { ...rec, pixels: decodeImages(rec.images, rec.dtype), shard: file, position };
  }

  async close(): Promise<void> {
    for (const f of this.handles.values()) await f.close();
    this.handles.clear();
  }
}

export interface ReadOptions {
  split?: Split;
  /** Also check each shard's digests (crc32c; sha256 when recorded) before reading it (default false; frame CRCs are always checked). */
  verify?: boolean;
}

/** All records of a split in written order (shard by shard). */
export async function* readRecords(dir: string, opts: ReadOptions = {}): AsyncGenerator<DecodedRecord> {
  const { indexes } = await loadDataset(dir, opts.split ?? 'train');
  const files = new ShardFiles(dir);
  try {
    for (const idx of indexes) {
      if (opts.verify ?? false) {
        const problem = await checkShardFile(dir, idx.file, idx);
        if (problem) throw new Error(`${idx.file}: ${problem} (shard damaged); run ctwindow verify ${dir}`);
      }
      for (const [pos, e] of idx.entries.entries()) yield await files.read(idx.file, e, pos);
    }
  } finally {
    await files.close();
  }
}
