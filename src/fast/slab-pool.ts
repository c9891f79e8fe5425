/**
 * Output slots for one worker thread, carved out of shared-memory slabs. A worker's slice
 * outputs are written into slots of a few large SharedArrayBuffers (slabs) that the main thread
 * learns once, when a slab is first used; after that a slice crosses threads as a location
 * (slab id, byte offset, length), not as a transferred ArrayBuffer. Transferring a 0.8 MB
 * buffer per slice made V8 create an ArrayBuffer object and account its backing store as new
 * external memory in each receiving isolate, which kept starting major GCs on the main thread.
 *
 *   - A slab is a `WebAssembly.Memory({ shared: true })`'s buffer: page-aligned (64 KiB).
 *   - Slots are rounded up to 4096 bytes and start at 4096-aligned offsets: the main thread
 *     registers each slab as page-aligned and the shard writer hands the slots to O_DIRECT as
 *     they are (shards/shard-file.ts). Each slab holds slots of one size, at least SLAB_MIN_BYTES of
 *     them (one slot when a slot is larger); free slots are kept per slot size.
 *   - Slabs are bounded per worker (`capBytes`): past it `take` answers undefined and the worker
 *     falls back to plain ArrayBuffers (transferred, as before, and collected when dropped).
 *     Until a slot has come back once, the bound is `firstCapBytes` (smaller): a caller that
 *     never releases (slice context, other commands) pins at most that per worker, while the
 *     pipeline's first release, after its first record, lifts the bound to `capBytes`. Slabs
 *     live as long as the pool.
 *   - `give` of a slot that is already free, or of a location that is not a slot start of a
 *     known slab, is ignored and counted in `rejected` (it cannot hand one slot out twice).
 *
 * @example
 *   const slabs = new SlabPool(96 << 20);          // cap; slabs of ≥ 8 MiB; 32 MiB until a slot comes back
 *   const out = slabs.take(512 * 512 * 3);        // Uint8Array over a slab, or undefined past the cap
 *   const at = slabs.locate(out!);                 // [slab id, byte offset, length]
 *   for (const s of slabs.drainNew()) send(s);     // { id, sab }: each new slab, once
 *   slabs.give(...at!);                            // the slot is free again
 */

/** Slot sizes and offsets are multiples of this (O_DIRECT's block alignment). */
export const SLOT_ALIGN = 4096;
/** WebAssembly memory pages are 64 KiB; a slab is a whole number of them. */
const PAGE = 65536;
/** A slab holds at least this many bytes of slots (or one slot when a slot is larger). */
export const SLAB_MIN_BYTES = 8 << 20;
/**
 * Upper bound on one worker's slabs. A steady pipeline run keeps up to ~5 batches of outputs
 * alive in all (two being windowed, one being framed, up to two being written: 160 slices of
 * 0.79 MB for 512²×3 uint8 at batch 32, ~63 MiB per worker of two; 4× that for float32), so
 * releasing callers use a few slabs per worker; the cap only matters for callers that never
 * release (slice context, other commands), which otherwise would grow slabs forever. The pool
 * gives each worker POOL_SLAB_BYTES / workers, clamped to [WORKER_SLAB_MIN_CAP, WORKER_SLAB_CAP].
 */
export const WORKER_SLAB_CAP = 192 << 20;
export const WORKER_SLAB_MIN_CAP = 32 << 20;
export const POOL_SLAB_BYTES = 384 << 20;
/**
 * The bound before any slot has come back: what a caller that never releases pins per worker.
 * The pipeline releases once its first record is on disk, by which time a worker of two has
 * windowed ~48–64 slices (5 slabs of 11 × 512²×3 uint8 slots = 41.25 MiB fit); what does not
 * fit spills to plain buffers for that first record or two, and larger outputs a little longer.
 */
export const FIRST_SLAB_CAP = 48 << 20;

/** The per-worker slab cap of a pool of `workers` threads (see WORKER_SLAB_CAP). */
export function workerSlabCap(workers: number): number {
  return Math.min(WORKER_SLAB_CAP, Math.max(WORKER_SLAB_MIN_CAP, Math.floor(POOL_SLAB_BYTES / Math.max(1, workers))));
}

/** Where a slot's bytes are: [slab id, byte offset, length]. */
export type SlabLoc = [slab: number, offset: number, length: number];
/** A slab as announced to the main thread. */
export interface SlabGrant { id: number; sab: SharedArrayBuffer }

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no WebAssembly types). */
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }).WebAssembly;

interface Slot { slab: Slab; offset: number; free: boolean }
interface Slab { id: number; sab: SharedArrayBuffer; slotBytes: number; slots: Slot[] }

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

