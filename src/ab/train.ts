/**
 * Seeded training and inference of the A/B model. The data order of every epoch is a
 * seeded permutation (tfjs `fit({shuffle})` uses Math.random, so batches are built here
 * and fed to `trainOnBatch`); with the cpu backend the same seed gives the same weights.
 *
 * @example
 *   const model = buildModel(spec, { channels: 3, seed: 1 });
 *   await trainModel(model, train, { epochs: 4, batchSize: 32, learningRate: 3e-3, seed: 1 });
 *   const scores = await predict(model, val.x);   // Float32Array, one probability per slice
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { makeRng, permutation } from './bootstrap.js';
import { installFastConv2DGrad } from './conv-grad.js';

/** Slices in memory, already resized: x is [N, S, S, C] float32 in [0,1]. */
export interface Dataset {
  x: tf.Tensor4D;
  /** 0/1 per slice. */
  y: Uint8Array;
  /** StudyInstanceUID per slice (the bootstrap resamples these). */
  exams: string[];
  /** SOPInstanceUID per slice. */
  ids: string[];
  channels: string[];
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Called after each epoch with the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

export function validateDataset(d: Dataset, what: string): void {
  const n = d.x.shape[0];
  if (d.y.length !== n || d.exams.length !== n || d.ids.length !== n) {
    throw new Error(`${what}: x has ${n} slices but y/exams/ids have ${d.y.length}/${d.exams.length}/${d.ids.length}`);
  }
  if (n === 0) throw new Error(`${what}: no slices`);
}

/** Trains in place; returns the mean loss of each epoch. */
export async function trainModel(model: tfl.LayersModel, data: Dataset, o: TrainOptions): Promise<number[]> {
  validateDataset(data, 'trainModel: train set');
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`trainModel: epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`trainModel: batchSize must be a positive integer, got ${o.batchSize}`);
  if (tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm') installFastConv2DGrad();
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'binaryCrossentropy' });
  const n = data.x.shape[0];
  const yAll = tf.tensor2d(Float32Array.from(data.y), [n, 1]);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const perm = permutation(makeRng(`train:${o.seed}:${epoch}`), n);
      let sum = 0;
      let batches = 0;
      for (let s = 0; s < n; s += o.batchSize) {
        const idx = tf.tensor1d(perm.subarray(s, Math.min(n, s + o.batchSize)), 'int32');
        const xb = tf.gather(data.x, idx);
        const yb = tf.gather(yAll, idx);
        const loss = await model.trainOnBatch(xb, yb);
        tf.dispose([idx, xb, yb]);
        sum += Array.isArray(loss) ? loss[0] : loss;
        batches++;
      }
      const mean = sum / batches;
      losses.push(mean);
      o.onEpoch?.(epoch, mean);
    }
  } finally {
    yAll.dispose();
  }
  return losses;
}

/** Sigmoid outputs, one per slice, in input order (async reads: GPU backends have no cheap sync read). */
export async function predict(model: tfl.LayersModel, x: tf.Tensor4D, batchSize = 128): Promise<Float32Array> {
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const p = tf.tidy(() => model.predict(tf.slice(x, [s, 0, 0, 0], [m, -1, -1, -1])) as tf.Tensor);
    out.set((await p.data()) as Float32Array, s);
    p.dispose();
  }
  return out;
}
