/** Helpers for pipeline tests: temp datasets, YAML files, reading shards back. */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readRecords, type DecodedRecord } from '../../src/shards/index.js';

export async function tempDir(prefix = 'ctw-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes a pipeline YAML into `dir` and returns its path. */
export async function writePipeline(dir: string, cfg: Record<string, unknown>, name = 'pipeline.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(cfg));
  return path;
}

export async function allRecords(outDir: string, split: 'train' | 'val' = 'train'): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for await (const r of readRecords(outDir, { split })) out.push(r);
  return out;
}

/** The bytes of every shard and index file (manifest excluded), by name. */
export async function shardBytes(outDir: string): Promise<Map<string, Buffer>> {
  const files = (await readdir(outDir)).filter((f) => f.endsWith('.ctws') || f.endsWith('.idx.json')).sort();
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(join(outDir, f))] as [string, Buffer])));
}
