/**
 * A fixed pool of worker threads running the fast path (worker.ts) on chunks of slices.
 * Bounded: each worker holds at most one chunk; the rest wait as SliceRefs (a few hundred
 * bytes each), so memory does not grow with the dataset. A worker that dies (a crash, a heap
 * over its `resourceLimits`) fails its chunk with WorkerDied and is replaced by a fresh one, so
 * one bad slice cannot take the run down (the processor retries the chunk's slices one by one
 * and quarantines the one that kills its worker); after MAX_RESPAWNS deaths the pool refuses
 * further work rather than looping.
 *
 * Results come back without a copy. Each worker writes outputs into shared slabs of its own
 * (slab-pool.ts) and announces each slab once ({ id, sab } in a reply); the pool keeps that
 * SharedArrayBuffer object and turns every later `at: [slab, offset, length]` into a Uint8Array
 * view over it, so no ArrayBuffer is created per slice here (a transferred buffer per slice
 * kept the main isolate's garbage collector busy). `release` sends views over known slabs back
 * to their owning worker as `{ recycleSlots }`, batched per call; other whole buffers (a
 * worker's plain outputs past its slab cap) go back transferred, as `{ recycle }`. Slabs live
 * until the pool closes; views handed out keep their memory alive after that.
 *
 * @example
 *   const pool = new WorkerPool(2, opts);
 *   const results = await pool.run(refs);   // SliceResult[]
 *   pool.release(results.filter((r) => r.ok).map((r) => r.bytes));   // once written
 *   await pool.close();
 */
import { Worker } from 'node:worker_threads';
import type { ProcessorOptions, SliceResult } from '../batching/processor.js';
import type { SliceRef } from '../types.js';
import type { ChunkReply, ChunkRequest, RecycleMessage, RecycleSlotsMessage, SlabLimits } from './worker.js';
import { workerSlabCap, type SlabLoc } from './slab-pool.js';
import { workerScript } from './worker-url.js';
import { workerExecArgv } from '../worker-threads.js';
import { markPageAligned } from '../shards/shard-file.js';

interface Job { req: ChunkRequest; resolve: (r: SliceResult[]) => void; reject: (e: Error) => void }
interface Slot {
  worker: Worker;
  index: number;
  dead?: boolean;
  job?: Job;
  /** This worker's slabs by id, as announced. */
  slabs: Map<number, SharedArrayBuffer>;
  slabBytes: number;
}

/** A worker thread died while it held this chunk: the chunk's slices may be retried. */
export class WorkerDied extends Error {}

