/**
 * Balanced batch sampling on slice references (labels come from the CSV, so the decision is
 * made before any pixel is decoded: undersampling never decodes what it drops).
 *
 *   none        every slice once, in CSV order, batches of `batchSize`
 *   undersample each batch holds round(size × positiveFraction) positives; the majority's
 *               excess is dropped (uniformly, seeded) once its look-ahead buffer is full
 *   oversample  every slice at least once; the minority is repeated (drawn, seeded, from a
 *               reservoir of the minority slices seen so far) to fill each batch
 *
 * Memory is bounded by `buffer` refs per class plus a reservoir of `buffer` refs per class,
 * whatever the dataset size. Push-based and synchronous, so the caller keeps backpressure.
 *
 * @example
 *   const b = new Balancer({ mode: 'undersample', positiveFraction: 0.5, batchSize: 4, buffer: 64, seed: 1, stream: 'train' });
 *   for (const ref of refs) for (const batch of b.push(ref)) write(batch);
 *   for (const batch of b.end()) write(batch);
 */
import type { SliceRef } from '../types.js';
import { Rng } from './rng.js';

export type BalanceMode = 'none' | 'undersample' | 'oversample';

export interface BalanceOptions {
  mode: BalanceMode;
  positiveFraction: number;
  batchSize: number;
  buffer: number;
  seed: number;
  /** Separates the random streams of different splits. */
  stream: string;
}

export interface RefBatch {
  refs: SliceRef[];
  /** How many entries of `refs` are repeats (oversampling). */
  repeats: number;
}

export interface ClassCounts {
  positives: number;
  negatives: number;
}

export interface BalanceStats {
  seen: ClassCounts;
  /** Dropped by undersampling (majority excess), never decoded. */
  dropped: ClassCounts;
  /** Extra copies added by oversampling (and by replacements drawn as repeats). */
  repeated: ClassCounts;
  /** Batches emitted that could not hold the fraction (e.g. a class never seen). */
  unbalancedBatches: number;
}

const counts = (): ClassCounts => ({ positives: 0, negatives: 0 });
const key = (label: 0 | 1): keyof ClassCounts => (label === 1 ? 'positives' : 'negatives');

export class Balancer {
  private readonly queue: [SliceRef[], SliceRef[]] = [[], []];
  private readonly reservoir: [SliceRef[], SliceRef[]] = [[], []];
  private readonly reservoirSeen = [0, 0];
  private readonly need: [number, number];
  private readonly rng: Rng;
  private pendingNone: SliceRef[] = [];
  readonly stats: BalanceStats = { seen: counts(), dropped: counts(), repeated: counts(), unbalancedBatches: 0 };

