/**
 * Training-side dataset over a ctwindow folder: the partition rule (partition.ts) applied to
 * one slot (rank × worker), seeded per-epoch shuffle, exact resume via a state dict. Same
 * order as the Python `ShardDataset` for the same seed/epoch/rank/worker.
 *
 * @example
 *   const ds = await ShardDataset.open(out, { rank, worldSize, seed: 1, epoch: 0, granularity: 'records' });
 *   for await (const { image, label, meta } of ds.samples()) train(image, label);
 *   const state = ds.stateDict();            // {epoch, seed, samples_seen, world_size}
 */
import type { Split } from '../types.js';
import { decodeImages } from './format.js';
import { planEpoch, slotPlan, type EpochOrder, type Granularity, type SlotPlan } from './partition.js';
import { loadDataset, ShardFiles, type DecodedRecord, type LoadedSplit } from './reader.js';
import type { IndexEntry } from './shard-index.js';

export interface ShardDatasetOptions {
  split?: Split;
  rank?: number;
  worldSize?: number;
  workerId?: number;
  numWorkers?: number;
  seed?: number;
  epoch?: number;
  granularity?: Granularity;
  shuffle?: boolean;
  dropLast?: boolean;
  blockRecords?: number;
  window?: number;
}

export interface DatasetState {
  epoch: number;
  seed: number;
  samples_seen: number;
  world_size: number;
}

