/**
 * Source transform for slice context: buffers one series' CSV rows at a time (RSNA's
 * train.csv keeps a series' rows together; a series seen again later is handled on its own,
 * with a warning), header-reads the series (its folder on disk, or only the CSV's files),
 * orders it along the slice normal, and emits the CSV's refs in anatomical order, each with
 * its neighbours per offset. Only refs (paths and UIDs) are buffered, never pixels.
 *
 * @example
 *   const stats = new ContextStats();
 *   for await (const item of withContext(readSource(opts), cfg, stats, console.warn)) {
 *     if (item.kind === 'ref') item.ref.context; // { slices: [{ path, sop } | null, …], filled: [...] }
 *   }
 */
import { dirname } from 'node:path';
import type { SliceNeighbours, SliceRef } from '../types.js';
import type { SourceItem } from '../source/index.js';
import type { ContextConfig } from './config.js';
import { listSeriesFolder, readGeometries, type GeometryResult } from './headers.js';
import { neighbourIndex, orderSeries, type OrderedSeries, type SliceGeometry } from './order.js';

/** Counts over the run, written to the manifest under `context`. */
export class ContextStats {
  series = 0;
  /** Series whose rows appeared again after another series (non-contiguous CSV). */
  seriesRevisited = 0;
  /** Series ordered without ImagePositionPatient geometry, by fallback. */
  fallback: Record<'instanceNumber' | 'sliceLocation' | 'path', number> = { instanceNumber: 0, sliceLocation: 0, path: 0 };
  duplicatePositions = 0;
  gaps = 0;
  mixedOrientationSeries = 0;
  /** Files in a series folder whose header could not be read (not usable as neighbours). */
  unreadableHeaders = 0;
  /** Centre slices emitted, and neighbour channels filled by the edge rule at a series end or gap. */
  centres = 0;
  edgeFilled = 0;
  /** Neighbours that could not be read or decoded when processed (edge rule applied). */
  neighboursMissing = 0;
  /** Slices decoded and windowed by the context processor, and cache hits. */
  decoded = 0;
  cacheHits = 0;
  /** Most slices held as decoded HU at once, and windowed slices in the cache at once. */
  peakDecoded = 0;
  peakCached = 0;
  /** The first warnings (at most 100 kept; `warningCount` has them all). */
  warnings: string[] = [];
  warningCount = 0;

  warn(line: string, log?: (l: string) => void): void {
    this.warningCount++;
    if (this.warnings.length < 100) this.warnings.push(line);
    log?.(`context: ${line}`);
  }

  toJSON(): Record<string, unknown> {
    return { ...(this as unknown as Record<string, unknown>) };
  }
}

export type ContextRule = Pick<ContextConfig, 'offsets' | 'unit' | 'edge' | 'gap' | 'gapFactor' | 'neighbours'>;

/** Neighbours of sorted index i for each offset. */
export function neighboursOf(o: OrderedSeries, i: number, rule: ContextRule): SliceNeighbours {
  const slices: SliceNeighbours['slices'] = [];
  const filled: boolean[] = [];
  for (const off of rule.offsets) {
    const r = neighbourIndex(o, i, off, rule);
    slices.push(r.index === null ? null : { path: o.slices[r.index].path, sop: o.slices[r.index].sop });
    filled.push(r.filled);
  }
  return { slices, filled };
}

/**
 * Header-reads and orders a set of files as one series; files whose header cannot be read
 * are returned in `unreadable`. `seriesUid`, when given, keeps only files of that series
 * (a folder holding several series), unless none match.
 */
export async function orderFiles(name: string, paths: string[], rule: Pick<ContextRule, 'gapFactor'>, seriesUid?: string): Promise<{ order: OrderedSeries; unreadable: { path: string; error: string }[] }> {
  const geoms: GeometryResult[] = await readGeometries(paths);
  const unreadable = geoms.filter((g): g is { path: string; error: string } => 'error' in g);
  let ok = geoms.filter((g): g is SliceGeometry => !('error' in g));
  const otherSeries: SliceGeometry[] = [];
  if (seriesUid && ok.some((g) => g.series === seriesUid)) {
    for (const g of ok) if (g.series !== undefined && g.series !== seriesUid) otherSeries.push(g);
    ok = ok.filter((g) => g.series === undefined || g.series === seriesUid);
  }
  const order = orderSeries(name, ok, { gapFactor: rule.gapFactor });
  if (otherSeries.length) {
    order.warnings.push(`${name}: ${otherSeries.length} file(s) of other series in the folder left out`);
    order.excluded.push(...otherSeries.map((g) => ({ path: g.path, reason: `SeriesInstanceUID ${g.series} is not ${seriesUid}` })));
  }
  if (unreadable.length) order.warnings.push(`${name}: ${unreadable.length} file(s) whose header cannot be read, not used as neighbours (e.g. ${unreadable[0].path}: ${unreadable[0].error})`);
  return { order, unreadable };
}

