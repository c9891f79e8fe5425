import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY, PY_CWD, PY_ENV } from './helpers/shared.js';
import { readRecords, readShardIndex, readManifest, ShardDataset, writeSyntheticDataset, hashSeed, permutation, mergeDatasets } from '../src/shards/index.js';

function py(args: string[]): string {
  const r = spawnSync(PY, ['-m', 'ctwindow_shards', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: PY_ENV, cwd: PY_CWD });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
function pyCode(code: string): string {
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8', env: PY_ENV, cwd: PY_CWD });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

describe('Python reader (numpy + msgpack only)', () => {
  const dirs: Record<string, string> = {};
  beforeAll(async () => {
    for (const dtype of ['uint8', 'float16', 'float32'] as const) {
      dirs[dtype] = await mkdtemp(join(tmpdir(), `ctw-py-${dtype}-`));
      await writeSyntheticDataset(dirs[dtype], { seed: 11, records: { train: 5, val: 2 }, batch: 3, hw: [4, 5], shardBytes: 1200, dtype, ragged: true });
    }
  });

  for (const dtype of ['uint8', 'float16', 'float32'] as const) {
    it(`iter_batches matches the Node reader value for value (${dtype})`, async () => {
      for (const split of ['train', 'val'] as const) {
        const lines = py(['dump', dirs[dtype], '--split', split]).trim().split('\n').map((l) => JSON.parse(l));
        const node = [];
        for await (const r of readRecords(dirs[dtype], { split })) node.push(r);
        expect(lines.length).toBe(node.length);
        expect(node.length).toBeGreaterThan(1);
        for (const [i, p] of lines.entries()) {
          const n = node[i];
          expect(p.index).toBe(n.index);
          expect(p.shape).toEqual(n.shape);
          expect(p.dtype).toBe(dtype);
          expect(p.labels).toEqual(n.labels);
          expect(p.sop).toEqual(n.sop);
          expect(p.study).toEqual(n.study);
          expect(p.values.length).toBe(n.pixels.length);
          expect(p.values).toEqual(Array.from(n.pixels));
        }
      }
    });
  }

  it('reads aligned records (images ≥ 256 KiB carry a pad) as Node does, without the pad', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-py-aligned-'));
    await writeSyntheticDataset(dir, { seed: 6, records: { train: 3 }, batch: 2, hw: [300, 300], shardBytes: 1_200_000 }); // 540,000 image bytes a record
    const out = JSON.parse(pyCode(`import json, ctwindow_shards as c
recs = list(c.iter_records(${JSON.stringify(dir)}, verify=True))
print(json.dumps([{"keys": sorted(r.keys()), "index": r["index"], "sum": sum(r["images"][::997]), "n": len(r["images"])} for r in recs]))`));
    const node = [];
    for await (const r of readRecords(dir)) node.push({ index: r.index, n: r.images.length, sum: r.images.filter((_, i) => i % 997 === 0).reduce((a, b) => a + b, 0) });
    expect(out.map((r: { index: number; n: number; sum: number }) => ({ index: r.index, n: r.n, sum: r.sum }))).toEqual(node);
    expect(node.length).toBe(3);
    for (const r of out) expect(r.keys).not.toContain('pad');
    // The pad is really there on disk: the images of every record start at a multiple of 4096.
    const m = await readManifest(dir);
    for (const sh of m.splits.train!.shards) {
      const idx = await readShardIndex(dir, sh.index);
      const buf = await readFile(join(dir, sh.file));
      for (const e of idx.entries) {
        const key = buf.indexOf(Buffer.from([0xa6, ...Buffer.from('images')]), e.offset);
        expect((key + 7 + 5) % 4096).toBe(0);
      }
    }
  });

  it('same hash, generator and permutation as Node', () => {
    const out = JSON.parse(pyCode('import json, ctwindow_shards as c\nprint(json.dumps([c.hash_seed(1, 0, 1), c.hash_seed(-5, 2**40, 7), c.permutation(17, 12345)]))'));
    expect(out).toEqual([hashSeed(1, 0, 1), hashSeed(-5, 2 ** 40, 7), Array.from(permutation(17, 12345))]);
  });

  it('iter_batches with verify refuses a damaged shard, naming it; verify="full" names the record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-py-bad-'));
    await writeSyntheticDataset(dir, { seed: 11, records: { train: 5 }, batch: 3, hw: [4, 5], shardBytes: 1200 });
    const m = await readManifest(dir);
    const sh = m.splits.train!.shards[1];
    const idx = await readShardIndex(dir, sh.index);
    const buf = await readFile(join(dir, sh.file));
    buf[idx.entries[0].offset + 30] ^= 1;
    await writeFile(join(dir, sh.file), buf);
    const run = (verify: string) => spawnSync(PY, ['-c', `import ctwindow_shards as c
for _ in c.iter_batches(${JSON.stringify(dir)}, verify=${verify}): pass`], { encoding: 'utf8', env: PY_ENV, cwd: PY_CWD });
    const a = run('True');
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(new RegExp(`${sh.file}: crc32c [0-9a-f]{8} does not match the index's ${sh.crc32c} \\(shard damaged\\)`));
    const b = run('"full"');
    expect(b.stderr).toContain(`${sh.file} record ${idx.entries[0].index}: payload CRC mismatch`);
  });

  it('computes CRC-32C as Node does, with the crc32c module and with its pure-Python fallback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-py-crc-'));
    const m = await writeSyntheticDataset(dir, { seed: 3, records: { train: 4 }, batch: 2, hw: [16, 16], shardBytes: 1 << 20 });
    const sh = m.splits.train!.shards[0];
    const out = JSON.parse(pyCode(`import json, ctwindow_shards._core as c
data = open(${JSON.stringify(join(dir, sh.file))}, 'rb').read()
fast = c._fast_crc32c is not None
a = c.crc32c(data); b = c.crc32c(data[7:], c.crc32c(data[:7]))
c._fast_crc32c = None
d = c.crc32c(data); e = c.crc32c(data[100:], c.crc32c(data[:100]))
print(json.dumps({"fast": fast, "crcs": ["%08x" % x for x in (a, b, d, e)]}))`));
    expect(out.crcs).toEqual([sh.crc32c, sh.crc32c, sh.crc32c, sh.crc32c]);
    // CI installs python3-crc32c (.ci/run): the fast path is the one exercised there.
    if (process.env.CI) expect(out.fast).toBe(true);
  });

  it('verify=True also checks sha256 where recorded, and reads format-1 folders (sha256 only)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-py-sha-'));
    const m = await writeSyntheticDataset(dir, { seed: 5, records: { train: 4 }, batch: 2, hw: [4, 4], shardBytes: 800, sha256: true });
    const sh = m.splits.train!.shards[0];
    const run = () => spawnSync(PY, ['-c', `import ctwindow_shards as c
print(sum(len(l) for _, l, _ in c.iter_batches(${JSON.stringify(dir)}, verify=True)))`], { encoding: 'utf8', env: PY_ENV, cwd: PY_CWD });
    expect(run().stdout.trim()).toBe(String(m.splits.train!.slices));
    // Format 1 as older builds wrote it: no crc32c, sha256 only.
    const { canonicalJson } = await import('../src/shards/atomic.js');
    for (const s of m.splits.train!.shards) {
      const { crc32c: _c, ...idx } = await readShardIndex(dir, s.index);
      await writeFile(join(dir, s.index), canonicalJson({ ...idx, formatVersion: 1 }));
      delete s.crc32c;
    }
    await writeFile(join(dir, 'manifest.json'), canonicalJson({ ...m, formatVersion: 1 }));
    expect(run().stdout.trim()).toBe(String(m.splits.train!.slices));
    const buf = await readFile(join(dir, sh.file));
    buf[buf.length - 9] ^= 2;
    await writeFile(join(dir, sh.file), buf);
    const bad = run();
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(new RegExp(`${sh.file}: sha256 [0-9a-f]{12}… does not match the index's ${sh.sha256!.slice(0, 12)}… \\(shard damaged\\)`));
  });
});

