/**
 * Dataset summary from manifest.json alone (instant: no shard is read).
 *
 * @example
 *   const s = await inspectDataset(out);   // { slices, positives, negatives, quarantined, shards, splits: {...} }
 */
import type { Split } from '../types.js';
import { readManifest, type Manifest } from './manifest.js';

export interface SplitInspect {
  records: number;
  slices: number;
  positives: number;
  negatives: number;
  shards: number;
  bytes: number;
  sampling: Record<string, unknown>;
}

export interface DatasetInspect {
  formatVersion: number;
  createdBy: Manifest['createdBy'];
  configHash: string;
  backend: string;
  dtype: string;
  imageShape: number[];
  channels: string[];
  records: number;
  slices: number;
  positives: number;
  negatives: number;
  /** Number of quarantined inputs. */
  quarantined: number;
  /** Quarantined inputs per stage. */
  quarantinedByStage: Record<string, number>;
  shards: number;
  bytes: number;
  splits: Partial<Record<Split, SplitInspect>>;
}

export async function inspectDataset(dir: string): Promise<DatasetInspect> {
  const m = await readManifest(dir);
  const out: DatasetInspect = {
    formatVersion: m.formatVersion,
    createdBy: m.createdBy,
    configHash: m.configHash,
    backend: m.backend?.name,
    dtype: m.dtype,
    imageShape: m.imageShape,
    channels: m.channels,
    records: 0,
    slices: 0,
    positives: 0,
    negatives: 0,
    quarantined: m.quarantine?.count ?? m.quarantined?.length ?? 0,
    quarantinedByStage: {},
    shards: 0,
    bytes: 0,
    splits: {},
  };
  if (m.quarantine) out.quarantinedByStage = { ...m.quarantine.byStage };
  else for (const q of m.quarantined ?? []) out.quarantinedByStage[q.stage] = (out.quarantinedByStage[q.stage] ?? 0) + 1;
  for (const [split, s] of Object.entries(m.splits) as [Split, NonNullable<Manifest['splits'][Split]>][]) {
    const bytes = s.shards.reduce((a, x) => a + x.bytes, 0);
    out.splits[split] = { records: s.records, slices: s.slices, positives: s.positives, negatives: s.negatives, shards: s.shards.length, bytes, sampling: s.sampling };
    out.records += s.records;
    out.slices += s.slices;
    out.positives += s.positives;
    out.negatives += s.negatives;
    out.shards += s.shards.length;
    out.bytes += bytes;
  }
  return out;
}

/** Human-readable lines for `ctwindow inspect`. */
export function formatInspect(s: DatasetInspect): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const lines = [
    `format v${s.formatVersion}, ${s.createdBy?.name} ${s.createdBy?.version}, config ${s.configHash?.slice(0, 12)}, backend ${s.backend}`,
    `images [${s.imageShape}] ${s.dtype}, channels ${s.channels?.join(', ')}`,
    `total: ${s.slices} slices in ${s.records} batches (${s.positives} positive, ${s.negatives} negative), ${s.shards} shards, ${mb(s.bytes)}`,
  ];
  for (const [split, x] of Object.entries(s.splits)) {
    const samp = Object.entries(x.sampling ?? {}).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  ${split}: ${x.slices} slices in ${x.records} batches (${x.positives} positive, ${x.negatives} negative), ${x.shards} shards, ${mb(x.bytes)}${samp ? `; sampling: ${samp}` : ''}`);
  }
  const stages = Object.entries(s.quarantinedByStage).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`quarantined: ${s.quarantined}${stages ? ` (${stages})` : ''}`);
  return lines.join('\n');
}
