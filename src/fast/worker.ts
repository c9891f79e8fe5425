/**
 * Worker-thread entry of the fast processor (compiled to dist/fast/worker.js; pool.ts starts
 * it). It loads only the fast path; tfjs and the codecs' WASM are loaded on first need
 * (tf-lazy.ts, slices.ts). Messages:
 *
 *   in : { id, refs: SliceRef[] }         (a chunk to process)
 *   out: { id, results: WireResult[], slabs?: SlabGrant[] }
 *        Output bytes live in this worker's shared slabs (slab-pool.ts): an ok result carries
 *        `at: [slab id, byte offset, length]` instead of `bytes`, and a slab's
 *        { id, sab: SharedArrayBuffer } comes once, in the first reply that uses it. Past the
 *        slab cap an ok result carries `bytes` in a plain ArrayBuffer, transferred (not copied).
 *   out: { id, error: string, slabs? }    (an unexpected failure of the whole chunk; the slots
 *                                          it had taken are free again; new slabs announced)
 *   in : { recycleSlots: SlabLoc[] }      (slots whose record is written: free for reuse; a slot
 *                                          already free or unknown is ignored; no answer)
 *   in : { recycle: ArrayBuffer[] }       (plain output buffers, transferred back for reuse; no
 *                                          answer)
 *
 * `workerData` carries the ProcessorOptions (the WindowPlan is plain JSON) and the slab limits
 * ({ capBytes, minBytes, firstCapBytes }, see slab-pool.ts; the pool fills in the cap).
 *
 * @example
 *   new Worker(new URL('./worker.js', import.meta.url), { workerData: { opts, slabs: { capBytes: 192 << 20 } } });
 */
import { parentPort, workerData } from 'node:worker_threads';
import { S3Error } from '../storage/s3.js';
import type { ProcessorOptions, SliceFail, SliceOk, SliceResult } from '../batching/slice.js';
import type { SliceRef } from '../types.js';
import { BufferPool } from './buffer-pool.js';
import { SlabPool, type SlabGrant, type SlabLoc } from './slab-pool.js';
import { processChunk, type ChunkBuffers } from './slices.js';

export interface ChunkRequest { id: number; refs: SliceRef[] }
export interface RecycleMessage { recycle: ArrayBuffer[] }
export interface RecycleSlotsMessage { recycleSlots: SlabLoc[] }
/** Slab limits of one worker (SlabPool's capBytes, slabMinBytes, firstCapBytes); all optional. */
export interface SlabLimits { capBytes?: number; minBytes?: number; firstCapBytes?: number }
/** An ok result whose bytes are in a slab announced by this or an earlier reply. */
export interface SliceAt { ok: true; ref: SliceRef; at: SlabLoc }
export type WireResult = SliceOk | SliceFail | SliceAt;
export type ChunkReply = { id: number; results: WireResult[]; slabs?: SlabGrant[] } | { id: number; error: string; slabs?: SlabGrant[] };

const port = parentPort;
const FAULT_EXIT_ON = process.env.CTWINDOW_FAULT_WORKER_EXIT;
if (!port) throw new Error('src/fast/worker.ts is a worker-thread entry; start it with new Worker(…)');
const { opts, slabs: limits = {} } = workerData as { opts: ProcessorOptions; slabs?: SlabLimits };
const slabs = new SlabPool(limits.capBytes, limits.minBytes, limits.firstCapBytes);
// Past the slab cap: plain output buffers, reused when the pipeline hands them back (~60 slices
// of 512×512×3 uint8), and ~60 CT files.
const plain = new BufferPool(48 << 20);
/** Slots taken by the chunk in progress, given back if it fails. */
let taken: Uint8Array[] = [];
const buffers: ChunkBuffers = {
  out: (n) => {
    const v = slabs.take(n);
    if (!v) return new Uint8Array(plain.take(n));
    taken.push(v);
    return v;
  },
  read: new BufferPool(32 << 20),
};

port.on('message', async (msg: ChunkRequest | RecycleMessage | RecycleSlotsMessage) => {
  if ('recycleSlots' in msg) {
    for (const [id, offset, length] of msg.recycleSlots) slabs.give(id, offset, length);
    return;
  }
  if ('recycle' in msg) {
    for (const b of msg.recycle) plain.give(b);
    return;
  }
  // Fault injection for the tests (test/fast-worker-death.test.ts): this thread dies on the named file.
  if (FAULT_EXIT_ON && msg.refs.some((r) => r.path.endsWith(FAULT_EXIT_ON))) process.exit(70);
  taken = [];
  let fresh: SlabGrant[] = [];
  try {
    const results = await processChunk(msg.refs, opts, buffers);
    const wire: WireResult[] = results;
    const transfer: ArrayBuffer[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (!r.ok) continue;
      const at = slabs.locate(r.bytes);
      if (at) {
        wire[i] = { ok: true, ref: r.ref, at };
        continue;
      }
      // Transfer whole buffers only when the slice owns its buffer.
      const b = r.bytes;
      if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !transfer.includes(b.buffer as ArrayBuffer)) transfer.push(b.buffer as ArrayBuffer);
    }
    fresh = slabs.drainNew();
    port.postMessage({ id: msg.id, results: wire, ...(fresh.length ? { slabs: fresh } : {}) } satisfies ChunkReply, transfer);
  } catch (e) {
    for (const v of taken) slabs.untake(v);
    fresh.push(...slabs.drainNew());
    // An object-storage failure is told in its own words (URL and reason), not as a stack.
    const told = e instanceof S3Error ? e.message : (e as Error)?.stack ?? String(e);
    port.postMessage({ id: msg.id, error: told, ...(fresh.length ? { slabs: fresh } : {}) } satisfies ChunkReply);
  }
});
