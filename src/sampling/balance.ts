/**
 * Balanced batch sampling on slice references (labels come from the CSV, so the decision is
 * made before any pixel is decoded: undersampling never decodes what it drops).
 *
 *   none        every slice once, in CSV order, batches of `batchSize`
 *   undersample every batch holds p = round(size × positiveFraction) positives and size − p
 *               negatives; of each class exactly as many rows are kept as the batches take,
 *               chosen by selection sampling (Knuth's Algorithm S): the k-th row of a class is
 *               kept with probability (still to keep) / (still to come), so every row of a class
 *               is kept with the same probability wherever it sits in the CSV, and the number
 *               kept is exact. This needs each class's row count up front: the pipeline counts
 *               the CSV's labels first (a pass over the CSV only, no DICOM).
 *   oversample  every row of the majority once; the minority's rows are repeated to fill their
 *               places: each row floor(T / M) times, and T mod M rows (chosen by Algorithm S)
 *               once more — every minority row is repeated equally often, up to one.
 *
 * Kept rows enter a per-class shuffle window of `window` slices; a batch takes its positives
 * and negatives at random (seeded) from the two windows, so it mixes the many exams the windows
 * span. A window waits until it is full, or until every kept row of its class has arrived.
 * Memory: at most `cap` refs per class (16 × window, at least 65,536: a few MiB); should a CSV
 * hold one class back so long that the other's pool reaches the cap, a batch is formed from
 * what there is (its balance may be off: counted in `unbalancedBatches`).
 *
 * Push-based and synchronous, so the caller keeps backpressure. The sequence of batches is a
 * pure function of (CSV, counts, options, seed): a resumed run replays it.
 *
 * @example
 *   const b = new Balancer({ mode: 'undersample', positiveFraction: 0.5, batchSize: 4, window: 64, seed: 1, stream: 'train',
 *                            counts: { positives: 120, negatives: 3000 } });
 *   for (const ref of refs) for (const batch of b.push(ref)) write(batch);
 *   for (const batch of b.end()) write(batch);
 */
import type { SliceRef } from '../types.js';
import { Rng } from './rng.js';

export type BalanceMode = 'none' | 'undersample' | 'oversample';

export interface ClassCounts {
  positives: number;
  negatives: number;
}

export interface BalanceOptions {
  mode: BalanceMode;
  positiveFraction: number;
  batchSize: number;
  /** Shuffle window per class, in slices (≥ batch size). */
  window: number;
  /** Most refs held per class (default: 16 × window, at least 65,536 — a few MiB of refs). */
  cap?: number;
  seed: number;
  /** Separates the random streams of different splits. */
  stream: string;
  /** Rows of each class this split will see (the counting pass); needed unless mode is 'none'. */
  counts?: ClassCounts;
}

export interface RefBatch {
  refs: SliceRef[];
  /** How many entries of `refs` are repeats (oversampling). */
  repeats: number;
}

export interface BalanceStats {
  /** How rows were chosen (for the manifest). */
  method: string;
  /** Rows of each class counted before sampling. */
  counted: ClassCounts;
  seen: ClassCounts;
  /** Rows kept (undersample: chosen by Algorithm S). */
  kept: ClassCounts;
  /** Dropped by undersampling (not chosen), never decoded. */
  dropped: ClassCounts;
  /** Extra copies added by oversampling. */
  repeated: ClassCounts;
  /** Batches that could not hold the fraction (a class missing, or a CSV that holds one class back past the cap). */
  unbalancedBatches: number;
}

const counts = (): ClassCounts => ({ positives: 0, negatives: 0 });
const key = (label: 0 | 1): keyof ClassCounts => (label === 1 ? 'positives' : 'negatives');

/** A kept ref, and whether it is a repeat (oversampling's extra copies). */
interface Held { ref: SliceRef; repeat: boolean }

export class Balancer {
  /** Per class: kept refs waiting to be drawn into a batch. */
  private readonly held: [Held[], Held[]] = [[], []];
  /** Per class: kept refs not yet in a batch, arrived or not (exact once counts are known). */
  private readonly pending = [0, 0];
  /** Per class: rows still to arrive, and rows still to choose among them (Algorithm S). */
  private readonly toCome = [0, 0];
  private readonly toKeep = [0, 0];
  /** Oversampling: copies of every row per class (the minority's rows chosen by Algorithm S get one more). */
  private readonly copies = [1, 1];
  private minority: 0 | 1 | -1 = -1;
  private readonly need: [number, number];
  private readonly cap: number;
  private readonly rng: Rng;
  private pendingNone: SliceRef[] = [];
  /** Slices put into batches so far (replacements included). */
  private emitted = 0;
  readonly stats: BalanceStats;

