import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctwindow } from './helpers/shared.js';
import { readManifest, readRecords, readShardIndex, verifyDataset, writeSyntheticDataset, mergeDatasets, ShardDataset } from '../src/shards/index.js';

// These run the built CLI: `npm test` builds first (or run `npx tsc -p tsconfig.build.json`).
const OPTS = { seed: 21, records: { train: 6, val: 2 }, batch: 4, hw: [4, 4] as [number, number], shardBytes: 1500, ragged: true };

describe('ctwindow inspect / verify / merge', () => {
  let a: string, b: string;
  beforeAll(async () => {
    a = await mkdtemp(join(tmpdir(), 'ctw-cli-a-'));
    b = await mkdtemp(join(tmpdir(), 'ctw-cli-b-'));
    await writeSyntheticDataset(a, OPTS);
    await writeSyntheticDataset(b, { ...OPTS, seed: 22, records: { train: 3 } });
  });

  it('inspect --json counts slices, labels, quarantined and shards per split', async () => {
    const r = ctwindow(['inspect', a, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    let slices = 0, pos = 0, records = 0;
    for await (const rec of readRecords(a, { split: 'train' })) { slices += rec.shape[0]; pos += rec.labels.filter((l) => l === 1).length; records++; }
    expect(j.splits.train.slices).toBe(slices);
    expect(j.splits.train.positives).toBe(pos);
    expect(j.splits.train.records).toBe(records);
    expect(j.slices).toBe(slices + 8 - 1);
    expect(j.positives + j.negatives).toBe(j.slices);
    expect(j.quarantined).toBe((await readManifest(a)).quarantined.length);
    expect(j.quarantined).toBeGreaterThan(0);
    expect(j.shards).toBe((await readdir(a)).filter((n) => n.endsWith('.ctws')).length);
    const text = ctwindow(['inspect', a]);
    expect(text.stdout).toMatch(/train: \d+ slices/);
  });

  it('verify exits 0 on an intact dataset and 1 naming shard and record on damage', async () => {
    const ok = ctwindow(['verify', a]);
    expect(ok.status, ok.stderr).toBe(0);
    const d = await mkdtemp(join(tmpdir(), 'ctw-cli-bad-'));
    for (const n of await readdir(a)) await writeFile(join(d, n), await readFile(join(a, n)));
    const m = await readManifest(d);
    const sh = m.splits.train!.shards[1];
    const idx = await readShardIndex(d, sh.index);
    const buf = await readFile(join(d, sh.file));
    buf[idx.entries[0].offset + 50] ^= 0xff;
    await writeFile(join(d, sh.file), buf);
    const bad = ctwindow(['verify', d]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${sh.file} record ${sh.firstRecord} (#0 in shard): frame at byte 0: payload CRC mismatch`);
    const none = ctwindow(['verify', join(d, 'missing')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no manifest.json/);
  });

  it('merge joins datasets into one that verifies and reads as a whole', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'ctw-cli-m-')), 'merged');
    // a and b are different datasets (seeds 11 and 22): refused unless asked for.
    const refused = ctwindow(['merge', a, b, '--out', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${b} was made with a different config`);
    expect(refused.stderr).toContain('--mixed-configs');
    const r = ctwindow(['merge', a, b, '--out', out, '--mixed-configs']);
    expect(r.status, r.stderr).toBe(0);
    expect(await verifyDataset(out)).toEqual([]);
    const m = await readManifest(out);
    const [ma, mb] = [await readManifest(a), await readManifest(b)];
    expect(m.splits.train!.records).toBe(ma.splits.train!.records + mb.splits.train!.records);
    expect(m.splits.train!.shards.map((s) => s.file)).toEqual(m.splits.train!.shards.map((_, i) => `train-${String(i).padStart(5, '0')}.ctws`));
    expect(m.splits.val!.records).toBe(2);
    expect(m.quarantined.length).toBe(ma.quarantined.length + mb.quarantined.length);
    // Records in argument order, bytes unchanged (hard links share the inode).
    const sops: string[] = [];
    for await (const rec of readRecords(out)) sops.push(rec.sop[0]);
    const expected: string[] = [];
    for (const src of [a, b]) for await (const rec of readRecords(src)) expected.push(rec.sop[0]);
    expect(sops).toEqual(expected);
    expect((await stat(join(out, 'train-00000.ctws'))).ino).toBe((await stat(join(a, 'train-00000.ctws'))).ino);
    // The partition rule covers the merged set once.
    const seen = new Set<string>();
    for (let rank = 0; rank < 3; rank++) {
      const ds = await ShardDataset.open(out, { rank, worldSize: 3, granularity: 'records', seed: 1 });
      for await (const s of ds.samples()) if (!s.meta.padded) seen.add(s.meta.sop);
    }
    expect(seen.size).toBe(m.splits.train!.slices);
    // Deterministic and refuses a non-empty output.
    const again = ctwindow(['merge', a, b, '--out', out, '--mixed-configs']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds a complete dataset/);
    const out2 = join(await mkdtemp(join(tmpdir(), 'ctw-cli-m2-')), 'merged');
    await mergeDatasets([a, b], out2, { allowMixedConfigs: true });
    for (const n of await readdir(out)) expect((await readFile(join(out2, n))).equals(await readFile(join(out, n))), n).toBe(true);
  });
});