export class SlabPool {
  private readonly slabs: Slab[] = [];
  private readonly bySab = new Map<SharedArrayBuffer, Slab>();
  /** Free slots per slot size; popped from the end (the most recently freed, still in cache). */
  private readonly free = new Map<number, Slot[]>();
  private fresh: SlabGrant[] = [];
  private held = 0;
  /** Whether a slot has come back (then `capBytes` applies, before it `firstCapBytes`). */
  private recycled = false;
  /** `give` calls ignored: a slot already free, or not a slot of a known slab. */
  rejected = 0;

  constructor(
    readonly capBytes: number = WORKER_SLAB_CAP,
    readonly slabMinBytes: number = SLAB_MIN_BYTES,
    readonly firstCapBytes: number = FIRST_SLAB_CAP,
  ) {
    if (!(capBytes >= 0)) throw new Error(`SlabPool: capBytes must be ≥ 0, got ${capBytes}`);
    if (!(slabMinBytes > 0)) throw new Error(`SlabPool: slabMinBytes must be > 0, got ${slabMinBytes}`);
    if (!(firstCapBytes >= 0)) throw new Error(`SlabPool: firstCapBytes must be ≥ 0, got ${firstCapBytes}`);
  }

  /**
   * A view of exactly `n` bytes over a free slot (contents undefined), or undefined when no slot
   * of that size is free and another slab would pass the cap.
   */
  take(n: number): Uint8Array | undefined {
    if (!(n > 0)) return undefined;
    const size = roundUp(n, SLOT_ALIGN);
    let list = this.free.get(size);
    if (!list?.length) {
      if (!this.grow(size)) return undefined;
      list = this.free.get(size)!;
    }
    const slot = list.pop()!;
    slot.free = false;
    return new Uint8Array(slot.slab.sab, slot.offset, n);
  }

  /** The slot location of a view `take` returned, or undefined for any other view. */
  locate(v: Uint8Array): SlabLoc | undefined {
    const slab = this.bySab.get(v.buffer as SharedArrayBuffer);
    return slab ? [slab.id, v.byteOffset, v.byteLength] : undefined;
  }

  /** Frees the slot at `offset` of slab `id` (`length`: the view's length). False when ignored. */
  give(id: number, offset: number, length: number): boolean {
    const slab = this.slabs[id];
    const k = slab && Number.isInteger(offset) ? offset / slab.slotBytes : -1;
    const slot = Number.isInteger(k) && k >= 0 ? slab.slots[k] : undefined;
    if (!slot || slot.free || !(length > 0 && length <= slab.slotBytes)) {
      this.rejected++;
      return false;
    }
    slot.free = true;
    this.recycled = true;
    this.free.get(slab.slotBytes)!.push(slot);
    return true;
  }

  /** Frees the slot of a view `take` returned that never left this thread (a failed chunk's). */
  untake(v: Uint8Array): void {
    const at = this.locate(v);
    const slot = at && this.slabs[at[0]].slots[at[1] / this.slabs[at[0]].slotBytes];
    if (!slot || slot.free) return;
    slot.free = true;
    this.free.get(this.slabs[at[0]].slotBytes)!.push(slot);
  }

  /** Slabs made since the last call (each is returned once). */
  drainNew(): SlabGrant[] {
    const out = this.fresh;
    if (out.length) this.fresh = [];
    return out;
  }

  /** Number of slabs and their bytes. */
  get count(): number {
    return this.slabs.length;
  }

  get bytes(): number {
    return this.held;
  }

  private grow(slotBytes: number): boolean {
    // Whole slots up to slabMinBytes, then whole pages (512²×3 uint8: 11 slots in 132 pages).
    const bytes = roundUp(Math.ceil(this.slabMinBytes / slotBytes) * slotBytes, PAGE);
    if (this.held + bytes > (this.recycled ? this.capBytes : Math.min(this.capBytes, this.firstCapBytes))) return false;
    const pages = bytes / PAGE;
    const sab = new Wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
    const slab: Slab = { id: this.slabs.length, sab, slotBytes, slots: [] };
    const n = Math.floor(bytes / slotBytes);
    for (let k = 0; k < n; k++) slab.slots.push({ slab, offset: k * slotBytes, free: true });
    this.slabs.push(slab);
    this.bySab.set(sab, slab);
    this.held += bytes;
    this.fresh.push({ id: slab.id, sab });
    // Lowest offsets are taken first.
    const list = this.free.get(slotBytes) ?? this.free.set(slotBytes, []).get(slotBytes)!;
    for (let k = n - 1; k >= 0; k--) list.push(slab.slots[k]);
    return true;
  }
}