  constructor(private readonly opts: BalanceOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${opts.batchSize}`);
    if (!(opts.positiveFraction > 0 && opts.positiveFraction < 1)) throw new Error(`positiveFraction: expected a number in (0, 1), got ${opts.positiveFraction}`);
    if (!Number.isInteger(opts.window) || opts.window < opts.batchSize) throw new Error(`window: expected an integer ≥ batch size (${opts.batchSize}), got ${opts.window}`);
    let p = Math.round(opts.batchSize * opts.positiveFraction);
    if (opts.batchSize >= 2) p = Math.min(Math.max(p, 1), opts.batchSize - 1);
    this.need = [opts.batchSize - p, p];
    this.cap = Math.max(opts.cap ?? Math.max(16 * opts.window, 65536), opts.window);
    this.rng = new Rng(opts.seed, `balance:${opts.stream}`);
    const c = opts.counts ?? counts();
    if (opts.mode !== 'none' && !opts.counts) throw new Error(`balance ${opts.mode}: the class counts of the split are needed (the counting pass)`);
    this.stats = {
      method: opts.mode === 'none' ? 'none: every row once, in CSV order' : `${opts.mode}: selection sampling (Knuth's Algorithm S) on counted rows, batches drawn from a seeded shuffle window of ${opts.window} slices per class`,
      counted: { ...c },
      seen: counts(),
      kept: counts(),
      dropped: counts(),
      repeated: counts(),
      unbalancedBatches: 0,
    };
    if (opts.mode === 'none') return;
    const have = [c.negatives, c.positives];
    this.toCome[0] = have[0];
    this.toCome[1] = have[1];
    if (opts.mode === 'undersample') {
      const keep = this.undersampleTargets(have);
      this.toKeep[0] = keep[0];
      this.toKeep[1] = keep[1];
      this.pending[0] = keep[0];
      this.pending[1] = keep[1];
    } else {
      // The majority: the class that needs more batches to place all its rows.
      const batches = have.map((n, k) => n / this.need[k]);
      const major = batches[1] > batches[0] ? 1 : 0;
      const minor = major === 1 ? 0 : 1;
      this.minority = minor;
      const slots = Math.round(have[major] * (this.need[minor] / this.need[major]));
      this.pending[major] = have[major];
      this.toKeep[major] = have[major];
      if (have[minor] > 0) {
        this.copies[minor] = Math.floor(slots / have[minor]);
        this.toKeep[minor] = slots % have[minor]; // rows that get one more copy
        this.pending[minor] = slots;
      }
    }
  }

  /** Positives and negatives per full batch. */
  get perBatch(): ClassCounts {
    return { positives: this.need[1], negatives: this.need[0] };
  }

  /** Slices this sampler will put into batches (before decode failures). */
  get expected(): number {
    if (this.opts.mode === 'none') return this.stats.counted.positives + this.stats.counted.negatives;
    return this.pending[0] + this.pending[1] + this.emitted;
  }

  /** Kept rows per class for undersampling: as many full batches as both classes allow, then one smaller batch holding the fraction. */
  private undersampleTargets(have: number[]): [number, number] {
    const full = Math.min(Math.floor(have[0] / this.need[0]), Math.floor(have[1] / this.need[1]));
    const keep: [number, number] = [full * this.need[0], full * this.need[1]];
    const rest = [have[0] - keep[0], have[1] - keep[1]];
    for (let s = Math.min(this.opts.batchSize - 1, rest[0] + rest[1]); s >= 2; s--) {
      const p = Math.round(s * this.opts.positiveFraction);
      if (p >= 1 && s - p >= 1 && p <= rest[1] && s - p <= rest[0]) {
        keep[0] += s - p;
        keep[1] += p;
        break;
      }
    }
    return keep;
  }

