/**
 * A tfjs `tf.data` dataset over a ctwindow folder, on top of ShardDataset (same partition,
 * shuffle and resume rules). Yields {xs: float32 [B,H,W,C] in [0,1] for uint8 shards (values
 * as stored for float shards), ys: float32 [B]}.
 *
 * @example
 *   const ds = await tfDataset(out, { seed: 1, rank, worldSize, granularity: 'records', batchSize: 32 });
 *   await model.fitDataset(ds, { epochs: 1 });
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import { ShardDataset, type ShardDatasetOptions } from './dataset.js';

export interface TfDatasetOptions extends ShardDatasetOptions {
  /** Batch size for granularity 'records' (default: the slices of the first written batch). */
  batchSize?: number;
}

export interface XY extends tf.TensorContainerObject {
  xs: tf.Tensor;
  ys: tf.Tensor;
}

export async function tfDataset(dir: string, o: TfDatasetOptions = {}): Promise<tfd.Dataset<XY>> {
  const sd = await ShardDataset.open(dir, o);
  return tfDatasetFrom(sd, o.batchSize);
}

/** Wraps an opened ShardDataset (so the caller keeps it for stateDict()). */
export function tfDatasetFrom(sd: ShardDataset, batchSize?: number): tfd.Dataset<XY> {
  const m = sd.loaded.manifest;
  const scale = m.dtype === 'uint8' ? 1 / 255 : 1;
  const toFloat = (a: Uint8Array | Float32Array): Float32Array => {
    if (a instanceof Float32Array) return a;
    const f = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) f[i] = a[i] * scale;
    return f;
  };
  if (sd.granularity === 'batches') {
    return tfd.generator(async function* () {
      for await (const b of sd.batches()) {
        yield { xs: tf.tensor4d(toFloat(b.images), b.shape, 'float32'), ys: tf.tensor1d(b.labels, 'float32') } as XY;
      }
    } as unknown as () => AsyncGenerator<XY>);
  }
  const [H, W, C] = m.imageShape;
  const bs = batchSize ?? sd.loaded.indexes[0]?.entries[0]?.slices ?? 1;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`tfDataset: batchSize must be a positive integer, got ${bs}`);
  return tfd
    .generator(async function* () {
      for await (const s of sd.samples()) yield { xs: tf.tensor3d(toFloat(s.image), [H, W, C], 'float32'), ys: tf.scalar(s.label, 'float32') } as XY;
    } as unknown as () => AsyncGenerator<XY>)
    // tfjs-data's second argument is `smallLastBatch` (keep the short last batch): the opposite of dropLast.
    .batch(bs, !sd.dropLast) as unknown as tfd.Dataset<XY>;
}
