/**
 * Shard writer for one split. Records are framed (format.ts) and appended to a temp shard
 * `.train-00003.ctws.tmp`; when the next record would push the shard past `shardBytes`, the
 * shard is fsynced, its index written, and both renamed to their final names. A shard under
 * its final name with its index is therefore complete; anything else is discarded on resume.
 *
 * Each shard's CRC-32C (digest.ts) is folded from its frames' CRCs as they are written; its
 * sha256 is computed too with `sha256: true`.
 *
 * Resume (`resume: true`): complete shards of the split are checked (index present, size and
 * digests match), counted into `committedRecords`/`committedNotes`, and numbering continues
 * after them. Shard boundaries depend only on the record sequence and `shardBytes`, so an
 * interrupted-and-resumed run ends with the same bytes as an uninterrupted one.
 *
 * @example
 *   const w = await openShardWriter({ dir: out, split: 'train', shardBytes: 256 << 20, resume });
 *   for await (const rec of records(w.committedRecords)) await w.append(rec, notesFor(rec));
 *   const shards = await w.close();
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchRecord, Quarantine, Split } from '../types.js';
import { canonicalJson, tmpPathFor, writeFileAtomic } from './atomic.js';
import { encodeFrameParts, encodePayloadParts, FORMAT_VERSION, indexNameFor, INDEX_EXT, MANIFEST, SHARD_EXT, shardName } from './format.js';
import type { ShardInfo } from './manifest.js';
import { infoOf, readShardIndex, type IndexEntry, type ShardIndex } from './shard-index.js';
import { openShardFile, type OpenFile, type ShardFile, type ShardIo } from './shard-file.js';
import { crc32cCombine, crc32cHex } from './crc32c-combine.js';
import { checkShardFile } from './digest.js';

export interface ShardWriterOptions {
  dir: string;
  split: Split;
  /** Shard size limit in bytes (frames included). A record larger than this gets a shard of its own. */
  shardBytes: number;
  /** Continue after the complete shards of a previous, interrupted run in `dir`. */
  resume?: boolean;
  /** How bytes reach the disk (shard-file.ts); the bytes are the same. Default 'auto'. */
  io?: ShardIo;
  /** Also record each shard's sha256 (one more pass over the bytes; digest.ts). Default false. */
  sha256?: boolean;
  /** How shard files are opened (shard-file.ts's OpenFile): tests inject filesystems here. */
  openFile?: OpenFile;
  /** Runs before each shard is committed (its index written): the pipeline makes its quarantine log durable here. */
  beforeCommit?: () => Promise<void>;
  /** Runs once a shard is committed (index and shard under their final names): the pipeline uploads them here. */
  afterCommit?: (index: string, shard: string) => Promise<void>;
}

export interface ShardWriter {
  /** Records already committed in complete shards (resume); the pipeline skips that many records of this split. */
  readonly committedRecords: number;
  /** Quarantine notes stored with committed records by builds before quarantine.jsonl (read on resume). */
  readonly committedNotes: Quarantine[];
  /**
   * Appends one record; `notes` (optional) are stored with it in the shard's index (synthetic
   * datasets; the pipeline logs its quarantine to quarantine.jsonl instead). The record is laid
   * out when this is called (its place, its index entry), its
   * bytes written in call order after the records before it; the promise settles when they are
   * written, and the record's buffers may be reused. A caller may append the next record before
   * that (the pipeline encodes record k+1 while k is written). A failed write fails the appends
   * queued after it, and close.
   */
  append(record: BatchRecord, notes?: Quarantine[]): Promise<void>;
  /** Completes the open shard; returns all shards of this split, committed ones included. */
  close(): Promise<ShardInfo[]>;
  /** Shards complete under their final names so far (committed ones included): what a resume keeps. */
  completed(): ShardInfo[];
}

/** The output folder cannot take this run (another run's shards, a different shardBytes): a user error, not a crash. */
export class OutputFolderError extends Error {}


/** Is `name` a shard, index or temp file of `split`? */
function belongsTo(name: string, split: Split): boolean {
  const base = name.startsWith('.') && name.endsWith('.tmp') ? name.slice(1, -4) : name;
  return base.startsWith(`${split}-`) && (base.endsWith(SHARD_EXT) || base.endsWith(INDEX_EXT));
}

