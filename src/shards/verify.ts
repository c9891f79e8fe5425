/**
 * Full integrity check of a dataset folder: manifest ↔ index ↔ shard bytes. Recomputes every
 * frame CRC and every shard digest (crc32c; sha256 where recorded), decodes every payload, and cross-checks counts. Each
 * problem names the shard file and, where it applies, the record (running index in its split
 * and position in the shard).
 *
 * @example
 *   const problems = await verifyDataset(out);
 *   for (const p of problems) console.error(formatProblem(p));
 */
import { readdir } from 'node:fs/promises';
import type { Split } from '../types.js';
import { decodeFrameAt, decodePayload, MANIFEST, SHARD_EXT } from './format.js';
import { readManifest, type Manifest, type ShardInfo } from './manifest.js';
import { readShardIndex, type ShardIndex } from './shard-index.js';
import { digestBytes, digestMismatch } from './digest.js';
import { isHttpUrl, readInFolder } from './folder.js';
import { isS3Url } from '../storage/s3.js';

export interface VerifyProblem {
  /** Shard (or index/manifest) file the problem is in. */
  shard?: string;
  /** Running index of the record within its split, when the problem is in one record. */
  record?: number;
  /** Position of the record within its shard (0-based). */
  position?: number;
  message: string;
}

export function formatProblem(p: VerifyProblem): string {
  const where = [p.shard, p.record !== undefined ? `record ${p.record}` : '', p.position !== undefined ? `(#${p.position} in shard)` : '']
    .filter(Boolean)
    .join(' ');
  return where ? `${where}: ${p.message}` : p.message;
}

async function verifyShard(dir: string, split: Split, info: ShardInfo, manifest: Manifest, problems: VerifyProblem[]): Promise<void> {
  const shard = info.file;
  const add = (message: string, record?: number, position?: number) => problems.push({ shard, record, position, message });
  let buf: Buffer;
  try {
    // At most the size the manifest states is read: a longer file is reported, not loaded.
    buf = await readInFolder(dir, shard, info.bytes);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') add('shard file is missing');
    else if ((e as NodeJS.ErrnoException).code === 'EFBIG') add(`larger than the ${info.bytes} bytes the manifest says; not read`);
    else add(`cannot read shard: ${(e as Error).message}`);
    return;
  }
  if (buf.length !== info.bytes) add(`size ${buf.length} bytes, manifest says ${info.bytes}${buf.length < info.bytes ? ' (truncated)' : ''}`);
  const mismatch = digestMismatch(info, digestBytes(buf, info), 'manifest');
  if (mismatch) add(mismatch);

  let idx: ShardIndex | undefined;
  try {
    idx = await readShardIndex(dir, info.index);
  } catch (e) {
    problems.push({ shard: info.index, message: (e as Error).message });
  }
  if (idx) {
    for (const k of ['records', 'slices', 'bytes', 'crc32c', 'sha256', 'positives', 'negatives', 'firstRecord'] as const) {
      if (idx[k] !== info[k]) problems.push({ shard: info.index, message: `${k}=${idx[k]} in the index, ${info[k]} in the manifest` });
    }
  }

  // Walk the frames in order; compare with the index entry of each position.
  let offset = 0;
  let slices = 0;
  let positives = 0;
  let negatives = 0;
  const n = idx ? idx.entries.length : Infinity;
  for (let pos = 0; ; pos++) {
    if (offset >= buf.length) {
      if (idx && pos < n) add(`shard ends after ${pos} record(s), index lists ${n} (truncated)`, info.firstRecord + pos, pos);
      break;
    }
    if (pos >= n) {
      add(`${buf.length - offset} bytes after the last indexed record (index lists ${n})`);
      break;
    }
    const entry = idx?.entries[pos];
    // Running number within the split (equals the payload's index except in merged datasets).
    const record = info.firstRecord + pos;
    if (entry && entry.offset !== offset) add(`frame starts at byte ${offset}, index says ${entry.offset}`, record, pos);
    let next: number;
    let payload: Buffer;
    try {
      ({ payload, next } = decodeFrameAt(buf, offset));
    } catch (e) {
      add((e as Error).message, record, pos);
      // Resynchronise on the index, when there is one, so later records are still checked.
      const following = idx?.entries[pos + 1];
      if (!following || following.offset <= offset) {
        if (idx && pos + 1 < idx.entries.length) add(`${idx.entries.length - pos - 1} later record(s) not checked`, undefined, undefined);
        break;
      }
      offset = following.offset;
      continue;
    }
    if (entry && entry.length !== payload.length) add(`payload is ${payload.length} bytes, index says ${entry.length}`, record, pos);
    try {
      const r = decodePayload(payload, `record ${record}`);
      const p = r.labels.filter((l) => l === 1).length;
      slices += r.shape[0];
      positives += p;
      negatives += r.labels.length - p;
      if (r.index !== (entry ? entry.index : record)) add(`payload says index ${r.index}, index file says ${entry ? entry.index : record}`, record, pos);
      if (r.split !== split) add(`payload says split '${r.split}', listed under '${split}'`, record, pos);
      if (r.dtype !== manifest.dtype) add(`dtype ${r.dtype}, manifest says ${manifest.dtype}`, record, pos);
      const hwc = r.shape.slice(1).join(',');
      if (manifest.imageShape && hwc !== manifest.imageShape.join(',')) add(`image shape [${hwc}], manifest says [${manifest.imageShape}]`, record, pos);
      if (entry && (entry.slices !== r.shape[0] || entry.positives !== p)) add(`index counts (slices ${entry.slices}, positives ${entry.positives}) differ from the payload (${r.shape[0]}, ${p})`, record, pos);
    } catch (e) {
      add((e as Error).message, record, pos);
    }
    offset = next;
  }
  if (slices !== info.slices || positives !== info.positives || negatives !== info.negatives) {
    add(`records hold ${slices} slices (${positives} positive, ${negatives} negative), manifest says ${info.slices} (${info.positives}, ${info.negatives})`);
  }
}

/** Verifies a dataset folder; an empty list means intact. */
export async function verifyDataset(dir: string): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  let m: Manifest;
  try {
    m = await readManifest(dir);
  } catch (e) {
    return [{ shard: MANIFEST, message: (e as Error).message }];
  }
  const listed = new Set<string>();
  for (const [split, s] of Object.entries(m.splits) as [Split, NonNullable<Manifest['splits'][Split]>][]) {
    let first = 0;
    const sum = { records: 0, slices: 0, positives: 0, negatives: 0 };
    for (const info of s.shards) {
      listed.add(info.file);
      if (info.firstRecord !== first) problems.push({ shard: info.file, message: `firstRecord ${info.firstRecord}, expected ${first} (records of ${split} must be contiguous)` });
      first = info.firstRecord + info.records;
      for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += info[k];
      await verifyShard(dir, split, info, m, problems);
    }
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) {
      if (s[k] !== sum[k]) problems.push({ shard: MANIFEST, message: `splits.${split}.${k}=${s[k]}, its shards sum to ${sum[k]}` });
    }
  }
  // Shard files the manifest does not list (a local folder; an S3 prefix is not listed here).
  for (const name of isS3Url(dir) || isHttpUrl(dir) ? [] : await readdir(dir)) {
    if (name.endsWith(SHARD_EXT) && !listed.has(name)) problems.push({ shard: name, message: 'shard file is not listed in manifest.json' });
  }
  return problems;
}