export interface SliceMeta {
  study: string;
  series: string;
  sop: string;
  record: number;
  slice: number;
  /** True for a unit repeated to even out the slots. */
  padded: boolean;
}
export interface Sample {
  /** [H,W,C] values: Uint8Array (uint8) or Float32Array (float16/float32). */
  image: Uint8Array | Float32Array;
  label: number;
  meta: SliceMeta;
}
export interface BatchMeta {
  study: string[];
  series: string[];
  sop: string[];
  record: number;
  padded: boolean;
}
export interface Batch {
  /** [B,H,W,C] values. */
  images: Uint8Array | Float32Array;
  shape: [number, number, number, number];
  labels: number[];
  meta: BatchMeta;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`ShardDataset: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

export class ShardDataset {
  readonly rank: number;
  readonly worldSize: number;
  readonly workerId: number;
  readonly numWorkers: number;
  readonly granularity: Granularity;
  seed: number;
  epoch: number;
  private start = 0;
  private consumed = 0;
  private readonly flat: { file: string; entry: IndexEntry; position: number }[] = [];

  private constructor(
    readonly dir: string,
    readonly loaded: LoadedSplit,
    private readonly o: ShardDatasetOptions,
  ) {
    this.rank = int('rank', o.rank ?? 0, 0);
    this.worldSize = int('worldSize', o.worldSize ?? 1, 1);
    this.workerId = int('workerId', o.workerId ?? 0, 0);
    this.numWorkers = int('numWorkers', o.numWorkers ?? 1, 1);
    if (this.rank >= this.worldSize) throw new Error(`ShardDataset: rank ${this.rank} must be < worldSize ${this.worldSize}`);
    if (this.workerId >= this.numWorkers) throw new Error(`ShardDataset: workerId ${this.workerId} must be < numWorkers ${this.numWorkers}`);
    this.seed = int('seed', o.seed ?? 0, Number.MIN_SAFE_INTEGER);
    this.epoch = int('epoch', o.epoch ?? 0, 0);
    this.granularity = o.granularity ?? 'records';
    for (const idx of loaded.indexes) for (const [position, entry] of idx.entries.entries()) this.flat.push({ file: idx.file, entry, position });
  }

  static async open(dir: string, o: ShardDatasetOptions = {}): Promise<ShardDataset> {
    return new ShardDataset(dir, await loadDataset(dir, o.split ?? 'train'), o);
  }

  get slots(): number {
    return this.worldSize * this.numWorkers;
  }
  get dropLast(): boolean {
    return this.o.dropLast ?? false;
  }
  get slot(): number {
    return this.rank * this.numWorkers + this.workerId;
  }

  /** The epoch order (all slots). */
  order(): EpochOrder {
    return planEpoch(
      this.loaded.indexes.map((i) => i.entries.map((e) => e.slices)),
      { seed: this.seed, epoch: this.epoch, shuffle: this.o.shuffle ?? true, granularity: this.granularity, blockRecords: this.o.blockRecords, window: this.o.window },
    );
  }

  /** This slot's share of the rest of the epoch: units per slot, padded, dropped. */
  plan(order = this.order()): SlotPlan {
    return slotPlan(order.units, { start: this.start, slots: this.slots, slot: this.slot, dropLast: this.o.dropLast ?? false });
  }

  /** Epoch positions this slot yields, in order (for tests and diagnostics). */
  positions(): number[] {
    const p = this.plan();
    return Array.from({ length: p.perSlot }, (_, i) => p.position(i));
  }

  stateDict(): DatasetState {
    return { epoch: this.epoch, seed: this.seed, samples_seen: this.start + this.consumed * this.slots, world_size: this.worldSize };
  }

  /** Resumes at a state saved by any world size: the rest of that epoch is re-split over this dataset's slots. */
  loadStateDict(s: DatasetState): void {
    for (const k of ['epoch', 'seed', 'samples_seen', 'world_size'] as const) {
      if (!Number.isInteger(s?.[k])) throw new Error(`ShardDataset.loadStateDict: ${k} must be an integer, got ${JSON.stringify(s?.[k])}`);
    }
    this.epoch = s.epoch;
    this.seed = s.seed;
    this.start = s.samples_seen;
    this.consumed = 0;
  }

  /** Moves to the start of another epoch. */
  setEpoch(epoch: number): void {
    this.epoch = int('epoch', epoch, 0);
    this.start = 0;
    this.consumed = 0;
  }

  /** Units of this slot: whole batches (granularity 'batches') or slices ('records'). */
  async *units(): AsyncGenerator<{ rec: DecodedRecord; slice: number; padded: boolean }> {
    const order = this.order();
    const plan = this.plan(order);
    const files = new ShardFiles(this.dir);
    const window = this.o.window ?? 256;
    // Records decoded for the current shuffle window (records granularity reads each record once per window).
    let cacheWindow = -1;
    let cache = new Map<number, DecodedRecord>();
    const remaining = Math.max(0, order.units - this.start);
    try {
      for (let i = this.consumed; i < plan.perSlot; i++) {
        const pos = plan.position(i);
        const w = Math.floor(pos / window);
        if (w !== cacheWindow) {
          cacheWindow = w;
          cache = new Map();
        }
        const u = order.unitAt(pos);
        let rec = cache.get(u.record);
        if (!rec) {
          const f = this.flat[u.record];
          rec = await files.read(f.file, f.entry, f.position);
          if (this.granularity === 'records') cache.set(u.record, rec);
        }
        this.consumed = i + 1;
        yield { rec, slice: u.slice, padded: this.slot + i * this.slots >= remaining };
      }
    } finally {
      await files.close();
    }
  }

  /** Per-slice samples (granularity 'records'). */
  async *samples(): AsyncGenerator<Sample> {
    if (this.granularity !== 'records') throw new Error(`ShardDataset.samples: granularity is '${this.granularity}', use batches()`);
    for await (const { rec, slice, padded } of this.units()) {
      const [, H, W, C] = rec.shape;
      const n = H * W * C;
      yield {
        image: rec.pixels.subarray(slice * n, (slice + 1) * n),
        label: rec.labels[slice],
        meta: { study: rec.study[slice], series: rec.series[slice], sop: rec.sop[slice], record: rec.index, slice, padded },
      };
    }
  }

  /** Whole written batches (granularity 'batches'). */
  async *batches(): AsyncGenerator<Batch> {
    if (this.granularity !== 'batches') throw new Error(`ShardDataset.batches: granularity is '${this.granularity}', use samples()`);
    for await (const { rec, padded } of this.units()) {
      yield { images: rec.pixels, shape: rec.shape, labels: rec.labels, meta: { study: rec.study, series: rec.series, sop: rec.sop, record: rec.index, padded } };
    }
  }
}


