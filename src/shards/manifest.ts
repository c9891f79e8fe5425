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
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendInfo, OutputDType, Quarantine, Split } from '../types.js';
import { canonicalJson, writeFileAtomic } from './atomic.js';
import { FORMAT_VERSION, MANIFEST } from './format.js';

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
  /** Lower-case hex sha256 of the shard file. */
  sha256: string;
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
  sampling: { dropped: number; repeated: number; [k: string]: number };
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
  /** Every input set aside, with its reason. */
  quarantined: Quarantine[];
  /** Present on datasets made by `ctwindow merge`: the source folders' config hashes, in merge order. */
  mergedFrom?: { configHash: string; records: Partial<Record<Split, number>> }[];
  /** Slice-context runs: channel layout and counts (edge-filled neighbours, neighbours missing on disk, …). */
  context?: Record<string, unknown>;
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
  if (m.formatVersion !== FORMAT_VERSION) throw new Error(`writeManifest: formatVersion must be ${FORMAT_VERSION}, got ${m.formatVersion}`);
  if (!m.splits || typeof m.splits !== 'object') throw new Error('writeManifest: manifest.splits is required');
  await writeFileAtomic(join(dir, MANIFEST), canonicalJson(m));
}

/** Reads and checks manifest.json of a dataset folder. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: no manifest.json (not a ctwindow dataset, or its run did not finish)` : `${path}: ${(e as Error).message}`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (m.formatVersion !== FORMAT_VERSION) throw new Error(`${path}: formatVersion ${m.formatVersion}, this reader supports ${FORMAT_VERSION}`);
  if (!m.splits || typeof m.splits !== 'object') throw new Error(`${path}: field "splits" missing`);
  for (const [split, s] of Object.entries(m.splits)) {
    if (!s || !Array.isArray(s.shards)) throw new Error(`${path}: splits.${split}.shards must be an array`);
  }
  return m;
}
