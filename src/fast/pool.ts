/**
 * A fixed pool of worker threads running the fast path (worker.ts) on chunks of slices.
 * Bounded: each worker holds at most one chunk; the rest wait as SliceRefs (a few hundred
 * bytes each), so memory does not grow with the dataset. Results come back as transferred
 * buffers (no copy). A worker that dies fails its chunk with the reason, and the pool
 * refuses further work rather than hanging.
 *
 * @example
 *   const pool = new WorkerPool(2, opts);
 *   const results = await pool.run(refs);   // SliceResult[]
 *   await pool.close();
 */
import { Worker } from 'node:worker_threads';
import type { ProcessorOptions, SliceResult } from '../batching/processor.js';
import type { SliceRef } from '../types.js';
import type { ChunkReply, ChunkRequest, PlanMessage, RecycleMessage } from './worker.js';
import { workerScript } from './worker-url.js';
import { workerExecArgv } from '../worker-threads.js';

interface Job { req: ChunkRequest; resolve: (r: SliceResult[]) => void; reject: (e: Error) => void }
interface Slot { worker: Worker; job?: Job }

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private nextRecycle = 0;
  private broken?: Error;
  private closed = false;

  /**
   * Starts `size` threads. Call setPlanJs before the first run (a worker that has no verdict
   * verifies the plan itself).
   */
  constructor(readonly size: number, opts: ProcessorOptions, script = workerScript()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`WorkerPool: size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script, { workerData: { opts }, execArgv: workerExecArgv() });
      const slot: Slot = { worker };
      worker.on('message', (m: ChunkReply) => this.done(slot, m));
      worker.on('error', (e) => this.die(slot, e));
      worker.on('exit', (code) => {
        if (!this.closed) this.die(slot, new Error(`worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
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

  /** Tells every worker the main thread's verdict on the plan's JavaScript table function. */
  setPlanJs(usable: boolean): void {
    for (const s of this.slots) s.worker.postMessage({ planJs: usable } satisfies PlanMessage);
  }

  /**
   * Hands output buffers back to the workers for reuse (transferred: they are detached here).
   * Only buffers nothing else refers to may be passed.
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
    const job = slot.job;
    slot.job = undefined;
    if (!job || job.req.id !== m.id) return this.die(slot, new Error(`worker answered chunk ${m.id}, expected ${job?.req.id}`));
    if ('error' in m) job.reject(new Error(`fast processor worker: ${m.error}`));
    else job.resolve(m.results);
    this.pump();
  }

  private die(slot: Slot, e: Error): void {
    this.broken ??= new Error(`fast processor: a worker thread failed: ${e.message}`);
    slot.job?.reject(this.broken);
    slot.job = undefined;
    for (const j of this.queue.splice(0)) j.reject(this.broken);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('WorkerPool: closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
