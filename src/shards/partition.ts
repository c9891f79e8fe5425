/**
 * The partition rule (docs/shard-format.md §7): one epoch order of units (records or slices)
 * as a pure function of (shard indexes, seed, epoch), split over world_size × num_workers
 * slots by position modulo the slot count. Implemented identically in
 * python/ctwindow_shards/_core.py; the integer hash and generator below are defined in the spec so
 * both languages draw the same numbers.
 *
 * Shuffle (when on): shard order permuted; within each shard, blocks of `blockRecords`
 * consecutive records permuted; then the unit stream is shuffled inside consecutive windows
 * of `window` units (a bounded shuffle buffer). Memory: O(records) integers from the indexes,
 * plus one window permutation; never images.
 *
 * @example
 *   const order = planEpoch(slicesPerShard, { seed: 1, epoch: 0, shuffle: true, granularity: 'records' });
 *   const positions = slotPositions(order.units, { start: 0, slots: 8, slot: 3, dropLast: false });
 */

/** murmur3 finaliser: a bijection on uint32. */
export function fmix32(h: number): number {
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed hash: h = 0x811c9dc5; for each x: h = fmix32((h * 0x01000193 mod 2^32) XOR (x mod 2^32)). */
export function hashSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    if (!Number.isInteger(x)) throw new Error(`hashSeed: integers only, got ${x}`);
    // x mod 2^32 for any safe integer (negative ones too), as Python's x & 0xFFFFFFFF.
    const u = Number(BigInt.asUintN(32, BigInt(x)));
    h = fmix32((Math.imul(h, 0x01000193) ^ u) >>> 0);
  }
  return h;
}

/** mulberry32 generator: uint32 outputs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a) >>> 0;
    t = ((t + (Math.imul(t ^ (t >>> 7), 61 | t) >>> 0)) >>> 0) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Fisher–Yates permutation of 0..n-1: for i = n-1 … 1, j = next() mod (i+1), swap. */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export type Granularity = 'batches' | 'records';

export interface EpochOptions {
  seed: number;
  epoch: number;
  shuffle: boolean;
  granularity: Granularity;
  /** Records per shuffle block within a shard (default 4). */
  blockRecords?: number;
  /** Shuffle window in units (default 256). */
  window?: number;
}

/** Unit at an epoch position: flat record number (manifest order) and slice (-1 for a whole batch). */
export interface Unit {
  record: number;
  slice: number;
}

export interface EpochOrder {
  /** Units in the epoch. */
  units: number;
  /** Unit at epoch position p (0 ≤ p < units). */
  unitAt(p: number): Unit;
}

/**
 * Plans one epoch. `slicesPerShard[s][r]` = slices of record r of shard s (manifest order; from
 * the indexes). Records are numbered flat in manifest order.
 */
export function planEpoch(slicesPerShard: number[][], o: EpochOptions): EpochOrder {
  const blockRecords = o.blockRecords ?? 4;
  const window = o.window ?? 256;
  if (!Number.isInteger(blockRecords) || blockRecords < 1) throw new Error(`planEpoch: blockRecords must be a positive integer, got ${blockRecords}`);
  if (!Number.isInteger(window) || window < 1) throw new Error(`planEpoch: window must be a positive integer, got ${window}`);
  if (o.granularity !== 'batches' && o.granularity !== 'records') throw new Error(`planEpoch: granularity must be 'batches' or 'records', got ${o.granularity}`);
  const firstFlat: number[] = [];
  let total = 0;
  for (const s of slicesPerShard) {
    firstFlat.push(total);
    total += s.length;
  }
  // Record order.
  const order = new Int32Array(total);
  let k = 0;
  const shardOrder = o.shuffle ? permutation(slicesPerShard.length, hashSeed(o.seed, o.epoch, 1)) : Int32Array.from(slicesPerShard.keys());
  for (const s of shardOrder) {
    const n = slicesPerShard[s].length;
    const nb = Math.ceil(n / blockRecords);
    const blocks = o.shuffle ? permutation(nb, hashSeed(o.seed, o.epoch, 2, s)) : Int32Array.from({ length: nb }, (_, i) => i);
    for (const b of blocks) {
      for (let r = b * blockRecords; r < Math.min(n, (b + 1) * blockRecords); r++) order[k++] = firstFlat[s] + r;
    }
  }
  const slicesOf = (flat: number): number => {
    // binary search shard of flat record
    let lo = 0;
    let hi = firstFlat.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (firstFlat[mid] <= flat) lo = mid;
      else hi = mid - 1;
    }
    return slicesPerShard[lo][flat - firstFlat[lo]];
  };
  // Units before the window shuffle.
  let units: number;
  let preUnit: (u: number) => Unit;
  if (o.granularity === 'batches') {
    units = total;
    preUnit = (u) => ({ record: order[u], slice: -1 });
  } else {
    const cum = new Float64Array(total + 1);
    for (let i = 0; i < total; i++) cum[i + 1] = cum[i] + slicesOf(order[i]);
    units = cum[total];
    preUnit = (u) => {
      let lo = 0;
      let hi = total - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (cum[mid] <= u) lo = mid;
        else hi = mid - 1;
      }
      return { record: order[lo], slice: u - cum[lo] };
    };
  }
  if (!o.shuffle) return { units, unitAt: preUnit };
  let cachedW = -1;
  let cachedPerm: Int32Array = new Int32Array(0);
  return {
    units,
    unitAt(p: number): Unit {
      const w = Math.floor(p / window);
      if (w !== cachedW) {
        cachedW = w;
        cachedPerm = permutation(Math.min(window, units - w * window), hashSeed(o.seed, o.epoch, 3, w));
      }
      return preUnit(w * window + cachedPerm[p - w * window]);
    },
  };
}

export interface SlotOptions {
  /** Epoch positions already consumed (state_dict samples_seen). */
  start: number;
  /** world_size × num_workers. */
  slots: number;
  /** rank × num_workers + worker_id. */
  slot: number;
  dropLast: boolean;
}

export interface SlotPlan {
  /** Units each slot yields. */
  perSlot: number;
  /** Units repeated (from the epoch start) to even out the slots (dropLast false). */
  padded: number;
  /** Units left out at the epoch end (dropLast true). */
  dropped: number;
  /** Epoch position of this slot's i-th unit (0 ≤ i < perSlot). */
  position(i: number): number;
}

/** Splits the remaining epoch positions [start, units) over the slots. */
export function slotPlan(units: number, o: SlotOptions): SlotPlan {
  if (!Number.isInteger(o.slots) || o.slots < 1) throw new Error(`slotPlan: slots (world_size × num_workers) must be ≥ 1, got ${o.slots}`);
  if (!Number.isInteger(o.slot) || o.slot < 0 || o.slot >= o.slots) throw new Error(`slotPlan: slot must be in [0, ${o.slots}), got ${o.slot}`);
  if (!Number.isInteger(o.start) || o.start < 0) throw new Error(`slotPlan: start (samples_seen) must be a non-negative integer, got ${o.start}`);
  const remaining = Math.max(0, units - o.start);
  const perSlot = units === 0 ? 0 : o.dropLast ? Math.floor(remaining / o.slots) : Math.ceil(remaining / o.slots);
  return {
    perSlot,
    padded: o.dropLast ? 0 : perSlot * o.slots - remaining,
    dropped: o.dropLast ? remaining - perSlot * o.slots : 0,
    position: (i) => (o.start + o.slot + i * o.slots) % units,
  };
}
