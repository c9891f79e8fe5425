/**
 * Joins complete dataset folders (partitions of one run) into one dataset that readers take as
 * a whole. Shard files are hard-linked (copied across file systems) unchanged; per split they
 * are renumbered from 0 in argument order, and their indexes rewritten with the new names,
 * shard numbers and running `firstRecord`. Payloads keep their producer's `index` (it restarts
 * at 0 in each source); a record's running number in the merged split is firstRecord + position.
 * The merged manifest is written last.
 *
 * @example
 *   await mergeDatasets(['part-0/', 'part-1/'], 'all/');
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Split } from '../types.js';
import { canonicalJson, tmpPathFor, writeFileAtomic } from './atomic.js';
import { indexNameFor, shardName } from './format.js';
import { readManifest, summarizeSplit, writeManifest, type Manifest, type ShardInfo, type SplitSummary } from './manifest.js';
import { sameDigests } from './digest.js';
import { infoOf, readShardIndex, type ShardIndex } from './shard-index.js';
import { describeExistingOutput } from './writer.js';
import { openInFolder, plainFileName } from './folder.js';
import { isS3Url } from '../storage/s3.js';

async function linkOrCopy(src: string, dst: string): Promise<'link' | 'copy'> {
  await rm(dst, { force: true });
  try {
    await link(src, dst);
    return 'link';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
    await copyFile(src, dst);
    return 'copy';
  }
}

export interface MergeResult {
  manifest: Manifest;
  linked: number;
  copied: number;
}

export interface MergeOptions {
  /** Join datasets made with different configs (default false: only partitions of one run). */
  allowMixedConfigs?: boolean;
}

/** The config hash of the run that made `m` (a merged folder: its sources' common one). */
const runConfigHash = (m: Manifest): string => m.mergedFrom?.[0]?.configHash ?? m.configHash;

/**
 * Refuses a folder given twice (the same folder by another path, or a copy holding the same
 * shards) and, unless allowed, partitions of different configs: each would silently duplicate
 * records or mix datasets that readers take as one.
 */
async function checkSources(sources: string[], manifests: Manifest[], o: MergeOptions): Promise<void> {
  const seenDir = new Map<string, number>();
  const seenShard = new Map<string, number>();
  for (const [k, src] of sources.entries()) {
    const real = await realpath(src);
    const dup = seenDir.get(real);
    if (dup !== undefined) throw new Error(`merge: ${src} and ${sources[dup]} are the same folder; every record would be there twice`);
    seenDir.set(real, k);
    for (const s of Object.values(manifests[k].splits)) {
      for (const sh of s?.shards ?? []) {
        const key = `${sh.bytes}:${sh.crc32c ?? ''}:${sh.sha256 ?? ''}`;
        const other = seenShard.get(key);
        if (other !== undefined && other !== k) {
          throw new Error(`merge: ${src} and ${sources[other]} hold the same shard (${sh.file}: ${sh.bytes} bytes, ${sh.crc32c ? `crc32c ${sh.crc32c}` : `sha256 ${sh.sha256?.slice(0, 12)}…`}): the same partition given twice?`);
        }
        seenShard.set(key, k);
      }
    }
    const h = runConfigHash(manifests[k]);
    const h0 = runConfigHash(manifests[0]);
    if (!o.allowMixedConfigs && h !== h0) {
      throw new Error(`merge: ${src} was made with a different config (configHash ${h.slice(0, 12)}…) than ${sources[0]} (${h0.slice(0, 12)}…); only partitions of one run are merged (--mixed-configs joins them anyway)`);
    }
  }
}

/**
 * The sources' quarantine logs joined in argument order (each source's records as it wrote
 * them) and their counts summed; undefined when no source has a log (synthetic or older folders).
 */
