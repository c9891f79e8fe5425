import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readRecords, ShardDataset, writeSyntheticDataset } from '../src/shards/index.js';
import { tfDataset, tfDatasetFrom } from '../src/shards/tf-dataset.js';

describe('tf.data dataset', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'ctw-tfd-'));
    await writeSyntheticDataset(dir, { seed: 8, records: { train: 5 }, batch: 3, hw: [3, 2], shardBytes: 800 });
  });

  it('batches granularity without shuffle yields the written batches scaled to [0,1]', async () => {
    const ds = await tfDataset(dir, { granularity: 'batches', shuffle: false });
    const recs = [];
    for await (const r of readRecords(dir)) recs.push(r);
    let i = 0;
    await ds.forEachAsync((x) => {
      const { xs, ys } = x as { xs: tf.Tensor; ys: tf.Tensor };
      expect(xs.shape).toEqual([3, 3, 2, 3]);
      expect(xs.dtype).toBe('float32');
      const want = Array.from(recs[i].pixels as Uint8Array, (v) => v / 255);
      const got = Array.from(xs.dataSync());
      expect(got.length).toBe(want.length);
      for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(want[k], 6);
      expect(Array.from(ys.dataSync())).toEqual(recs[i].labels);
      i++;
    });
    expect(i).toBe(5);
  });

  it('records granularity re-batches this rank\'s slices in the ShardDataset order, seeded', async () => {
    const sd = await ShardDataset.open(dir, { rank: 1, worldSize: 2, seed: 3, granularity: 'records' });
    const labels: number[] = [];
    for await (const s of sd.samples()) labels.push(s.label);
    const sd2 = await ShardDataset.open(dir, { rank: 1, worldSize: 2, seed: 3, granularity: 'records' });
    const got: number[] = [];
    const shapes: number[][] = [];
    await tfDatasetFrom(sd2, 4).forEachAsync((x) => {
      const { xs, ys } = x as { xs: tf.Tensor; ys: tf.Tensor };
      shapes.push(xs.shape);
      got.push(...ys.dataSync());
    });
    expect(got).toEqual(labels);
    expect(shapes.map((s) => s[0])).toEqual([4, 4]);   // 15 slices over 2 ranks → 8 each (1 pad)
    expect(shapes[0].slice(1)).toEqual([3, 2, 3]);
    expect(sd2.stateDict().samples_seen).toBe(16);
  });

  it('a batch size that does not divide the slices keeps the short last batch, unless dropLast', async () => {
    // 15 slices on one rank, batches of 4: 4 + 4 + 4 + 3 by default; 4 + 4 + 4 with dropLast.
    for (const dropLast of [false, true]) {
      const sizes: number[] = [];
      const seen: number[] = [];
      const sd = await ShardDataset.open(dir, { seed: 2, granularity: 'records', dropLast });
      await tfDatasetFrom(sd, 4).forEachAsync((x) => {
        const { xs, ys } = x as { xs: tf.Tensor; ys: tf.Tensor };
        sizes.push(xs.shape[0]);
        seen.push(...ys.dataSync());
      });
      expect(sizes).toEqual(dropLast ? [4, 4, 4] : [4, 4, 4, 3]);
      expect(seen.length).toBe(dropLast ? 12 : 15);
    }
  });
});
