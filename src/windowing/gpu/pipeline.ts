/**
 * Keep the GPU busy across batches: batch n+1 is uploaded and its kernels queued before batch
 * n's download is awaited, with at most `inFlight` batches on the GPU at once. Each batch's
 * readback (a mapAsync of the packed uint8 result) then overlaps the next batches' uploads and
 * kernels, and the JS thread is free while the GPU works. Batches come out in input order; every
 * tensor is released once its batch is yielded, so GPU memory stays flat over any run length.
 *
 * @example
 *   for await (const { data, shape, batch } of windowBatchesUint8(plan, batches, { inFlight: 2 })) {
 *     writeShard(batch.refs, data, shape);      // data: Uint8Array [B,H,W,C]
 *   }
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SliceWindowMeta, WindowPlan } from '../plan.js';
import { fusedWindowPacked, fusedWindowSupported } from './index.js';

export interface HuBatch {
  /** HU, row-major [B,H,W] float32. */
  hu: Float32Array;
  shape: [number, number, number];
  meta: SliceWindowMeta[];
}

export interface WindowedBatch<T extends HuBatch> {
  data: Uint8Array;
  shape: [number, number, number, number];
  batch: T;
}

/**
 * Window a stream of HU batches to uint8 on the GPU with bounded overlap.
 * @param inFlight batches queued on the GPU before the oldest is awaited (≥ 1; 2 overlaps one
 *   batch's download with the next one's upload and kernels)
 * @throws when the backend is not 'webgpu' or the plan is outside the fused path (use applyWindow)
 */
export async function* windowBatchesUint8<T extends HuBatch>(
  plan: WindowPlan,
  batches: AsyncIterable<T> | Iterable<T>,
  { inFlight = 2 }: { inFlight?: number } = {},
): AsyncGenerator<WindowedBatch<T>> {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`windowBatchesUint8: inFlight must be an integer ≥ 1, got ${inFlight}`);
  if (!fusedWindowSupported(plan)) {
    throw new Error(`windowBatchesUint8: needs the 'webgpu' backend (now '${tf.getBackend()}') and a plan the fused kernels cover ("${plan?.name}"); use applyWindow otherwise`);
  }
  const C = plan.outputs.length;
  const pending: { read: Promise<Int32Array>; packed: tf.Tensor; shape: [number, number, number, number]; batch: T }[] = [];
  const settle = async (): Promise<WindowedBatch<T>> => {
    const p = pending.shift()!;
    try {
      const words = await p.read;
      const n = p.shape[0] * p.shape[1] * p.shape[2] * p.shape[3];
      return { data: new Uint8Array(words.buffer, words.byteOffset, n), shape: p.shape, batch: p.batch };
    } finally {
      p.packed.dispose();
    }
  };
  try {
    for await (const batch of batches) {
      const [B, H, W] = batch.shape;
      if (batch.hu.length !== B * H * W) throw new Error(`windowBatchesUint8: batch hu has ${batch.hu.length} values for shape [${batch.shape}]`);
      const x = tf.tensor3d(batch.hu, batch.shape, 'float32');
      let packed: tf.Tensor1D;
      try {
        packed = fusedWindowPacked(plan, x, batch.meta)!;
      } finally {
        x.dispose(); // the queued kernels keep their input buffer until they have run
      }
      // start the readback now: it is queued behind this batch's kernels
      const read = packed.data() as Promise<Int32Array>;
      read.catch(() => {}); // observed in settle(); avoid an unhandled rejection meanwhile
      pending.push({ read, packed, shape: [B, H, W, C], batch });
      if (pending.length >= inFlight) yield await settle();
    }
    while (pending.length > 0) yield await settle();
  } finally {
    for (const p of pending.splice(0)) p.packed.dispose();
  }
}