/**
 * Describes a previous run's output in `dir` (manifest or shards), or undefined when the folder
 * is absent or holds none. The pipeline refuses such a folder unless resuming.
 */
export async function describeExistingOutput(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const shards = names.filter((n) => n.endsWith(SHARD_EXT)).length;
  const partial = names.filter((n) => n.startsWith('.') && n.endsWith('.tmp')).length;
  const manifest = names.includes(MANIFEST);
  if (!manifest && !shards && !partial) return undefined;
  const what = manifest
    ? `a complete dataset (manifest.json, ${shards} shard(s))`
    : `an unfinished run (${shards} shard(s), ${partial} partial file(s), no manifest.json)`;
  return `output folder ${dir} already holds ${what}; choose an empty folder, delete it, or pass --resume to continue an unfinished run`;
}

/** Finds the complete shards of `split` from shard 0 on; anything after the first gap is returned as stale. */
async function scanCommitted(dir: string, split: Split, shardBytes: number): Promise<{ committed: ShardIndex[]; stale: string[] }> {
  const names = new Set(await readdir(dir));
  const committed: ShardIndex[] = [];
  let first = 0;
  for (let n = 0; ; n++) {
    const file = shardName(split, n);
    const idxFile = indexNameFor(file);
    if (!names.has(file) || !names.has(idxFile)) break;
    let idx: ShardIndex;
    try {
      idx = await readShardIndex(dir, idxFile);
    } catch {
      break;
    }
    if (idx.formatVersion !== FORMAT_VERSION) {
      throw new OutputFolderError(`resume: ${idxFile} is format ${idx.formatVersion}, this build writes format ${FORMAT_VERSION}; one dataset cannot mix them: finish it with the build that started it, or start again in an empty folder`);
    }
    if (idx.shardBytes !== shardBytes) {
      throw new OutputFolderError(`resume: ${idxFile} was written with shardBytes=${idx.shardBytes}, this run uses ${shardBytes}; resume with the same config`);
    }
    const st = await stat(join(dir, file));
    if (idx.split !== split || idx.firstRecord !== first || st.size !== idx.bytes) break;
    if (await checkShardFile(dir, file, idx)) break;
    committed.push(idx);
    first += idx.records;
  }
  const keep = new Set(committed.flatMap((i) => [i.file, i.index]));
  const stale = [...names].filter((n) => belongsTo(n, split) && !keep.has(n));
  return { committed, stale };
}

