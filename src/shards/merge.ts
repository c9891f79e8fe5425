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
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Split } from '../types.js';
import { canonicalJson, tmpPathFor, writeFileAtomic } from './atomic.js';
import { indexNameFor, shardName } from './format.js';
import { readManifest, summarizeSplit, writeManifest, type Manifest, type ShardInfo, type SplitSummary } from './manifest.js';
import { sameDigests } from './digest.js';
import { infoOf, readShardIndex, type ShardIndex } from './shard-index.js';
import { describeExistingOutput } from './writer.js';

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

export async function mergeDatasets(sources: string[], out: string): Promise<MergeResult> {
  if (!sources.length) throw new Error('merge: give at least one source dataset folder');
  const existing = await describeExistingOutput(out);
  if (existing) throw new Error(`merge: ${existing}`);
  const manifests: Manifest[] = [];
  for (const src of sources) manifests.push(await readManifest(src));
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
  const hashes = manifests.map((m) => m.configHash);
  const manifest: Manifest = {
    ...first,
    configHash: createHash('sha256').update(hashes.join('\n')).digest('hex'),
    splits,
    quarantined: manifests.flatMap((m) => m.quarantined ?? []),
    mergedFrom: manifests.map((m) => ({
      configHash: m.configHash,
      records: Object.fromEntries(Object.entries(m.splits).map(([k, s]) => [k, s!.records])),
    })),
  };
  await writeManifest(out, manifest);
  return { manifest, linked, copied };
}
