/**
 * createFastProcessor: a BatchProcessor giving the same bytes as InProcessProcessor (on tfjs's
 * cpu backend), fast:
 *   - windowing through per-slice lookup tables over the distinct stored values
 *     (window-lut.ts; the plan itself is evaluated by applyWindowReference on the table),
 *   - read + decode + window + resize + encode on worker threads over every core
 *     (`workers: auto` = os.availableParallelism(); N; 0 = the same fast path in-process),
 *   - bounded: one chunk per worker in flight, output buffers transferred back.
 * `workers: auto` without a build (TypeScript sources, no dist/fast/worker.js) runs in-process
 * with a log line; an explicit `workers: N` then fails with the command to run.
 * On a non-cpu tfjs backend (webgpu, tensorflow, wasm) it returns InProcessProcessor, whose
 * bytes are that backend's, and says so through `log`.
 *
 * @example
 *   const summary = await runPipeline('pipelines/demo.yaml', { processor: createFastProcessor });
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { InProcessProcessor, type BatchProcessor, type ProcessorOptions, type SliceResult } from '../batching/processor.js';
import type { SliceRef } from '../types.js';
import { WorkerPool } from './pool.js';
import { processChunk } from './slices.js';
import { workerScript } from './worker-url.js';
import { tableFnFor } from './plan-verify.js';

export interface FastConfig {
  /** 'auto' = one per core, 0 = in-process. */
  workers?: 'auto' | number;
}

export interface FastOptions {
  log?: (line: string) => void;
  /** Slices per worker message (default: batch split evenly, 4..16 per chunk). */
  chunk?: number;
}

/** Resolves `workers: auto | N` to a thread count. */
export function workerCount(w: FastConfig['workers']): number {
  if (w === undefined || w === 'auto') return Math.max(1, availableParallelism());
  if (!Number.isInteger(w) || w < 0) throw new Error(`workers: expected 'auto' or an integer ≥ 0, got ${JSON.stringify(w)}`);
  return w;
}

export class FastProcessor implements BatchProcessor {
  private constructor(private readonly opts: ProcessorOptions, private readonly pool: WorkerPool | undefined, private readonly chunk?: number) {}

  static async create(opts: ProcessorOptions, workers: number, chunk?: number): Promise<FastProcessor> {
    if (workers === 0) {
      tableFnFor(opts.plan);
      return new FastProcessor(opts, undefined, chunk);
    }
    // Verify the plan's JavaScript table function once, here (cpu backend), for every worker.
    return new FastProcessor(opts, new WorkerPool(workers, opts, workerScript(), tableFnFor(opts.plan) !== null), chunk);
  }

  get threads(): number {
    return this.pool?.size ?? 0;
  }

  async process(refs: SliceRef[]): Promise<SliceResult[]> {
    if (!refs.length) return [];
    if (!this.pool) return processChunk(refs, this.opts);
    const k = this.chunk ?? Math.min(16, Math.max(4, Math.ceil(refs.length / (2 * this.pool.size))));
    const parts: Promise<SliceResult[]>[] = [];
    for (let i = 0; i < refs.length; i += k) parts.push(this.pool.run(refs.slice(i, i + k)));
    return (await Promise.all(parts)).flat();
  }

  /** Output bytes the caller is done with go back to the workers (whole buffers only). */
  release(bytes: Uint8Array[]): void {
    if (!this.pool) return;
    const whole = bytes.filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.byteLength > 0).map((b) => b.buffer as ArrayBuffer);
    this.pool.recycle([...new Set(whole)]);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * The pipeline's `processor` hook: `runPipeline(path, { processor: createFastProcessor })`.
 * Reads `config.workers`.
 */
export async function createFastProcessor(opts: ProcessorOptions, config: FastConfig = {}, fast: FastOptions = {}): Promise<BatchProcessor> {
  const backend = tf.getBackend();
  if (backend !== 'cpu') {
    fast.log?.(`fast processor: tfjs backend is ${backend}, not cpu; windowing stays on ${backend} (in-process)`);
    return new InProcessProcessor(opts);
  }
  const n = workerCount(config.workers);
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
