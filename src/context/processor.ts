/**
 * A `BatchProcessor` for slice context: every centre slice's output is its neighbours'
 * single-window outputs side by side, `[h, w, offsets × windowChannels]`, offset-major.
 *
 * Each slice is decoded and windowed once, by an inner `BatchProcessor` (the plain path's:
 * `InProcessProcessor`, or the fast worker pool — any implementation gives the same bytes) with
 * the single-slice window plan; its windowed, resized, encoded bytes go into a bounded cache
 * keyed by path, so neighbours shared between centres and between batches are not decoded
 * twice. Decoded HU exists only inside the inner processor, `chunk` slices at a time; the
 * cache holds `capacity` windowed slices. Refs arrive in anatomical order (the context source
 * emits them so), so the cache works as a sliding window along the series.
 *
 * A centre that cannot be read/decoded is quarantined as on the plain path. A neighbour that
 * cannot be: the edge rule (`zero`: zeros; `replicate`: the nearest offset towards the
 * centre that did decode, the centre at worst), counted in `ContextStats.neighboursMissing`.
 *
 * @example
 *   const opts = { plan, size: [256, 256], dtype: 'uint8', padding: 'air' };
 *   const p = new ContextProcessor(opts, new InProcessProcessor(opts), { offsets: [-1, 0, 1], edge: 'replicate' }, stats);
 *   const results = await p.process(refsWithContext);   // bytes [256, 256, 3 × plan.channels.length]
 */
import type { SliceRef } from '../types.js';
import {
  BYTES_PER,
  fail,
  type BatchProcessor,
  type ProcessorOptions,
  type SliceResult,
  type SliceOk,
} from '../batching/index.js';
import type { ContextConfig } from './config.js';
import { ContextStats } from './source.js';

/** A processed centre: SliceOk plus the SOP UIDs used per offset (null: zero-filled). */
export interface ContextSliceOk extends SliceOk {
  neighbours: (string | null)[];
}

export interface ContextProcessorOptions extends Pick<ContextConfig, 'offsets' | 'edge'> {
  /** Windowed slices kept between batches (default: offsets' span + 2 × chunk). */
  capacity?: number;
  /** Slices decoded and windowed together (default 32). */
  chunk?: number;
}

type Windowed = { bytes: Uint8Array } | { error: SliceResult & { ok: false } };

/** Insertion-ordered LRU of windowed slices. */
class WindowedCache {
  private readonly map = new Map<string, Windowed>();
  constructor(readonly capacity: number) {}
  get(path: string): Windowed | undefined {
    const v = this.map.get(path);
    if (v) {
      this.map.delete(path);
      this.map.set(path, v);
    }
    return v;
  }
  set(path: string, v: Windowed): void {
    this.map.delete(path);
    this.map.set(path, v);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
  has(path: string): boolean {
    return this.map.has(path);
  }
  get size(): number {
    return this.map.size;
  }
}

export class ContextProcessor implements BatchProcessor {
  private readonly cache: WindowedCache;
  private readonly chunk: number;
  private readonly sliceBytes: number;

  constructor(
    private readonly opts: ProcessorOptions,
    private readonly inner: BatchProcessor,
    private readonly ctx: ContextProcessorOptions,
    readonly stats: ContextStats = new ContextStats(),
  ) {
    if (!ctx.offsets?.length) throw new Error('ContextProcessor: offsets must list at least one offset');
    this.chunk = ctx.chunk ?? 32;
    if (!(Number.isInteger(this.chunk) && this.chunk > 0)) throw new Error(`ContextProcessor: chunk must be a positive integer, got ${ctx.chunk}`);
    const span = Math.max(...ctx.offsets.map(Math.abs)) * 2 + 1;
    const capacity = ctx.capacity ?? Math.ceil(span) + 2 * this.chunk;
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`ContextProcessor: capacity must be a positive integer, got ${ctx.capacity}`);
    this.cache = new WindowedCache(capacity);
    this.sliceBytes = opts.size[0] * opts.size[1] * opts.plan.channels.length * BYTES_PER[opts.dtype];
  }

