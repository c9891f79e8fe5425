/**
 * Worker-thread entry of the fast processor (compiled to dist/fast/worker.js; pool.ts starts
 * it). Initialises tfjs's cpu backend and the codecs once, then answers chunk requests:
 *
 *   in : { id, refs: SliceRef[] }
 *   out: { id, results: SliceResult[] }   (output buffers transferred, not copied)
 *   out: { id, error: string }            (an unexpected failure of the whole chunk)
 *
 * `workerData` carries the ProcessorOptions (the WindowPlan is plain JSON) and whether the
 * main thread verified the plan's JavaScript table function (plan-js.ts).
 *
 * @example
 *   new Worker(new URL('./worker.js', import.meta.url), { workerData: { opts } });
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initCodecs } from '../dicom/index.js';
import type { ProcessorOptions, SliceResult } from '../batching/processor.js';
import type { SliceRef } from '../types.js';
import { processChunk } from './slices.js';
import { presetTableFn } from './window-lut.js';

export interface ChunkRequest { id: number; refs: SliceRef[] }
export type ChunkReply = { id: number; results: SliceResult[] } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('src/fast/worker.ts is a worker-thread entry; start it with new Worker(…)');
const { opts, planJs } = workerData as { opts: ProcessorOptions; planJs: boolean };
presetTableFn(opts.plan, planJs);

const ready = (async () => {
  tf.enableProdMode();
  if (!(await tf.setBackend('cpu'))) throw new Error('worker: tfjs cpu backend failed to initialise');
  await initCodecs();
})();

port.on('message', async (msg: ChunkRequest) => {
  try {
    await ready;
    const results = await processChunk(msg.refs, opts);
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