describe('partition order: Node and Python agree', () => {
  it('same units for the same seed/epoch/rank/worker, granularities, shuffle, drop_last and resume offsets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-py-order-'));
    await writeSyntheticDataset(dir, { seed: 4, records: { train: 11 }, batch: 3, hw: [2, 2], shardBytes: 600, ragged: true });
    const cases = [
      { worldSize: 1, numWorkers: 1, rank: 0, workerId: 0, granularity: 'records', shuffle: true, dropLast: false, seed: 0, epoch: 0 },
      { worldSize: 3, numWorkers: 2, rank: 2, workerId: 1, granularity: 'records', shuffle: true, dropLast: false, seed: 9, epoch: 3 },
      { worldSize: 2, numWorkers: 2, rank: 1, workerId: 0, granularity: 'batches', shuffle: true, dropLast: true, seed: 1, epoch: 1 },
      { worldSize: 4, numWorkers: 1, rank: 3, workerId: 0, granularity: 'batches', shuffle: false, dropLast: false, seed: 0, epoch: 0 },
      { worldSize: 2, numWorkers: 3, rank: 0, workerId: 2, granularity: 'records', shuffle: true, dropLast: false, seed: 7, epoch: 0, start: 13 },
    ] as const;
    for (const c of cases) {
      const ds = await ShardDataset.open(dir, c);
      if ('start' in c) ds.loadStateDict({ epoch: c.epoch, seed: c.seed, samples_seen: c.start, world_size: 1 });
      const node: unknown[] = [];
      for await (const u of ds.units()) node.push([u.rec.index, u.slice, u.padded]);
      const args = ['order', dir, '--world-size', `${c.worldSize}`, '--num-workers', `${c.numWorkers}`, '--rank', `${c.rank}`, '--worker', `${c.workerId}`,
        '--seed', `${c.seed}`, '--epoch', `${c.epoch}`, '--granularity', c.granularity];
      if (!c.shuffle) args.push('--no-shuffle');
      if (c.dropLast) args.push('--drop-last');
      if ('start' in c) args.push('--samples-seen', `${c.start}`);
      const p = JSON.parse(py(args));
      expect(node.length).toBeGreaterThan(0);
      expect(p.units, JSON.stringify(c)).toEqual(node);
      expect(p.state).toEqual({ ...ds.stateDict(), world_size: c.worldSize });
    }
  });
});