  push(ref: SliceRef): RefBatch[] {
    this.stats.seen[key(ref.label)]++;
    if (this.opts.mode === 'none') {
      this.pendingNone.push(ref);
      if (this.pendingNone.length < this.opts.batchSize) return [];
      const refs = this.pendingNone;
      this.pendingNone = [];
      this.emitted += refs.length;
      return [{ refs, repeats: 0 }];
    }
    const c = ref.label;
    // Algorithm S: keep with probability toKeep / toCome (all of the class when toKeep = toCome).
    const come = this.toCome[c];
    const chosen = come > 0 ? this.rng.int(come) < this.toKeep[c] : false;
    if (come > 0) this.toCome[c]--;
    if (this.opts.mode === 'undersample') {
      if (!chosen) {
        this.stats.dropped[key(c)]++;
        return this.ready();
      }
      this.toKeep[c]--;
      this.stats.kept[key(c)]++;
      this.held[c].push({ ref, repeat: false });
      return this.ready();
    }
    // oversample: the majority's rows once (toKeep = all); the minority's `copies` times, +1 if chosen.
    const extra = c === this.minority && chosen ? 1 : 0;
    if (chosen) this.toKeep[c]--;
    this.stats.kept[key(c)]++;
    for (let i = 0; i < this.copies[c] + extra; i++) {
      this.held[c].push({ ref, repeat: i > 0 });
      if (i > 0) this.stats.repeated[key(c)]++;
    }
    return this.ready();
  }

  /** Batches that can be drawn now. */
  private ready(): RefBatch[] {
    const out: RefBatch[] = [];
    for (;;) {
      const [h0, h1] = [this.held[0].length, this.held[1].length];
      const full = this.pending[0] >= this.need[0] && this.pending[1] >= this.need[1];
      // A window is ready when full, or when every kept row of its class has arrived.
      const ready = (c: 0 | 1) => this.held[c].length >= Math.min(this.opts.window, this.pending[c]);
      if (full && ready(0) && ready(1) && h0 >= this.need[0] && h1 >= this.need[1]) {
        out.push(this.draw(this.need[1], this.need[0]));
        continue;
      }
      // One class held back past the cap: form a batch from what there is.
      if (h0 >= this.cap || h1 >= this.cap) {
        const p = Math.min(h1, this.need[1]);
        const n = Math.min(h0, this.opts.batchSize - p);
        if (p !== this.need[1] || n !== this.need[0]) this.stats.unbalancedBatches++;
        out.push(this.draw(p, n));
        continue;
      }
      return out;
    }
  }

  /** Flush at the end of the stream: full batches, then what is left in batches of at most the batch size. */
  end(): RefBatch[] {
    if (this.opts.mode === 'none') {
      const out = this.pendingNone.length ? [{ refs: this.pendingNone, repeats: 0 }] : [];
      this.emitted += this.pendingNone.length;
      this.pendingNone = [];
      return out;
    }
    // Rows counted but never seen (none in a normal run) are no longer pending.
    for (const c of [0, 1] as const) this.pending[c] = this.held[c].length;
    const out = this.ready();
    while (this.held[0].length || this.held[1].length) {
      const p = Math.min(this.held[1].length, this.need[1]);
      const n = Math.min(this.held[0].length, this.opts.batchSize - p);
      if (Math.abs(p - Math.round((p + n) * this.opts.positiveFraction)) > 1) this.stats.unbalancedBatches++;
      out.push(this.draw(p, n));
    }
    return out;
  }

  /**
   * A replacement for a slice of class `label` that failed to decode, so the batch keeps its
   * fraction: a kept row of that class drawn from its window. Undefined when none is held
   * (mode none, or the class is exhausted).
   */
  replacement(label: 0 | 1): SliceRef | undefined {
    if (this.opts.mode === 'none' || !this.held[label].length) return undefined;
    this.pending[label]--;
    this.emitted++;
    return this.takeOne(label).ref;
  }

  /** A uniformly chosen held ref of class c (swap-remove). */
  private takeOne(c: 0 | 1): Held {
    const h = this.held[c];
    const i = this.rng.int(h.length);
    const x = h[i];
    h[i] = h[h.length - 1];
    h.pop();
    return x;
  }

  private draw(pos: number, neg: number): RefBatch {
    const refs: SliceRef[] = [];
    let repeats = 0;
    for (const [c, k] of [[1, pos], [0, neg]] as const) {
      for (let i = 0; i < k; i++) {
        const x = this.takeOne(c);
        refs.push(x.ref);
        if (x.repeat) repeats++;
      }
      this.pending[c] -= k;
    }
    this.emitted += pos + neg;
    return { refs: this.rng.shuffle(refs), repeats };
  }
}