/** Worker deaths a pool survives (each replaced by a fresh thread) before it gives up. */
export const MAX_RESPAWNS = 16;
/** Heap of one worker thread: a slice that needs more fails alone instead of exhausting the process. */
const WORKER_HEAP_MB = 2048;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private respawns = 0;
  private readonly spawn: (index: number) => Slot;
  private readonly queue: Job[] = [];
  private nextId = 0;
  private nextRecycle = 0;
  private broken?: Error;
  private closed = false;
  /**
   * Every announced slab → its worker, its id and the views handed out over it by offset
   * (release finds a view's owner by its buffer, and sends a slot back only for the very view
   * that holds it now: a stale view of an earlier slice in a reused slot is ignored).
   */
  private readonly owners = new Map<SharedArrayBuffer, { slot: Slot; id: number; out: Map<number, Uint8Array> }>();
  /** Views passed to release that were not the current holder of a known slot (ignored). */
  staleReleases = 0;

  /**
   * Starts `size` threads. `slabs`: each worker's slab limits (slab-pool.ts; default cap
   * workerSlabCap(size), FIRST_SLAB_CAP until a slot comes back, slabs of ≥ SLAB_MIN_BYTES);
   * tests make them small.
   */
  constructor(readonly size: number, opts: ProcessorOptions, script = workerScript(), slabs: SlabLimits = {}) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`WorkerPool: size must be a positive integer, got ${size}`);
    const limits: SlabLimits = { ...slabs, capBytes: slabs.capBytes ?? workerSlabCap(size) };
    this.spawn = (index: number): Slot => {
      const worker = new Worker(script, { workerData: { opts, slabs: limits }, execArgv: workerExecArgv(), resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      const slot: Slot = { worker, index, slabs: new Map(), slabBytes: 0 };
      worker.on('message', (m: ChunkReply) => this.done(slot, m));
      worker.on('error', (e) => this.die(slot, e));
      worker.on('exit', (code) => {
        if (!this.closed) this.die(slot, new Error(`worker exited with code ${code}`));
      });
      return slot;
    };
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  /** Processes one chunk on the next free worker. */
  run(refs: SliceRef[]): Promise<SliceResult[]> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, refs }, resolve, reject });
      this.pump();
    });
  }

  /**
   * Output bytes the caller is done with (nothing reads them any more) go back to the workers:
   * views over a worker's slab as `{ recycleSlots }` to that worker (their memory is reused: the
   * views stay valid objects but their bytes will change); views that own a whole ArrayBuffer
   * through `recycle` (detached here). Only the view objects `run` returned count: a slab view
   * released twice, a stale one whose slot now holds a later slice, or another view over slab
   * memory (a subarray, a copy of the view) is ignored and counted in `staleReleases` (the
   * worker also ignores a slot that is already free). Anything else (part of a plain buffer,
   * an empty view, any view after close) is left alone.
   */
  release(bytes: Uint8Array[]): void {
    if (this.closed || this.broken || !bytes.length) return;
    let slots: SlabLoc[][] | undefined;
    let whole: ArrayBuffer[] | undefined;
    for (const b of bytes) {
      const own = this.owners.get(b.buffer as SharedArrayBuffer);
      if (own) {
        if (own.out.get(b.byteOffset) !== b) {
          this.staleReleases++;
          continue;
        }
        own.out.delete(b.byteOffset);
        slots ??= [];
        (slots[own.slot.index] ??= []).push([own.id, b.byteOffset, b.byteLength]);
      } else if (b.byteLength > 0 && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !(b.buffer instanceof SharedArrayBuffer)) {
        (whole ??= []).push(b.buffer as ArrayBuffer);
      }
    }
    if (slots) {
      slots.forEach((locs, i) => {
        if (locs) this.slots[i].worker.postMessage({ recycleSlots: locs } satisfies RecycleSlotsMessage);
      });
    }
    if (whole) this.recycle([...new Set(whole)]);
  }

  /** Slabs each worker has announced: count and bytes, in worker order. */
  slabStats(): { slabs: number; bytes: number }[] {
    return this.slots.map((s) => ({ slabs: s.slabs.size, bytes: s.slabBytes }));
  }

  /**
   * Hands plain output buffers back to the workers for reuse (transferred: they are detached
   * here). Only buffers nothing else refers to may be passed.
   */
  recycle(buffers: ArrayBuffer[]): void {
    if (this.closed || this.broken || !buffers.length) return;
    const slot = this.slots[this.nextRecycle++ % this.slots.length];
    slot.worker.postMessage({ recycle: buffers } satisfies RecycleMessage, buffers);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || !this.queue.length) continue;
      slot.job = this.queue.shift()!;
      slot.worker.postMessage(slot.job.req);
    }
  }

  private done(slot: Slot, m: ChunkReply): void {
    if (slot.dead) return; // a message from a worker already replaced
    const job = slot.job;
    slot.job = undefined;
    if (!job || job.req.id !== m.id) return this.die(slot, new Error(`worker answered chunk ${m.id}, expected ${job?.req.id}`));
    if (m.slabs) {
      for (const { id, sab } of m.slabs) {
        slot.slabs.set(id, sab);
        slot.slabBytes += sab.byteLength;
        this.owners.set(sab, { slot, id, out: new Map() });
        // A WebAssembly.Memory: page-aligned, so the shard writer may hand its slots to O_DIRECT as they are.
        markPageAligned(sab);
      }
    }
    if ('error' in m) job.reject(new Error(`fast processor worker: ${m.error}`));
    else {
      const results = m.results as SliceResult[];
      for (let i = 0; i < results.length; i++) {
        const r = m.results[i];
        if (!('at' in r)) continue;
        const [id, offset, length] = r.at;
        const sab = slot.slabs.get(id);
        if (!sab) {
          slot.job = job;
          return this.die(slot, new Error(`worker ${slot.index} answered with slab ${id}, which it never announced`));
        }
        const bytes = new Uint8Array(sab, offset, length);
        this.owners.get(sab)!.out.set(offset, bytes);
        results[i] = { ok: true, ref: r.ref, bytes };
      }
      job.resolve(results);
    }
    this.pump();
  }

  private die(slot: Slot, e: Error): void {
    if (slot.dead || this.closed) return; // 'error' and 'exit' both report one death
    slot.dead = true;
    const job = slot.job;
    slot.job = undefined;
    // Its slabs are forgotten: views already handed out stay valid memory, releases of them are ignored.
    for (const [sab, o] of this.owners) if (o.slot === slot) this.owners.delete(sab);
    slot.worker.terminate().catch(() => {});
    if (this.respawns >= MAX_RESPAWNS) {
      this.broken ??= new Error(`fast processor: ${MAX_RESPAWNS + 1} worker threads died, the last: ${e.message}`);
      job?.reject(this.broken);
      for (const j of this.queue.splice(0)) j.reject(this.broken);
      return;
    }
    this.respawns++;
    this.slots[slot.index] = this.spawn(slot.index);
    job?.reject(new WorkerDied(`worker thread ${slot.index} died: ${e.message}`));
    this.pump();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('WorkerPool: closed'));
    this.owners.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