describe('Python ShardDataset', () => {
  it('every slice once across ranks × workers, state_dict resume on another world size, merged folders read as a whole', async () => {
    const a = await mkdtemp(join(tmpdir(), 'ctw-py-ds-a-'));
    const b = await mkdtemp(join(tmpdir(), 'ctw-py-ds-b-'));
    await writeSyntheticDataset(a, { seed: 31, records: { train: 5 }, batch: 3, hw: [2, 3], shardBytes: 700, ragged: true });
    await writeSyntheticDataset(b, { seed: 32, records: { train: 4 }, batch: 3, hw: [2, 3], shardBytes: 700 });
    const m = join(await mkdtemp(join(tmpdir(), 'ctw-py-ds-m-')), 'all');
    await mergeDatasets([a, b], m, { allowMixedConfigs: true });
    const total = (await readManifest(m)).splits.train!.slices;
    const out = JSON.parse(pyCode(`
import json, collections, ctwindow_shards as c
d = ${JSON.stringify(m)}
res = {}
# every slice exactly once (+ pads) and equal counts per rank
for W, K in [(1, 1), (3, 2), (4, 3), (7, 1)]:
    seen, per_rank, pads = collections.Counter(), [], 0
    for r in range(W):
        n = 0
        for w in range(K):
            for img, label, meta in c.ShardDataset(d, rank=r, world_size=W, worker_id=w, num_workers=K, seed=5, epoch=1):
                assert img.shape == (2, 3, 3), img.shape
                n += 1
                if meta["padded"]: pads += 1
                else: seen[meta["sop"]] += 1
        per_rank.append(n)
    res[f"{W}x{K}"] = [len(seen), max(seen.values()), pads, sorted(set(per_rank))]
# stop after 2 per rank on 3 ranks, resume on 2 ranks
seen = []
for r in range(3):
    ds = c.ShardDataset(d, rank=r, world_size=3, seed=2)
    it = iter(ds)
    for _ in range(2): seen.append(next(it)[2]["sop"])
    state = ds.state_dict()
for r in range(2):
    ds = c.ShardDataset(d, rank=r, world_size=2)
    ds.load_state_dict(state)
    seen += [m["sop"] for _, _, m in ds if not m["padded"]]
res["resume"] = [state, len(seen), len(set(seen))]
# batches granularity: labels as ndarray, B per written batch
bs = [(imgs.shape, labels.tolist()) for imgs, labels, meta in c.ShardDataset(d, granularity="batches", shuffle=False)]
res["batches"] = [list(s) for s, _ in bs]
res["batch_labels"] = [l for _, l in bs]
print(json.dumps(res))
`));
    for (const k of ['1x1', '3x2', '4x3', '7x1']) {
      const [distinct, maxCount, pads, perRank] = out[k];
      const [W, K] = k.split('x').map(Number);
      expect(distinct, k).toBe(total);
      expect(maxCount, k).toBe(1);
      expect(pads, k).toBe(Math.ceil(total / (W * K)) * W * K - total);
      expect(perRank.length, k).toBe(1);
    }
    expect(out.resume[0]).toEqual({ epoch: 0, seed: 2, samples_seen: 6, world_size: 3 });
    expect(out.resume[1]).toBe(total);
    expect(out.resume[2]).toBe(total);
    const node = [];
    for await (const r of readRecords(m)) node.push(r);
    expect(out.batches).toEqual(node.map((r) => r.shape));
    expect(out.batch_labels).toEqual(node.map((r) => r.labels));
  });
});
