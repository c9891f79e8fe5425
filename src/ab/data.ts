/**
 * Loads one split of a ctwindow shard folder into memory for the A/B model: images as
 * float32 [N, S, S, C] in [0,1] (uint8 /255; float types as stored), resized (bilinear)
 * to the model's input size when the shards differ, with labels, exam and slice ids.
 *
 * `unique: true` keeps the first occurrence of each SOPInstanceUID (a balanced train split
 * may repeat slices; evaluation must count each slice once).
 *
 * @example
 *   const val = await loadSplit('out/ab/shards/pe-band-1a2b', 'val', { size: 64, unique: true });
 *   console.log(val.x.shape, val.y.length);
 */
import * as tf from '@tensorflow/tfjs-core';
import { readRecords } from '../shards/index.js';
import type { Split } from '../types.js';
import type { Dataset } from './train.js';

export interface LoadOptions {
  /** Model input size (square). */
  size: number;
  /** Drop repeated SOPInstanceUIDs (first kept). */
  unique?: boolean;
}

export interface LoadedSplit extends Dataset {
  /** Repeated slices dropped by `unique`. */
  duplicates: number;
  strategy: string;
}

export async function loadSplit(dir: string, split: Split, o: LoadOptions): Promise<LoadedSplit> {
  if (!Number.isInteger(o.size) || o.size < 1) throw new Error(`loadSplit: size must be a positive integer, got ${o.size}`);
  const parts: tf.Tensor4D[] = [];
  const y: number[] = [];
  const exams: string[] = [];
  const ids: string[] = [];
  const seen = new Set<string>();
  let channels: string[] | undefined;
  let strategy = '';
  let duplicates = 0;
  try {
    for await (const r of readRecords(dir, { split })) {
      const [B, H, W, C] = r.shape;
      if (channels && channels.join('\u0000') !== r.channels.join('\u0000')) {
        throw new Error(`${dir} ${split} record ${r.index}: channels [${r.channels}] differ from earlier records [${channels}]`);
      }
      channels = r.channels;
      strategy = r.strategy;
      const keep: number[] = [];
      for (let i = 0; i < B; i++) {
        if (o.unique && seen.has(r.sop[i])) {
          duplicates++;
          continue;
        }
        seen.add(r.sop[i]);
        keep.push(i);
        y.push(r.labels[i]);
        exams.push(r.study[i]);
        ids.push(r.sop[i]);
      }
      if (keep.length === 0) continue;
      const t = tf.tidy(() => {
        let x = tf.tensor4d(r.pixels instanceof Float32Array ? r.pixels : Float32Array.from(r.pixels), [B, H, W, C]);
        if (r.dtype === 'uint8') x = tf.div(x, 255);
        if (keep.length !== B) x = tf.gather(x, tf.tensor1d(keep, 'int32'));
        if (H !== o.size || W !== o.size) x = tf.image.resizeBilinear(x, [o.size, o.size], false, true);
        return x;
      });
      parts.push(t);
    }
  } catch (e) {
    tf.dispose(parts);
    throw e;
  }
  if (parts.length === 0 || !channels) throw new Error(`${dir}: split '${split}' holds no slices`);
  const x = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  if (parts.length > 1) tf.dispose(parts);
  for (const [i, v] of y.entries()) {
    if (v !== 0 && v !== 1) throw new Error(`${dir} ${split}: label of slice ${ids[i]} is ${v}; the A/B model needs 0/1 labels`);
  }
  return { x, y: Uint8Array.from(y), exams, ids, channels, duplicates, strategy };
}

/** Keeps the slices whose id is in `ids`, in the order of `ids` (aligns strategies slice by slice). */
export function selectSlices(d: Dataset, ids: string[]): Dataset {
  const pos = new Map(d.ids.map((id, i) => [id, i]));
  const idx = ids.map((id) => {
    const i = pos.get(id);
    if (i === undefined) throw new Error(`selectSlices: slice ${id} is not in the dataset`);
    return i;
  });
  const x = tf.tidy(() => tf.gather(d.x, tf.tensor1d(idx, 'int32')) as tf.Tensor4D);
  return { x, y: Uint8Array.from(idx, (i) => d.y[i]), exams: idx.map((i) => d.exams[i]), ids: [...ids], channels: d.channels };
}