/**
 * Attaches neighbours to one series' refs and returns them in anatomical order (refs whose
 * own file is not in the ordering come last, in CSV order, with every non-zero offset
 * edge-filled: their decode will say why they are unusable).
 */
export async function contextForSeries(refs: SliceRef[], rule: ContextRule, stats: ContextStats, log?: (l: string) => void): Promise<SliceRef[]> {
  const name = `${refs[0].study}/${refs[0].series}`;
  let paths: string[];
  if (rule.neighbours === 'folder') {
    const dir = dirname(refs[0].path);
    const listed = await listSeriesFolder(dir);
    if (listed.error) stats.warn(`${name}: ${listed.error}; neighbours from the CSV's rows only`, log);
    const set = new Set(listed.files);
    paths = [...listed.files, ...refs.map((r) => r.path).filter((p) => !set.has(p))];
  } else {
    paths = [...new Set(refs.map((r) => r.path))];
  }
  const { order, unreadable } = await orderFiles(name, paths, rule, refs[0].series);
  stats.series++;
  stats.unreadableHeaders += unreadable.filter((u) => !refs.some((r) => r.path === u.path)).length;
  if (order.method !== 'position' && order.slices.length > 1) stats.fallback[order.method]++;
  stats.duplicatePositions += order.duplicates.length;
  stats.gaps += order.gapAfter.length;
  if (order.excluded.some((e) => e.reason.startsWith('orientation'))) stats.mixedOrientationSeries++;
  for (const w of order.warnings) stats.warn(w, log);
  if (rule.unit === 'mm' && !order.keysInMm && order.slices.length > 1) {
    stats.warn(`${name}: mm offsets need positions; ordered by ${order.method}, so non-zero offsets take the edge rule`, log);
  }

  const indexOf = new Map<string, number>();
  order.slices.forEach((s, i) => indexOf.set(s.path, i));
  const placed: { i: number; k: number; ref: SliceRef }[] = [];
  const orphans: SliceRef[] = [];
  refs.forEach((ref, k) => {
    const i = indexOf.get(ref.path);
    if (i === undefined) orphans.push(ref);
    else placed.push({ i, k, ref });
  });
  placed.sort((a, b) => a.i - b.i || a.k - b.k);
  const out: SliceRef[] = [];
  for (const { i, ref } of placed) {
    const context = neighboursOf(order, i, rule);
    out.push({ ...ref, context });
  }
  for (const ref of orphans) {
    const slices = rule.offsets.map((o) => (o === 0 || rule.edge === 'replicate' ? { path: ref.path, sop: ref.sop } : null));
    out.push({ ...ref, context: { slices, filled: rule.offsets.map((o) => o !== 0) } });
  }
  for (const r of out) {
    stats.centres++;
    stats.edgeFilled += r.context!.filled.filter(Boolean).length;
  }
  return out;
}

/** The source transform (see the file comment). Quarantine items pass straight through. */
export async function* withContext(items: AsyncIterable<SourceItem>, rule: ContextRule, stats: ContextStats, log?: (l: string) => void): AsyncGenerator<SourceItem> {
  const done = new Set<string>();
  let key: string | undefined;
  let buf: SliceRef[] = [];
  const flush = async function* (): AsyncGenerator<SourceItem> {
    if (!buf.length) return;
    const refs = buf;
    buf = [];
    for (const ref of await contextForSeries(refs, rule, stats, log)) yield { kind: 'ref', ref };
  };
  for await (const item of items) {
    if (item.kind !== 'ref') {
      yield item;
      continue;
    }
    const k = `${item.ref.study}/${item.ref.series}`;
    if (k !== key) {
      yield* flush();
      if (key !== undefined) done.add(key);
      key = k;
      if (done.has(k)) {
        stats.seriesRevisited++;
        stats.warn(`${k}: rows not contiguous in the CSV (seen again at line ${item.ref.row}); ordered again with its neighbours from disk`, log);
      }
    }
    buf.push(item.ref);
  }
  yield* flush();
}