export async function openShardWriter(opts: ShardWriterOptions): Promise<ShardWriter> {
  const { dir, split, shardBytes } = opts;
  if (split !== 'train' && split !== 'val') throw new Error(`openShardWriter: split must be 'train' or 'val', got ${JSON.stringify(split)}`);
  if (!Number.isInteger(shardBytes) || shardBytes <= 0) throw new Error(`openShardWriter: shardBytes must be a positive integer, got ${shardBytes}`);
  await mkdir(dir, { recursive: true });

  const { committed, stale } = await scanCommitted(dir, split, shardBytes);
  if (!opts.resume && committed.length) {
    throw new OutputFolderError(`openShardWriter: ${dir} already holds ${committed.length} ${split} shard(s) from another run; pass resume to continue it or use an empty folder`);
  }
  // Partial/temp shards of an interrupted run (and, without resume, stale files) are discarded.
  for (const n of stale) await rm(join(dir, n), { force: true });

  const shards: ShardInfo[] = committed.map(infoOf);
  const committedRecords = committed.reduce((a, i) => a + i.records, 0);
  const committedNotes = committed.flatMap((i) => i.entries.flatMap((e) => e.notes ?? []));

  let nextShard = committed.length;
  let nextIndex = committedRecords;
  let closed = false;
  // The open shard as planned: each append lays out its record at once (offset, rotation,
  // index entry, CRC), and queues its I/O behind the I/O of the records before it. A caller
  // may therefore encode the next record while this one is still being written.
  let open = false;
  let bytes = 0;
  let crc = 0; // CRC-32C of the open shard's bytes so far
  let firstRecord = nextIndex;
  let entries: IndexEntry[] = [];
  // I/O, one step after another: open a shard file, append a frame, finish a shard.
  let io: Promise<void> = Promise.resolve();
  let fh: ShardFile | undefined;

  /** Queues the completion of the open shard (fsync, index, rename) and starts a new plan. */
  function queueFinish(): void {
    if (!open) return;
    const shard = nextShard;
    const plan = { bytes, crc, firstRecord, entries };
    open = false;
    nextShard++;
    bytes = 0;
    crc = 0;
    entries = [];
    io = io.then(async () => {
      const file = shardName(split, shard);
      const idxFile = indexNameFor(file);
      const written = await fh!.finish();
      fh = undefined;
      if (written.length !== plan.bytes) throw new Error(`ShardWriter: ${file}: wrote ${written.length} bytes, expected ${plan.bytes}`);
      const sum = (k: 'slices' | 'positives' | 'negatives') => plan.entries.reduce((a, e) => a + e[k], 0);
      const idx: ShardIndex = {
        formatVersion: FORMAT_VERSION,
        file,
        index: idxFile,
        split,
        shard,
        shardBytes,
        firstRecord: plan.firstRecord,
        records: plan.entries.length,
        slices: sum('slices'),
        bytes: plan.bytes,
        crc32c: crc32cHex(plan.crc),
        sha256: written.sha256,
        positives: sum('positives'),
        negatives: sum('negatives'),
        entries: plan.entries,
      };
      await opts.beforeCommit?.();
      // Index first, then the shard: a shard under its final name always has its index.
      await writeFileAtomic(join(dir, idxFile), canonicalJson(idx));
      await rename(tmpPathFor(join(dir, file)), join(dir, file));
      shards.push(infoOf(idx));
      await opts.afterCommit?.(idxFile, file);
    });
  }

  /** Lays out `record` and queues its I/O; the promise settles when its bytes are written. */
  function append(record: BatchRecord, notes: Quarantine[] = []): Promise<void> {
    if (closed) return Promise.reject(new Error('ShardWriter.append: writer is closed'));
    if (record.split !== split) return Promise.reject(new Error(`ShardWriter.append: record ${record.index} is split '${record.split}', this writer writes '${split}'`));
    if (record.index !== nextIndex) return Promise.reject(new Error(`ShardWriter.append: expected record index ${nextIndex} (records are written in order), got ${record.index}`));
    // Framed as parts (the image bytes are not copied here), laid out for where the frame
    // starts: large records align their images (format.ts alignPad), so the frame is
    // encoded again at byte 0 when it opens a new shard.
    const encode = (at: number) => encodeFrameParts(encodePayloadParts(record, at));
    let frame: ReturnType<typeof encode>;
    try {
      frame = encode(open ? bytes : 0);
      if (open && bytes + frame.length > shardBytes) {
        queueFinish();
        frame = encode(0);
      }
    } catch (e) {
      return Promise.reject(new Error(`ShardWriter.append: ${split} record ${record.index}: ${(e as Error).message}`));
    }
    if (!open) {
      const path = tmpPathFor(join(dir, shardName(split, nextShard)));
      io = io.then(async () => {
        fh = await openShardFile(path, opts.io ?? 'auto', opts.openFile, opts.sha256 ?? false);
      });
      open = true;
      firstRecord = nextIndex;
    }
    const chunks = frame.chunks;
    io = io.then(() => fh!.append(chunks));
    const positives = record.labels.filter((l) => l === 1).length;
    const entry: IndexEntry = {
      offset: bytes,
      length: frame.length - 16,
      index: record.index,
      slices: record.shape[0],
      positives,
      negatives: record.labels.length - positives,
    };
    if (notes.length) entry.notes = notes;
    entries.push(entry);
    crc = crc32cCombine(crc, frame.crc, frame.length);
    bytes += frame.length;
    nextIndex++;
    return io;
  }

  return {
    committedRecords,
    committedNotes,
    append,
    completed: () => [...shards],
    async close(): Promise<ShardInfo[]> {
      if (!closed) {
        closed = true;
        queueFinish();
      }
      await io;
      return [...shards];
    },
  };
}
