import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShardWriter, planEpoch, slotPlan, ShardDataset, summarizeSplit, syntheticRecord, writeManifest, FORMAT_VERSION, type Granularity } from '../src/shards/index.js';

/** Writes `records` equal records so that they land in exactly `shards` shards; returns the folder. */
async function datasetWithShards(shards: number, records: number, batch: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ctw-part-${shards}-`));
  const rec = (i: number) => syntheticRecord({ seed: 5, split: 'train', index: i, batch, hw: [2, 2] });
  // Frame size of one record (all equal here: same batch, one-digit indexes).
  const probe = await openShardWriter({ dir: join(dir, 'probe'), split: 'train', shardBytes: 1 << 20 });
  await probe.append(rec(0));
  const frame = (await probe.close())[0].bytes;
  const perShard = Math.ceil(records / shards);
  const w = await openShardWriter({ dir, split: 'train', shardBytes: frame * perShard });
  for (let i = 0; i < records; i++) await w.append(rec(i));
  const infos = await w.close();
  expect(infos.length).toBe(shards);
  await writeManifest(dir, {
    formatVersion: FORMAT_VERSION, createdBy: { name: 'test', version: '0' }, config: {}, configHash: '', backend: { name: 'none', requested: 'none', reason: 'test' },
    channels: ['brain', 'subdural', 'bone'], dtype: 'uint8', imageShape: [2, 2, 3], splits: { train: summarizeSplit(infos) }, quarantined: [],
  });
  return dir;
}

describe('partition rule (pure)', () => {
  it('every unit exactly once plus the reported pads, equal counts per slot, for ragged shards', () => {
    const shapes = [[[3]], [[3, 3, 2]], [[3, 3], [3]], [[1, 2, 3], [3, 3, 3, 3, 3], [2]], [[3, 3], [3, 3], [3], [3, 3, 3], [1]]];
    for (const slicesPerShard of shapes) {
      for (const granularity of ['batches', 'records'] as Granularity[]) {
        const order = planEpoch(slicesPerShard, { seed: 3, epoch: 1, shuffle: true, granularity, window: 5, blockRecords: 2 });
        const totalRecords = slicesPerShard.flat().length;
        expect(order.units).toBe(granularity === 'batches' ? totalRecords : slicesPerShard.flat().reduce((a, b) => a + b, 0));
        // The order is a permutation of all units.
        const all = new Set(Array.from({ length: order.units }, (_, p) => JSON.stringify(order.unitAt(p))));
        expect(all.size).toBe(order.units);
        for (let S = 1; S <= 32; S++) {
          for (const dropLast of [false, true]) {
            const seen = new Map<number, number>();
            let per = -1;
            for (let slot = 0; slot < S; slot++) {
              const plan = slotPlan(order.units, { start: 0, slots: S, slot, dropLast });
              if (per === -1) per = plan.perSlot;
              expect(plan.perSlot).toBe(per);
              for (let i = 0; i < plan.perSlot; i++) seen.set(plan.position(i), (seen.get(plan.position(i)) ?? 0) + 1);
              if (dropLast) expect(plan.dropped).toBe(order.units - per * S);
              else expect(plan.padded).toBe(per * S - order.units);
            }
            const repeats = [...seen.values()].reduce((a, c) => a + c - 1, 0);
            if (dropLast) {
              expect(repeats).toBe(0);
              expect(seen.size).toBe(per * S);
            } else {
              expect(seen.size).toBe(order.units);
              expect(repeats).toBe(per * S - order.units);
            }
          }
        }
      }
    }
  });

  it('order depends on seed and epoch; no shuffle keeps written order', () => {
    const s = [[3, 3, 3, 3, 3, 3], [3, 3, 3, 3]];
    const seq = (o: Parameters<typeof planEpoch>[1]) => { const e = planEpoch(s, o); return Array.from({ length: e.units }, (_, p) => e.unitAt(p)); };
    const a = seq({ seed: 1, epoch: 0, shuffle: true, granularity: 'records' });
    expect(seq({ seed: 1, epoch: 0, shuffle: true, granularity: 'records' })).toEqual(a);
    expect(seq({ seed: 1, epoch: 1, shuffle: true, granularity: 'records' })).not.toEqual(a);
    expect(seq({ seed: 2, epoch: 0, shuffle: true, granularity: 'records' })).not.toEqual(a);
    expect(seq({ seed: 1, epoch: 0, shuffle: false, granularity: 'batches' })).toEqual(Array.from({ length: 10 }, (_, i) => ({ record: i, slice: -1 })));
  });
});

describe('ShardDataset on real shards', () => {
  const dirs: string[] = [];
  beforeAll(async () => {
    for (let s = 1; s <= 5; s++) dirs[s] = await datasetWithShards(s, 10, 2);
  });

  it('world sizes 1–8 × workers 1–4 × shard counts 1–5: every record once (+ reported pads), equal batches per rank', async () => {
    for (let shards = 1; shards <= 5; shards++) {
      for (let W = 1; W <= 8; W++) {
        for (let K = 1; K <= 4; K++) {
          const granularity: Granularity = (W + K + shards) % 2 ? 'batches' : 'records';
          const counts = new Map<string, number>();
          const perRank: number[] = [];
          let padded = 0;
          let reported = -1;
          for (let rank = 0; rank < W; rank++) {
            let n = 0;
            for (let worker = 0; worker < K; worker++) {
              const ds = await ShardDataset.open(dirs[shards], { rank, worldSize: W, workerId: worker, numWorkers: K, seed: 42, epoch: 2, granularity });
              if (reported === -1) reported = ds.plan().padded;
              for await (const u of ds.units()) {
                n++;
                if (u.padded) padded++;
                else {
                  const key = `${u.rec.index}/${u.slice}`;
                  counts.set(key, (counts.get(key) ?? 0) + 1);
                }
              }
            }
            perRank.push(n);
          }
          const units = granularity === 'batches' ? 10 : 20;
          const where = `shards ${shards}, world ${W}, workers ${K}, ${granularity}`;
          expect(counts.size, where).toBe(units);
          expect([...counts.values()].every((c) => c === 1), where).toBe(true);
          expect(padded, where).toBe(reported);
          expect(new Set(perRank).size, where).toBe(1);
        }
      }
    }
  });

  it('drop_last drops the reported count and repeats nothing', async () => {
    const seen = new Set<number>();
    let total = 0;
    let dropped = 0;
    for (let rank = 0; rank < 3; rank++) {
      const ds = await ShardDataset.open(dirs[4], { rank, worldSize: 3, seed: 1, granularity: 'batches', dropLast: true });
      dropped = ds.plan().dropped;
      for await (const b of ds.batches()) {
        seen.add(b.meta.record);
        total++;
        expect(b.meta.padded).toBe(false);
      }
    }
    expect(dropped).toBe(1);
    expect(total).toBe(9);
    expect(seen.size).toBe(9);
  });

  it('stop + resume from state_dict equals an uninterrupted epoch', async () => {
    const full: string[] = [];
    const a = await ShardDataset.open(dirs[3], { rank: 1, worldSize: 2, seed: 9, epoch: 1, granularity: 'records' });
    for await (const s of a.samples()) full.push(s.meta.sop);
    const b = await ShardDataset.open(dirs[3], { rank: 1, worldSize: 2, seed: 9, epoch: 1, granularity: 'records' });
    const got: string[] = [];
    for await (const s of b.samples()) {
      got.push(s.meta.sop);
      if (got.length === 4) break;
    }
    const state = b.stateDict();
    expect(state).toEqual({ epoch: 1, seed: 9, samples_seen: 8, world_size: 2 });
    const c = await ShardDataset.open(dirs[3], { rank: 1, worldSize: 2, seed: 0, epoch: 0, granularity: 'records' });
    c.loadStateDict(JSON.parse(JSON.stringify(state)));
    for await (const s of c.samples()) got.push(s.meta.sop);
    expect(got).toEqual(full);
  });

  it('resuming on a different world size re-splits the rest without repeats or losses', async () => {
    for (const [W1, W2, steps] of [[4, 3, 2], [2, 5, 3], [3, 1, 1], [1, 8, 7]]) {
      const seen: string[] = [];
      let state;
      for (let rank = 0; rank < W1; rank++) {
        const ds = await ShardDataset.open(dirs[5], { rank, worldSize: W1, seed: 7, epoch: 3, granularity: 'records' });
        let k = 0;
        for await (const s of ds.samples()) {
          seen.push(`${s.meta.sop}`);
          if (++k === steps) break;
        }
        state = ds.stateDict();
      }
      expect(state!.samples_seen).toBe(W1 * steps);
      let pads = 0;
      for (let rank = 0; rank < W2; rank++) {
        const ds = await ShardDataset.open(dirs[5], { rank, worldSize: W2, granularity: 'records' });
        ds.loadStateDict(state!);
        for await (const s of ds.samples()) {
          if (s.meta.padded) pads++;
          else seen.push(`${s.meta.sop}`);
        }
      }
      expect(new Set(seen).size, `${W1}→${W2}`).toBe(20);
      expect(seen.length, `${W1}→${W2}`).toBe(20);
      expect(pads).toBe(Math.ceil((20 - W1 * steps) / W2) * W2 - (20 - W1 * steps));
    }
  });
});
