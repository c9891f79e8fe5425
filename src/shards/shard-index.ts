/**
 * Per-shard index (`<split>-NNNNN.idx.json`): record offsets and lengths for random access,
 * slice and label counts for instant totals, and the quarantine notes of the inputs set aside
 * while the shard's records were made (so a resumed run rebuilds the same manifest).
 *
 * @example
 *   const idx = await readShardIndex(dir, 'train-00000.idx.json');
 *   const { offset, length } = idx.entries[3];   // frame of record 3 starts at `offset`
 */
import type { Quarantine, Split } from '../types.js';
import { FRAME_OVERHEAD, READABLE_FORMATS } from './format.js';
import { MAX_JSON_BYTES, plainFileName, readInFolder } from './folder.js';
import { digestProblem, type ShardInfo } from './manifest.js';

export interface IndexEntry {
  /** Byte offset of the record's frame in the shard. */
  offset: number;
  /** Payload length in bytes (the frame is length + 16 bytes). */
  length: number;
  /** Running index of the record within its split. */
  index: number;
  slices: number;
  positives: number;
  negatives: number;
  /** Inputs quarantined while this record was made; omitted when none. */
  notes?: Quarantine[];
}

export interface ShardIndex extends ShardInfo {
  formatVersion: number;
  split: Split;
  /** Shard number within the split (the NNNNN of the file name). */
  shard: number;
  /** The writer's shard size limit, so resume can refuse a changed limit. */
  shardBytes: number;
  entries: IndexEntry[];
}

/** Reads and checks an index file; errors name the file and the field. */
export async function readShardIndex(dir: string, file: string): Promise<ShardIndex> {
  plainFileName(file, dir);
  let idx: ShardIndex;
  try {
    idx = JSON.parse((await readInFolder(dir, file, MAX_JSON_BYTES)).toString('utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read index (${(e as Error).message})`);
  }
  if (!idx || typeof idx !== 'object') throw new Error(`${file}: not a JSON object`);
  if (!READABLE_FORMATS.includes(idx.formatVersion)) throw new Error(`${file}: formatVersion ${idx.formatVersion}, this reader supports ${READABLE_FORMATS.join(' and ')}`);
  const problem = digestProblem(idx, idx.formatVersion);
  if (problem) throw new Error(`${file}: ${problem}`);
  plainFileName(idx.file, `${file}: field "file"`);
  plainFileName(idx.index, `${file}: field "index"`);
  for (const k of ['records', 'slices', 'bytes', 'firstRecord'] as const) {
    if (!Number.isSafeInteger(idx[k]) || idx[k] < 0) throw new Error(`${file}: field "${k}" must be a non-negative integer, got ${JSON.stringify(idx[k])}`);
  }
  if (!Array.isArray(idx.entries)) throw new Error(`${file}: field "entries" must be an array`);
  if (idx.entries.length !== idx.records) throw new Error(`${file}: ${idx.entries.length} entries but records=${idx.records}`);
  for (const [i, e] of idx.entries.entries()) {
    for (const k of ['offset', 'length', 'index', 'slices', 'positives', 'negatives'] as const) {
      if (!Number.isSafeInteger(e?.[k]) || e[k] < 0) throw new Error(`${file}: entries[${i}].${k} must be a non-negative integer`);
    }
    // A frame must lie inside the shard the index describes: no length read from here is
    // allocated before this holds (and the reader checks it again against the file's size).
    if (e.offset + e.length + FRAME_OVERHEAD > idx.bytes) {
      throw new Error(`${file}: entries[${i}] (offset ${e.offset}, length ${e.length}) ends past the shard's ${idx.bytes} bytes`);
    }
  }
  return idx;
}

/** The ShardInfo part of an index (what the manifest lists). */
export function infoOf(idx: ShardIndex): ShardInfo {
  const { file, index, firstRecord, records, slices, bytes, crc32c, sha256, positives, negatives } = idx;
  const info: ShardInfo = { file, index, firstRecord, records, slices, bytes, positives, negatives };
  // Only the digests the index has (a format-1 index has no crc32c; sha256 is optional in 2).
  if (crc32c !== undefined) info.crc32c = crc32c;
  if (sha256 !== undefined) info.sha256 = sha256;
  return info;
}