async function mergeQuarantineLogs(sources: string[], manifests: Manifest[], out: string): Promise<Manifest['quarantine']> {
  if (!manifests.some((m) => m.quarantine)) return undefined;
  const file = manifests.find((m) => m.quarantine)!.quarantine!.file;
  const sum: NonNullable<Manifest['quarantine']> = { file, count: 0, byStage: {}, byReason: [], listed: 0 };
  const reasons = new Map<string, { reason: string; count: number; example: string }>();
  const tmp = tmpPathFor(join(out, file));
  const dst = await open(tmp, 'w');
  try {
    for (const [k, m] of manifests.entries()) {
      const q = m.quarantine;
      if (!q) continue;
      sum.count += q.count;
      for (const [stage, n] of Object.entries(q.byStage)) sum.byStage[stage] = (sum.byStage[stage] ?? 0) + n;
      for (const g of q.byReason) {
        const have = reasons.get(g.reason);
        if (have) have.count += g.count;
        else reasons.set(g.reason, { ...g });
      }
      const f = await openInFolder(sources[k], plainFileName(q.file, `${sources[k]}: manifest.json quarantine.file`));
      try {
        for await (const chunk of f.chunks()) await dst.write(chunk);
      } finally {
        await f.close();
      }
    }
    await dst.sync();
  } finally {
    await dst.close();
  }
  await rename(tmp, join(out, file));
  sum.byReason = [...reasons.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  sum.listed = manifests.reduce((n, m) => n + (m.quarantined?.length ?? 0), 0);
  return sum;
}

export async function mergeDatasets(sources: string[], out: string, o: MergeOptions = {}): Promise<MergeResult> {
  if (!sources.length) throw new Error('merge: give at least one source dataset folder');
  for (const src of [...sources, out]) if (isS3Url(src)) throw new Error(`merge: ${src}: s3:// folders are read by the readers, verify and inspect; merge works on local folders`);
  const existing = await describeExistingOutput(out);
  if (existing) throw new Error(`merge: ${existing}`);
  const manifests: Manifest[] = [];
  for (const src of sources) manifests.push(await readManifest(src));
  await checkSources(sources, manifests, o);
  const first = manifests[0];
  for (const [i, m] of manifests.entries()) {
    for (const k of ['formatVersion', 'dtype', 'imageShape', 'channels'] as const) {
      if (JSON.stringify(m[k]) !== JSON.stringify(first[k])) {
        throw new Error(`merge: ${sources[i]} has ${k} ${JSON.stringify(m[k])}, ${sources[0]} has ${JSON.stringify(first[k])}; only partitions of one run can be merged`);
      }
    }
  }
  await mkdir(out, { recursive: true });
  let linked = 0;
  let copied = 0;
  const splits: Manifest['splits'] = {};
  for (const split of ['train', 'val'] as Split[]) {
    if (!manifests.some((m) => m.splits[split])) continue;
    const shards: ShardInfo[] = [];
    const sampling: SplitSummary['sampling'] = { dropped: 0, repeated: 0 };
    let n = 0;
    let firstRecord = 0;
    for (const [k, m] of manifests.entries()) {
      const s = m.splits[split];
      if (!s) continue;
      // Counts add up; the method (one text, the same for every partition) is kept as it is.
      for (const [key, v] of Object.entries(s.sampling ?? {})) {
        if (typeof v === 'number') sampling[key] = ((sampling[key] as number | undefined) ?? 0) + v;
        else if (key === 'counted' && v && typeof v === 'object') {
          const c = v as { positives: number; negatives: number };
          sampling.counted = { positives: (sampling.counted?.positives ?? 0) + c.positives, negatives: (sampling.counted?.negatives ?? 0) + c.negatives };
        } else sampling[key] ??= v;
      }
      for (const info of s.shards) {
        const idx = await readShardIndex(sources[k], info.index);
        if (!sameDigests(idx, info)) throw new Error(`merge: ${join(sources[k], info.index)} does not match its manifest; run ctwindow verify ${sources[k]}`);
        const file = shardName(split, n);
        const renamed: ShardIndex & { source: number; sourceFile: string } = {
          ...idx, file, index: indexNameFor(file), shard: n, firstRecord, source: k, sourceFile: info.file,
        };
        const tmp = tmpPathFor(join(out, file));
        // Only a regular file inside the source folder is linked (never a symlink's target).
        await (await openInFolder(sources[k], info.file)).close();
        if ((await linkOrCopy(join(sources[k], info.file), tmp)) === 'link') linked++;
        else copied++;
        await writeFileAtomic(join(out, renamed.index), canonicalJson(renamed));
        await rename(tmp, join(out, file));
        shards.push(infoOf(renamed));
        firstRecord += idx.records;
        n++;
      }
    }
    splits[split] = summarizeSplit(shards, sampling);
  }
  const quarantine = await mergeQuarantineLogs(sources, manifests, out);
  const hashes = manifests.map((m) => m.configHash);
  const manifest: Manifest = {
    ...first,
    configHash: createHash('sha256').update(hashes.join('\n')).digest('hex'),
    splits,
    quarantined: manifests.flatMap((m) => m.quarantined ?? []),
    quarantine,
    // Row accounts add up (partitions split the CSV's rows); absent when a source has none.
    rows: manifests.every((m) => m.rows)
      ? manifests.reduce((t, m) => ({ data: t.data + m.rows!.data, written: t.written + m.rows!.written, repeated: t.repeated + m.rows!.repeated, dropped: t.dropped + m.rows!.dropped, quarantined: t.quarantined + m.rows!.quarantined }), { data: 0, written: 0, repeated: 0, dropped: 0, quarantined: 0 })
      : undefined,
    mergedFrom: manifests.map((m) => ({
      configHash: m.configHash,
      records: Object.fromEntries(Object.entries(m.splits).map(([k, s]) => [k, s!.records])),
    })),
  };
  await writeManifest(out, manifest);
  return { manifest, linked, copied };
}