  constructor(private readonly opts: BalanceOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${opts.batchSize}`);
    if (!(opts.positiveFraction > 0 && opts.positiveFraction < 1)) throw new Error(`positiveFraction: expected a number in (0, 1), got ${opts.positiveFraction}`);
    if (!Number.isInteger(opts.buffer) || opts.buffer < opts.batchSize) throw new Error(`buffer: expected an integer ≥ batch size (${opts.batchSize}), got ${opts.buffer}`);
    let p = Math.round(opts.batchSize * opts.positiveFraction);
    if (opts.batchSize >= 2) p = Math.min(Math.max(p, 1), opts.batchSize - 1);
    this.need = [opts.batchSize - p, p];
    this.rng = new Rng(opts.seed, `balance:${opts.stream}`);
  }

  /** Positives and negatives per full batch. */
  get perBatch(): ClassCounts {
    return { positives: this.need[1], negatives: this.need[0] };
  }

  push(ref: SliceRef): RefBatch[] {
    this.stats.seen[key(ref.label)]++;
    if (this.opts.mode === 'none') {
      this.pendingNone.push(ref);
      if (this.pendingNone.length < this.opts.batchSize) return [];
      const refs = this.pendingNone;
      this.pendingNone = [];
      return [{ refs, repeats: 0 }];
    }
    const c = ref.label;
    this.queue[c].push(ref);
    this.remember(ref);
    const out: RefBatch[] = [];
    while (this.queue[0].length >= this.need[0] && this.queue[1].length >= this.need[1]) out.push(this.take(this.need[1], this.need[0]));
    if (this.queue[c].length > this.opts.buffer) {
      if (this.opts.mode === 'undersample') {
        // Majority excess: drop one uniformly from the look-ahead buffer.
        const i = this.rng.int(this.queue[c].length);
        this.queue[c].splice(i, 1);
        this.stats.dropped[key(c)]++;
      } else {
        // Oversample: the other class is short; fill it with repeats now.
        out.push(this.takeWithRepeats());
      }
    }
    return out;
  }

  /** Flush at the end of the stream. */
  end(): RefBatch[] {
    const out: RefBatch[] = [];
    if (this.opts.mode === 'none') {
      if (this.pendingNone.length) out.push({ refs: this.pendingNone, repeats: 0 });
      this.pendingNone = [];
      return out;
    }
    if (this.opts.mode === 'oversample') {
      while (this.queue[0].length || this.queue[1].length) out.push(this.takeWithRepeats());
      return out;
    }
    // undersample: one last smaller batch that still holds the fraction, the rest is excess.
    const [n0, n1] = [this.queue[0].length, this.queue[1].length];
    for (let s = Math.min(this.opts.batchSize, n0 + n1); s >= 2; s--) {
      const p = Math.round(s * this.opts.positiveFraction);
      if (p >= 1 && s - p >= 1 && p <= n1 && s - p <= n0) {
        out.push(this.take(p, s - p));
        break;
      }
    }
    this.stats.dropped.negatives += this.queue[0].length;
    this.stats.dropped.positives += this.queue[1].length;
    this.queue[0] = [];
    this.queue[1] = [];
    return out;
  }

  /**
   * A replacement for a slice of class `label` that failed to decode, so the batch keeps its
   * fraction: the next queued slice of that class, or (oversample) a repeat. Undefined when
   * none is available (mode none, or the class is exhausted).
   */
  replacement(label: 0 | 1): SliceRef | undefined {
    if (this.opts.mode === 'none') return undefined;
    const q = this.queue[label];
    if (q.length) return q.shift();
    if (this.opts.mode === 'oversample') return this.repeat(label);
    return undefined;
  }

  private take(pos: number, neg: number): RefBatch {
    const refs = [...this.queue[1].splice(0, pos), ...this.queue[0].splice(0, neg)];
    return { refs: this.rng.shuffle(refs), repeats: 0 };
  }

  private takeWithRepeats(): RefBatch {
    const refs: SliceRef[] = [];
    let repeats = 0;
    let unbalanced = false;
    for (const c of [1, 0] as const) {
      const got = this.queue[c].splice(0, this.need[c]);
      refs.push(...got);
      for (let i = got.length; i < this.need[c]; i++) {
        const r = this.repeat(c);
        if (!r) { unbalanced = true; break; }
        refs.push(r);
        repeats++;
      }
    }
    if (unbalanced) this.stats.unbalancedBatches++;
    return { refs: this.rng.shuffle(refs), repeats };
  }

  private repeat(c: 0 | 1): SliceRef | undefined {
    const r = this.reservoir[c];
    if (!r.length) return undefined;
    this.stats.repeated[key(c)]++;
    return r[this.rng.int(r.length)];
  }

  /** Reservoir sampling (Algorithm R) of the slices seen per class: the pool repeats come from. */
  private remember(ref: SliceRef): void {
    if (this.opts.mode !== 'oversample') return;
    const c = ref.label;
    const seen = ++this.reservoirSeen[c];
    const r = this.reservoir[c];
    if (r.length < this.opts.buffer) r.push(ref);
    else {
      const j = this.rng.int(seen);
      if (j < r.length) r[j] = ref;
    }
  }
}