  async process(refs: SliceRef[]): Promise<SliceResult[]> {
    const results: SliceResult[] = new Array(refs.length);
    // Centres in batch order; the misses of consecutive centres are decoded together, `chunk`
    // slices at a time. Results go back in the order of `refs`.
    let pending: { i: number; got: Map<string, Windowed | undefined> }[] = [];
    let need = new Map<string, SliceRef>();
    const flush = async () => {
      const done = await this.windowMany([...need.entries()]);
      for (const p of pending) {
        for (const [path, w] of p.got) if (!w) p.got.set(path, done.get(path)!);
        results[p.i] = this.assemble(refs[p.i], p.got as Map<string, Windowed>);
      }
      pending = [];
      need = new Map();
    };
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i];
      const paths = [...new Set(this.pathsOf(ref))];
      const fresh = paths.filter((p) => !this.cache.has(p) && !need.has(p)).length;
      if (pending.length && need.size + fresh > this.chunk) await flush();
      const got = new Map<string, Windowed | undefined>();
      for (const p of paths) {
        const hit = this.cache.get(p);
        if (hit) {
          this.stats.cacheHits++;
          got.set(p, hit);
        } else {
          got.set(p, undefined);
          if (!need.has(p)) need.set(p, singleRef(ref, p));
        }
      }
      pending.push({ i, got });
    }
    if (pending.length) await flush();
    return results;
  }

  /** The centre first (always needed: its label is the record's), then each neighbour. */
  private pathsOf(ref: SliceRef): string[] {
    const out = [ref.path];
    for (const s of ref.context?.slices ?? []) if (s) out.push(s.path);
    return out;
  }

  /** Decodes and windows `items` (single slices) through the inner processor in chunks; every result also goes into the cache. */
  private async windowMany(items: [string, SliceRef][]): Promise<Map<string, Windowed>> {
    const out = new Map<string, Windowed>();
    for (let at = 0; at < items.length; at += this.chunk) {
      const part = items.slice(at, at + this.chunk);
      const results = await this.inner.process(part.map(([, r]) => r));
      this.stats.peakDecoded = Math.max(this.stats.peakDecoded, part.length);
      results.forEach((r, j) => {
        const path = part[j][0];
        if (r.ok) {
          if (r.bytes.length !== this.sliceBytes) throw new Error(`ContextProcessor: the inner processor gave ${r.bytes.length} bytes for ${path}, expected ${this.sliceBytes}`);
          out.set(path, { bytes: r.bytes });
          this.stats.decoded++;
        } else out.set(path, { error: r });
      });
    }
    for (const [p, w] of out) this.cache.set(p, w);
    this.stats.peakCached = Math.max(this.stats.peakCached, this.cache.size);
    return out;
  }

  private assemble(ref: SliceRef, got: Map<string, Windowed>): SliceResult {
    const centre = got.get(ref.path)!;
    if ('error' in centre) {
      const q = centre.error.quarantine;
      return fail(ref, q.stage, q.reason);
    }
    const slices = ref.context?.slices ?? this.ctx.offsets.map(() => ({ path: ref.path, sop: ref.sop }));
    const offsets = this.ctx.offsets;
    // Resolve each offset to bytes (or null for zeros), missing neighbours by the edge rule.
    const chosen: ({ bytes: Uint8Array; sop: string } | null)[] = slices.map((s) => {
      if (!s) return null;
      const w = got.get(s.path)!;
      return 'error' in w ? undefined! : { bytes: w.bytes, sop: s.sop };
    });
    for (let k = 0; k < chosen.length; k++) {
      if (chosen[k] !== undefined) continue;
      this.stats.neighboursMissing++;
      if (this.ctx.edge === 'zero') {
        chosen[k] = null;
        continue;
      }
      // Nearest offset towards the centre (same side) whose slice decoded; else the centre.
      let best: { bytes: Uint8Array; sop: string } = { bytes: centre.bytes, sop: ref.sop };
      let bestD = Infinity;
      for (let j = 0; j < chosen.length; j++) {
        const c = chosen[j];
        if (!c || j === k) continue;
        if (Math.sign(offsets[j]) !== Math.sign(offsets[k]) || Math.abs(offsets[j]) >= Math.abs(offsets[k])) continue;
        const d = Math.abs(offsets[k] - offsets[j]);
        if (d < bestD) [best, bestD] = [c, d];
      }
      chosen[k] = best;
    }
    const per = this.sliceBytes;
    const n = chosen.length;
    if (n === 1 && chosen[0]) {
      return { ok: true, ref, bytes: chosen[0].bytes, neighbours: [chosen[0].sop] } as ContextSliceOk;
    }
    for (const c of chosen) if (c && c.bytes.length !== per) throw new Error(`ContextProcessor: ${c.sop} gave ${c.bytes.length} bytes, expected ${per}`);
    const out = interleave(chosen.map((c) => c?.bytes ?? null), this.opts.plan.channels.length * BYTES_PER[this.opts.dtype], per);
    return { ok: true, ref, bytes: out, neighbours: chosen.map((c) => c?.sop ?? null) } as ContextSliceOk;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/**
 * Interleaves per-slice `[pixels, cw bytes]` sources into `[pixels, n × cw bytes]`, offset-major
 * within each pixel; a null source stays zero. Plain loops over monomorphic Uint8Array views
 * (sources may be Buffers or subarrays): this runs once per output slice.
 */
export function interleave(sources: (Uint8Array | null)[], cw: number, per: number): Uint8Array {
  const n = sources.length;
  const pixels = per / cw;
  const stride = n * cw;
  const out = new Uint8Array(per * n);
  for (let k = 0; k < n; k++) {
    const s = sources[k];
    if (!s) continue;
    const src = new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
    if (cw === 1) {
      for (let p = 0, o = k; p < pixels; p++, o += stride) out[o] = src[p];
    } else {
      for (let p = 0, i = 0, o = k * cw; p < pixels; p++, o += stride) for (let b = 0; b < cw; b++) out[o + b] = src[i++];
    }
  }
  return out;
}

/** The single slice at `path` as a ref for the inner processor (the centre's row and labels, no context). */
function singleRef(ref: SliceRef, path: string): SliceRef {
  const { context, ...rest } = ref;
  const sop = path === ref.path ? ref.sop : (context?.slices.find((s) => s?.path === path)?.sop ?? ref.sop);
  return { ...rest, path, sop };
}

/** `BatchRecord.extra` for a record of context slices: the SOP UIDs used per slice and offset. */
export function contextRecordExtra(slices: SliceOk[], offsets: number[]): Record<string, unknown> {
  return { context: { offsets, neighbours: slices.map((s) => (s as ContextSliceOk).neighbours ?? null) } };
}
