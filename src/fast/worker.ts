/**
 * Worker-thread entry of the fast processor (compiled to dist/fast/worker.js; pool.ts starts
 * it). It loads only the fast path; tfjs and the codecs' WASM are loaded on first need
 * (tf-lazy.ts, slices.ts). It answers chunk requests:
 *
 *   in : { id, refs: SliceRef[] }
 *   out: { id, results: SliceResult[] }   (output buffers transferred, not copied)
 *   out: { id, error: string }            (an unexpected failure of the whole chunk)
 *   in : { planJs: boolean }              (the main thread's verdict on the plan's JavaScript
 *                                          table function; sent before the first chunk)
 *   in : { recycle: ArrayBuffer[] }       (output buffers whose record is written, transferred
 *                                          back for reuse; no answer)
 *
 * `workerData` carries the ProcessorOptions (the WindowPlan is plain JSON); the main thread's
 * verdict on the plan's JavaScript table function (plan-js.ts) comes as the first message.
 *
 * @example
 *   new Worker(new URL('./worker.js', import.meta.url), { workerData: { opts } });
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProcessorOptions, SliceResult } from '../batching/slice.js';
import type { SliceRef } from '../types.js';
import { BufferPool } from './buffer-pool.js';
import { processChunk, type ChunkBuffers } from './slices.js';
import { presetTableFn } from './window-lut.js';

export interface ChunkRequest { id: number; refs: SliceRef[] }
export interface RecycleMessage { recycle: ArrayBuffer[] }
export interface PlanMessage { planJs: boolean }
export type ChunkReply = { id: number; results: SliceResult[] } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('src/fast/worker.ts is a worker-thread entry; start it with new Worker(…)');
const { opts } = workerData as { opts: ProcessorOptions };
// ~60 slices of 512×512×3 uint8 outputs and ~60 CT files: bounds what a worker keeps for reuse.
const buffers: ChunkBuffers = { out: new BufferPool(48 << 20), read: new BufferPool(32 << 20) };

port.on('message', async (msg: ChunkRequest | RecycleMessage | PlanMessage) => {
  if ('planJs' in msg) {
    presetTableFn(opts.plan, msg.planJs);
    return;
  }
  if ('recycle' in msg) {
    for (const b of msg.recycle) buffers.out.give(b);
    return;
  }
  try {
    const results = await processChunk(msg.refs, opts, buffers);
    const transfer: ArrayBuffer[] = [];
    for (const r of results) {
      if (!r.ok) continue;
      // Transfer whole buffers only when the slice owns its buffer.
      const b = r.bytes;
      if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
    }
    port.postMessage({ id: msg.id, results } satisfies ChunkReply, transfer);
  } catch (e) {
    port.postMessage({ id: msg.id, error: (e as Error)?.stack ?? String(e) } satisfies ChunkReply);
  }
});
