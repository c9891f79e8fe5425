/**
 * A free list of ArrayBuffers for one thread, bounded in bytes. A fast-path worker takes its
 * file-read buffers from one, and its output buffers from another once its shared output slabs
 * are at their cap (slab-pool.ts; below the cap outputs are slab slots and never come here).
 * The pipeline hands such plain output buffers back once their record is written
 * (FastProcessor.release → WorkerPool.release → recycle, transferred), so even past the cap a
 * run allocates few buffers: no 0.8 MB `new ArrayBuffer` per slice (zero-fill, page faults).
 * Written by hand: a dozen lines around a Map; the pooling libraries on npm pool objects, not
 * transferable buffers of exact sizes.
 *
 * @example
 *   const pool = new BufferPool(48 << 20);
 *   const out = new Uint8Array(pool.take(512 * 512 * 3));  // reused when one of that size is free
 *   pool.give(out.buffer);                                  // kept while under the byte cap
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private held = 0;

  constructor(readonly capBytes: number) {
    if (!(capBytes >= 0)) throw new Error(`BufferPool: capBytes must be ≥ 0, got ${capBytes}`);
  }

  /** A buffer of exactly `n` bytes: a free one, or a new (zeroed) one. Its contents are undefined. */
  take(n: number): ArrayBuffer {
    const b = this.free.get(n)?.pop();
    if (b) {
      this.held -= n;
      return b;
    }
    return new ArrayBuffer(n);
  }

  /** Returns `b` for reuse; dropped (left to the GC) when the pool is full or `b` is detached. */
  give(b: ArrayBuffer): void {
    const n = b.byteLength;
    if (n === 0 || this.held + n > this.capBytes) return;
    const list = this.free.get(n);
    if (list) list.push(b);
    else this.free.set(n, [b]);
    this.held += n;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.held;
  }
}
