/**
 * Seeded synthetic BatchRecords and datasets, for tests, benchmarks and trying a trainer
 * without DICOM. Same options → same bytes.
 *
 * @example
 *   await writeSyntheticDataset('/tmp/ds', { seed: 1, records: { train: 6, val: 2 }, batch: 4, hw: [8, 8], shardBytes: 4096 });
 */
import type { BatchRecord, OutputDType, Quarantine, Split } from '../types.js';
import { FORMAT_VERSION } from './format.js';
import { hashConfig, summarizeSplit, writeManifest, type Manifest, type SplitSummary } from './manifest.js';
import { openShardWriter } from './writer.js';

/** mulberry32: small seeded uint32 generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  const m = x & 0x7fffff;
  if (e <= 0) return sign; // tiny values flush to zero (inputs here are in [0,1], multiples of 1/1024)
  if (e >= 31) return sign | 0x7c00;
  return sign | (e << 10) | (m >>> 13);
}

export interface SyntheticRecordOptions {
  seed: number;
  split: Split;
  index: number;
  batch: number;
  hw: [number, number];
  channels?: string[];
  dtype?: OutputDType;
}

/** One seeded record: random pixels, alternating-ish labels, made-up UIDs. */
export function syntheticRecord(o: SyntheticRecordOptions): BatchRecord {
  const channels = o.channels ?? ['brain', 'subdural', 'bone'];
  const dtype = o.dtype ?? 'uint8';
  const [H, W] = o.hw;
  const C = channels.length;
  const B = o.batch;
  const r = rng(o.seed * 1000003 + o.index * 7919 + (o.split === 'val' ? 17 : 0));
  const n = B * H * W * C;
  let images: Uint8Array;
  if (dtype === 'uint8') {
    images = new Uint8Array(n);
    for (let i = 0; i < n; i++) images[i] = r() & 0xff;
  } else if (dtype === 'float32') {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = (r() % 1025) / 1024;
    images = new Uint8Array(f.buffer);
  } else {
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = floatToHalf((r() % 1025) / 1024);
    images = new Uint8Array(h.buffer);
  }
  const labels = Array.from({ length: B }, (_, i) => (i % 2 === 0 ? 1 : r() & 1));
  const uid = (k: string, i: number) => `1.2.826.0.1.${o.seed}.${o.split === 'val' ? 2 : 1}.${k}.${o.index}.${i}`;
  return {
    images,
    shape: [B, H, W, C],
    dtype,
    labels,
    study: labels.map((_, i) => uid('st', Math.floor(i / 2))),
    series: labels.map((_, i) => uid('se', Math.floor(i / 2))),
    sop: labels.map((_, i) => uid('sop', i)),
    strategy: 'gradient',
    channels,
    split: o.split,
    index: o.index,
  };
}

export interface SyntheticDatasetOptions {
  seed: number;
  records: Partial<Record<Split, number>>;
  batch: number;
  hw: [number, number];
  shardBytes: number;
  dtype?: OutputDType;
  channels?: string[];
  /** Make the last record of each split smaller (a partial final batch). */
  ragged?: boolean;
  /** Also record each shard's sha256 (as `output.sha256: true`). */
  sha256?: boolean;
}

/** Writes a complete synthetic dataset (shards, indexes, manifest) and returns its manifest. */
export async function writeSyntheticDataset(dir: string, o: SyntheticDatasetOptions): Promise<Manifest> {
  const channels = o.channels ?? ['brain', 'subdural', 'bone'];
  const splits: Manifest['splits'] = {};
  const quarantined: Quarantine[] = [];
  for (const split of ['train', 'val'] as const) {
    const n = o.records[split];
    if (n === undefined) continue;
    const w = await openShardWriter({ dir, split, shardBytes: o.shardBytes, sha256: o.sha256 });
    for (let i = 0; i < n; i++) {
      const batch = o.ragged && i === n - 1 && o.batch > 1 ? o.batch - 1 : o.batch;
      const notes: Quarantine[] = i % 3 === 1 ? [{ stage: 'decode', reason: `synthetic failure ${split} ${i}`, row: i + 2 }] : [];
      quarantined.push(...notes);
      await w.append(syntheticRecord({ seed: o.seed, split, index: i, batch, hw: o.hw, channels, dtype: o.dtype }), notes);
    }
    const summary: SplitSummary = summarizeSplit(await w.close(), { dropped: 0, repeated: 0 });
    splits[split] = summary;
  }
  const config = { synthetic: { ...o } };
  const m: Manifest = {
    formatVersion: FORMAT_VERSION,
    createdBy: { name: 'ctwindow', version: 'synthetic' },
    config,
    configHash: hashConfig(config),
    backend: { name: 'none', requested: 'none', reason: 'synthetic dataset' },
    channels,
    dtype: o.dtype ?? 'uint8',
    imageShape: [o.hw[0], o.hw[1], channels.length],
    splits,
    quarantined,
  };
  await writeManifest(dir, m);
  return m;
}
