/**
 * manifest.json: the dataset's table of contents, written last (atomically) so a folder
 * without it is visibly incomplete. Holds nothing run-dependent (no timestamps, no host
 * names): the same config and seed give a byte-identical manifest.
 *
 * @example
 *   await writeManifest(out, { formatVersion: FORMAT_VERSION, createdBy, config, configHash: hashConfig(config), ... });
 *   const m = await readManifest(out);
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BackendInfo, OutputDType, Quarantine, Split } from '../types.js';
import { canonicalJson, writeFileAtomic } from './atomic.js';
import { MANIFEST, READABLE_FORMATS } from './format.js';
import { MAX_JSON_BYTES, inFolder, plainFileName, readInFolder } from './folder.js';

/** One complete shard as listed in its index and in the manifest. */
export interface ShardInfo {
  /** Shard file name, relative to the dataset folder (e.g. `train-00000.ctws`). */
  file: string;
  /** Its index file name (e.g. `train-00000.idx.json`). */
  index: string;
  /** Running index (within the split) of the shard's first record. */
  firstRecord: number;
  records: number;
  slices: number;
  bytes: number;
  /** CRC-32C of the shard file, 8 lower-case hex digits (format 2; digest.ts). */
  crc32c?: string;
  /** Lower-case hex sha256 of the shard file (format 1 always; format 2 with `output.sha256: true`). */
  sha256?: string;
  positives: number;
  negatives: number;
}

export interface SplitSummary {
  shards: ShardInfo[];
  records: number;
  slices: number;
  positives: number;
  negatives: number;
  /** Slices per label value, keys are the label as a string ("0", "1"). */
  classCounts: Record<string, number>;
  /** Balanced-sampling statistics from the sampler: slices dropped and slices repeated. */
  sampling: { dropped: number; repeated: number; method?: string; counted?: { positives: number; negatives: number }; [k: string]: unknown };
}

export interface Manifest {
  formatVersion: number;
  createdBy: { name: string; version: string };
  /** The resolved config the run used, and sha256 of its canonical JSON (see hashConfig). */
  config: unknown;
  configHash: string;
  backend: BackendInfo;
  channels: string[];
  dtype: OutputDType;
  /** [H, W, C] of every slice. */
  imageShape: [number, number, number];
  splits: Partial<Record<Split, SplitSummary>>;
  /**
   * Every data row of the CSV accounted for (`ctwindow run`): data = written + dropped + quarantined,
   * `written` counting distinct rows (slices less the `repeated` of oversampling).
   */
  rows?: { data: number; written: number; repeated: number; dropped: number; quarantined: number };
  /**
   * Inputs set aside, with their reasons. Datasets of `ctwindow run`: the first 100 by CSV line,
   * all of them in `quarantine.file` (JSON lines), counted in `quarantine`.
   */
  quarantined: Quarantine[];
  /** The whole quarantine (`ctwindow run`): its log file in the folder, counts by stage and by reason in words. */
  quarantine?: {
    file: string;
    count: number;
    byStage: Record<string, number>;
    byReason: { reason: string; count: number; example: string }[];
    /** How many of them `quarantined` lists. */
    listed: number;
  };
  /** Present on datasets made by `ctwindow merge`: the source folders' config hashes, in merge order. */
  mergedFrom?: { configHash: string; records: Partial<Record<Split, number>> }[];
  /** Slice-context runs: channel layout and counts (edge-filled neighbours, neighbours missing on disk, …). */
  context?: Record<string, unknown>;
  /** What the data told the run before it started (an empty split, a class with no rows). */
  warnings?: string[];
  /** Why the run failed although it finished (nothing written, too much quarantined): `ctwindow run` exited 1. */
  problems?: string[];
}

/** Why a shard entry's digests do not fit its format version (1: sha256; 2: crc32c, sha256 optional), or undefined. */
export function digestProblem(sh: { crc32c?: unknown; sha256?: unknown }, formatVersion: number): string | undefined {
  if (sh.sha256 !== undefined && !(typeof sh.sha256 === 'string' && /^[0-9a-f]{64}$/.test(sh.sha256))) return 'sha256 must be 64 lower-case hex digits';
  if (sh.crc32c !== undefined && !(typeof sh.crc32c === 'string' && /^[0-9a-f]{8}$/.test(sh.crc32c))) return 'crc32c must be 8 lower-case hex digits';
  if (formatVersion === 1 && sh.sha256 === undefined) return 'field "sha256" missing (format 1)';
  if (formatVersion >= 2 && sh.crc32c === undefined) return `field "crc32c" missing (format ${formatVersion})`;
  return undefined;
}

/** sha256 (hex) of the canonical JSON (sorted keys) of a config. */
export function hashConfig(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** Sums shard infos into a split summary; `sampling` comes from the sampler. */
export function summarizeSplit(shards: ShardInfo[], sampling: SplitSummary['sampling'] = { dropped: 0, repeated: 0 }): SplitSummary {
  const s: SplitSummary = { shards, records: 0, slices: 0, positives: 0, negatives: 0, classCounts: {}, sampling };
  for (const sh of shards) {
    s.records += sh.records;
    s.slices += sh.slices;
    s.positives += sh.positives;
    s.negatives += sh.negatives;
  }
  if (s.negatives) s.classCounts['0'] = s.negatives;
  if (s.positives) s.classCounts['1'] = s.positives;
  return s;
}

/** Writes manifest.json atomically (canonical JSON, sorted keys). */
export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  // A merge of format-1 folders stays format 1 (its shards carry format-1 digests).
  if (!READABLE_FORMATS.includes(m.formatVersion)) throw new Error(`writeManifest: formatVersion must be one of ${READABLE_FORMATS.join(', ')}, got ${m.formatVersion}`);
  if (!m.splits || typeof m.splits !== 'object') throw new Error('writeManifest: manifest.splits is required');
  await writeFileAtomic(join(dir, MANIFEST), canonicalJson(m));
}

/** Reads and checks manifest.json of a dataset folder. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = inFolder(dir, MANIFEST);
  let text: string;
  try {
    text = (await readInFolder(dir, MANIFEST, MAX_JSON_BYTES)).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: no manifest.json (not a ctwindow dataset, or its run did not finish)` : (e as Error).message);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!READABLE_FORMATS.includes(m.formatVersion)) throw new Error(`${path}: formatVersion ${m.formatVersion}, this reader supports ${READABLE_FORMATS.join(' and ')}`);
  if (!m.splits || typeof m.splits !== 'object') throw new Error(`${path}: field "splits" missing`);
  for (const [split, s] of Object.entries(m.splits)) {
    if (!s || !Array.isArray(s.shards)) throw new Error(`${path}: splits.${split}.shards must be an array`);
    s.shards.forEach((sh, i) => {
      const where = `${path}: splits.${split}.shards[${i}]`;
      if (!sh || typeof sh !== 'object') throw new Error(`${where} must be an object`);
      plainFileName(sh.file, `${where}.file`);
      plainFileName(sh.index, `${where}.index`);
      for (const k of ['records', 'slices', 'bytes', 'firstRecord'] as const) {
        if (!Number.isSafeInteger(sh[k]) || sh[k] < 0) throw new Error(`${where}.${k} must be a non-negative integer, got ${JSON.stringify(sh[k])}`);
      }
      const problem = digestProblem(sh, m.formatVersion);
      if (problem) throw new Error(`${where}: ${problem}`);
    });
  }
  return m;
}
