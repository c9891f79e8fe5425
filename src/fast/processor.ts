/**
 * createFastProcessor: a BatchProcessor giving the same bytes as InProcessProcessor (on tfjs's
 * cpu backend), fast:
 *   - windowing through per-slice lookup tables over the distinct stored values
 *     (window-lut.ts; the plan itself is evaluated by applyWindowReference on the table),
 *   - read + decode + window + resize + encode on worker threads over every core
 *     (`workers: auto` = os.availableParallelism(); N; 0 = the same fast path in-process),
 *   - bounded: one chunk per worker in flight; outputs come back as views over shared slabs
 *     each worker registers once (pool.ts, slab-pool.ts), and `release` hands their slots back
 *     to the worker that owns them, so a steady run creates no buffer per slice on either side.
 * `workers: auto` without a build (TypeScript sources, no dist/fast/worker.js) runs in-process
 * with a log line; an explicit `workers: N` then fails with the command to run.
 * On a non-cpu tfjs backend (webgpu, tensorflow, wasm) it returns InProcessProcessor, whose
 * bytes are that backend's, and says so through `log`.
 * `startFastWorkers` starts the threads before the main thread has loaded tfjs (the pipeline
 * calls it right after reading its config), so their start-up overlaps. A plan the table
 * executor cannot run is refused here, naming the reason (planProblem), never run slowly.
 *
 * @example
 *   const summary = await runPipeline('pipelines/demo.yaml', { processor: createFastProcessor });
 */
import { availableParallelism } from 'node:os';
import type { BatchProcessor, ProcessorOptions, SliceResult } from '../batching/slice.js';
import type { SliceRef } from '../types.js';
import { WorkerDied, WorkerPool } from './pool.js';
import { fail } from '../batching/slice.js';
import { processChunk } from './slices.js';
import { workerScript } from './worker-url.js';
import { planProblem } from '../windowing/primitives/index.js';

export interface FastConfig {
  /** 'auto' = one per core, 0 = in-process. */
  workers?: 'auto' | number;
}

export interface FastOptions {
  log?: (line: string) => void;
  /** Slices per worker message (default: batch split evenly, 4..16 per chunk). */
  chunk?: number;
  /** Threads started earlier by startFastWorkers for the same options; taken over (or closed). */
  workers?: WorkerPool;
  /** The tfjs backend in use, when the caller knows it without loading tfjs (run.ts for `backend: cpu`). */
  backend?: string;
}

/** Resolves `workers: auto | N` to a thread count. */
export function workerCount(w: FastConfig['workers']): number {
  if (w === undefined || w === 'auto') return Math.max(1, availableParallelism());
  if (!Number.isInteger(w) || w < 0) throw new Error(`workers: expected 'auto' or an integer ≥ 0, got ${JSON.stringify(w)}`);
  return w;
}

export class FastProcessor implements BatchProcessor {
  private constructor(private readonly opts: ProcessorOptions, private readonly pool: WorkerPool | undefined, private readonly chunk?: number) {}

  static async create(opts: ProcessorOptions, workers: number, chunk?: number, started?: WorkerPool): Promise<FastProcessor> {
    const problem = planProblem(opts.plan);
    if (problem) {
      await started?.close();
      throw new Error(`fast processor: window plan '${opts.plan.name}': ${problem}`);
    }
    if (workers === 0) return new FastProcessor(opts, undefined, chunk);
    return new FastProcessor(opts, started ?? new WorkerPool(workers, opts, workerScript()), chunk);
  }

  get threads(): number {
    return this.pool?.size ?? 0;
  }

  async process(refs: SliceRef[]): Promise<SliceResult[]> {
    if (!refs.length) return [];
    if (!this.pool) return processChunk(refs, this.opts);
    const k = this.chunk ?? Math.min(16, Math.max(4, Math.ceil(refs.length / (2 * this.pool.size))));
    const pool = this.pool;
    // A chunk whose worker died is retried slice by slice; the slice that kills its worker alone is quarantined.
    const run = async (chunk: SliceRef[]): Promise<SliceResult[]> => {
      try {
        return await pool.run(chunk);
      } catch (e) {
        if (!(e instanceof WorkerDied)) throw e;
        if (chunk.length === 1) return [fail(chunk[0], 'decode', `${chunk[0].path}: the worker thread decoding it died (${e.message}); set aside so the run goes on`)];
        return (await Promise.all(chunk.map((r) => run([r])))).flat();
      }
    };
    const parts: Promise<SliceResult[]>[] = [];
    for (let i = 0; i < refs.length; i += k) parts.push(run(refs.slice(i, i + k)));
    return (await Promise.all(parts)).flat();
  }

  /**
   * Output bytes the caller is done with go back to the workers (WorkerPool.release): slab views
   * as `{ recycleSlots }` to their owning worker, one message per worker per call (their bytes
   * will be overwritten: the caller must not read them again); whole plain buffers transferred
   * (detached). Pass the views `process` returned: a view released before, a subarray or a
   * view over memory the pool does not know is ignored. In-process: a no-op.
   */
  release(bytes: Uint8Array[]): void {
    this.pool?.release(bytes);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * Starts the worker threads of a later createFastProcessor(opts, config, { workers }) now, when
 * the config asks for threads and the build has the worker script; otherwise undefined.
 */
export function startFastWorkers(opts: ProcessorOptions, config: FastConfig = {}): WorkerPool | undefined {
  const n = workerCount(config.workers);
  if (n === 0) return undefined;
  try {
    return new WorkerPool(n, opts, workerScript());
  } catch {
    return undefined; // createFastProcessor reports it
  }
}

/**
 * The pipeline's `processor` hook: `runPipeline(path, { processor: createFastProcessor })`.
 * Reads `config.workers`.
 */
export async function createFastProcessor(opts: ProcessorOptions, config: FastConfig = {}, fast: FastOptions = {}): Promise<BatchProcessor> {
  const backend = fast.backend ?? (await import('@tensorflow/tfjs-core')).getBackend();
  if (backend !== 'cpu') {
    await fast.workers?.close();
    fast.log?.(`fast processor: tfjs backend is ${backend}, not cpu; windowing stays on ${backend} (in-process)`);
    const { InProcessProcessor } = await import('../batching/processor.js');
    return new InProcessProcessor(opts);
  }
  const n = workerCount(config.workers);
  if (fast.workers) {
    if (fast.workers.size === n) return FastProcessor.create(opts, n, fast.chunk, fast.workers);
    await fast.workers.close();
  }
  if (n > 0 && config.workers !== undefined && config.workers !== 'auto') workerScript(); // explicit N: a missing build is an error
  if (n > 0) {
    try {
      workerScript();
    } catch (e) {
      // workers: auto from TypeScript sources without a build: same bytes, one thread.
      fast.log?.(`${(e as Error).message}; running the fast path in-process`);
      return FastProcessor.create(opts, 0, fast.chunk);
    }
  }
  return FastProcessor.create(opts, n, fast.chunk);
}
