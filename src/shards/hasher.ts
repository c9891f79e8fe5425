/**
 * sha256 of a shard as it is written, on a thread of its own when the build has one
 * (hash-worker.ts): at ~2 GB/s, hashing is ~0.45 ms per 512² uint8 slice, the largest cost left
 * on the pipeline's main thread, which also reads the CSV, feeds the workers and writes.
 * Blocks are handed over as (SharedArrayBuffer, offset, length) without a copy; the caller keeps
 * a block unchanged until its `update` resolves. Without a build (TypeScript sources) the same
 * hash is computed on the calling thread.
 *
 * @example
 *   const h = openHash();
 *   await h.update(sab, 0, 8 << 20);
 *   const hex = await h.digest();
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-worker.js';
import { builtScriptPath, workerExecArgv } from '../worker-threads.js';

export interface StreamHash {
  /** Hashes sab[off, off + len) next; resolves when those bytes may change again. */
  update(sab: SharedArrayBuffer, off: number, len: number): Promise<void>;
  digest(): Promise<string>;
}

function hasherScript(): string | undefined {
  const c = builtScriptPath(import.meta.url, 'hash-worker.js');
  return existsSync(c) ? c : undefined;
}

/** The process's hasher thread: started on first use, holding the process open only while busy. */
class HasherThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (hex?: string) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private nextStream = 0;
  private failed?: Error;

  constructor(script: string) {
    this.worker = new Worker(script, { execArgv: workerExecArgv() });
    this.worker.unref();
    this.worker.on('message', (r: HashReply) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (!this.waiting.size) this.worker.unref();
      if (r.error) w.reject(new Error(`shard hasher: ${r.error}`));
      else w.resolve(r.hex);
    });
    const fail = (e: Error) => {
      this.failed ??= new Error(`shard hasher thread failed: ${e.message}`);
      for (const w of this.waiting.values()) w.reject(this.failed);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  private ask(msg: { stream: number; sab: SharedArrayBuffer; off: number; len: number } | { stream: number; digest: true }): Promise<string | undefined> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref(); // a pending answer keeps the process alive
      this.worker.postMessage({ ...msg, id } as HashRequest);
    });
  }

  open(): StreamHash {
    const stream = this.nextStream++;
    this.worker.postMessage({ stream, reset: true } satisfies HashRequest);
    return {
      update: async (sab, off, len) => {
        await this.ask({ stream, sab, off, len });
      },
      digest: async () => (await this.ask({ stream, digest: true })) as string,
    };
  }
}

let thread: HasherThread | undefined;

/** A new sha256 stream: on the hasher thread when the build has its script, else in-line. */
export function openHash(): StreamHash {
  const script = hasherScript();
  if (script) {
    thread ??= new HasherThread(script);
    return thread.open();
  }
  const h = createHash('sha256');
  return {
    update: async (sab, off, len) => {
      h.update(new Uint8Array(sab, off, len));
    },
    digest: async () => h.digest('hex'),
  };
}
