/**
 * Orders the slices of one series along its slice normal and finds where neighbours must not
 * be taken across. The normal is the cross product of ImageOrientationPatient's row and
 * column direction cosines; each slice's position is ImagePositionPatient projected on it.
 * Without usable geometry it falls back to InstanceNumber, then SliceLocation, then the file
 * path, with a warning naming the series. Reports duplicate positions, mixed orientations
 * (the minority orientation's slices are left out of the stack) and gaps (a spacing over
 * `gapFactor` × the series' median spacing).
 *
 * Written by hand: ordering is a sort plus a few lines of vector algebra, no library needed.
 *
 * @example
 *   const o = orderSeries('study/series', headers, { gapFactor: 1.5 });
 *   o.slices.map((s) => s.path);   // anatomical order, increasing position along the normal
 *   o.gapAfter;                    // sorted indices i with a gap between i and i + 1
 */

/** What ordering needs from one file's header. */
export interface SliceGeometry {
  path: string;
  sop?: string;
  series?: string;
  instanceNumber?: number;
  sliceLocation?: number;
  imagePositionPatient?: number[];
  imageOrientationPatient?: number[];
}

export type OrderMethod = 'position' | 'instanceNumber' | 'sliceLocation' | 'path';

export interface OrderedSlice {
  path: string;
  sop: string;
  /** Sort key: mm along the normal (position, sliceLocation), InstanceNumber, or the index (path). */
  key: number;
}

export interface OrderedSeries {
  /** Name used in warnings (e.g. `<Study>/<Series>` or the folder). */
  name: string;
  method: OrderMethod;
  /** The keys are millimetres (position or SliceLocation). */
  keysInMm: boolean;
  slices: OrderedSlice[];
  /** Unit normal used (method 'position'). */
  normal?: [number, number, number];
  /** Median spacing between consecutive distinct keys (0 for fewer than 2 distinct). */
  medianSpacing: number;
  /** Sorted indices i such that a gap lies between slice i and i + 1. */
  gapAfter: number[];
  /** Pairs of sorted indices with the same key. */
  duplicates: [number, number][];
  /** Slices left out of the stack, with the reason (other orientation, other series). */
  excluded: { path: string; reason: string }[];
  warnings: string[];
}

export interface OrderOptions {
  gapFactor?: number;
}

const cross = (a: number[], b: number[]): [number, number, number] => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

const fileStem = (p: string) => (p.split('/').pop() ?? p).replace(/\.dcm$/i, '');

/** Orientation key: cosines rounded to 1e-3 (scanner round-off differs in the last digits). */
const orientationKey = (iop: number[]) => iop.map((v) => (Math.round(v * 1000) / 1000 + 0).toFixed(3)).join(',');

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Orders one series' slices (see the file comment). `slices` may come in any order. */
export function orderSeries(name: string, slices: SliceGeometry[], opts: OrderOptions = {}): OrderedSeries {
  const gapFactor = opts.gapFactor ?? 1.5;
  if (!(gapFactor > 1)) throw new Error(`orderSeries: gapFactor must be > 1, got ${gapFactor}`);
  const warnings: string[] = [];
  const excluded: OrderedSeries['excluded'] = [];
  // Deterministic whatever the listing order.
  let pool = [...slices].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Mixed orientations: keep the most common one (first by path on ties).
  const withIop = pool.filter((s) => s.imageOrientationPatient?.length === 6);
  if (withIop.length) {
    const counts = new Map<string, number>();
    for (const s of withIop) {
      const k = orientationKey(s.imageOrientationPatient!);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    if (counts.size > 1) {
      let best = '', n = -1;
      for (const [k, c] of counts) if (c > n) [best, n] = [k, c];
      const others = withIop.filter((s) => orientationKey(s.imageOrientationPatient!) !== best);
      warnings.push(`${name}: mixed orientations (${counts.size}); ${others.length} slice(s) not in the main orientation [${best}] left out of the stack`);
      for (const s of others) excluded.push({ path: s.path, reason: `orientation [${orientationKey(s.imageOrientationPatient!)}] differs from the series' [${best}]` });
      const drop = new Set(others.map((s) => s.path));
      pool = pool.filter((s) => !drop.has(s.path));
    }
  }

  let method: OrderMethod = 'path';
  let keyOf: (s: SliceGeometry, i: number) => number;
  let normal: [number, number, number] | undefined;
  const all = <T>(f: (s: SliceGeometry) => T | undefined) => pool.every((s) => f(s) !== undefined);
  const iop0 = pool[0]?.imageOrientationPatient;
  if (pool.length && all((s) => (s.imagePositionPatient?.length === 3 ? 1 : undefined)) && iop0?.length === 6) {
    const n = cross(iop0.slice(0, 3), iop0.slice(3, 6));
    const len = Math.hypot(...n);
    if (len > 1e-6) {
      normal = [n[0] / len, n[1] / len, n[2] / len];
      const nn = normal;
      method = 'position';
      keyOf = (s) => s.imagePositionPatient![0] * nn[0] + s.imagePositionPatient![1] * nn[1] + s.imagePositionPatient![2] * nn[2];
    }
  }
  if (!normal) {
    if (pool.length && all((s) => s.instanceNumber)) {
      method = 'instanceNumber';
      keyOf = (s) => s.instanceNumber!;
    } else if (pool.length && all((s) => s.sliceLocation)) {
      method = 'sliceLocation';
      keyOf = (s) => s.sliceLocation!;
    } else {
      method = 'path';
      keyOf = (_s, i) => i;
    }
    if (pool.length > 1) warnings.push(`${name}: no usable ImagePositionPatient/ImageOrientationPatient on every slice; ordered by ${method === 'path' ? 'file path (no InstanceNumber or SliceLocation either)' : method}`);
  }
  const keyed = pool.map((s, i) => ({ s, key: keyOf!(s, i) }));
  keyed.sort((a, b) => a.key - b.key || (a.s.instanceNumber ?? 0) - (b.s.instanceNumber ?? 0) || (a.s.path < b.s.path ? -1 : a.s.path > b.s.path ? 1 : 0));
  const ordered: OrderedSlice[] = keyed.map(({ s, key }) => ({ path: s.path, sop: s.sop ?? fileStem(s.path), key }));

  // Spacing, duplicates, gaps.
  const diffs: number[] = [];
  for (let i = 1; i < ordered.length; i++) diffs.push(ordered[i].key - ordered[i - 1].key);
  const positive = diffs.filter((d) => d > 1e-6);
  const med = median(positive);
  const tol = Math.max(1e-6, med * 1e-3);
  const duplicates: [number, number][] = [];
  const gapAfter: number[] = [];
  diffs.forEach((d, i) => {
    if (d <= tol) duplicates.push([i, i + 1]);
    else if (method !== 'path' && d > gapFactor * med) gapAfter.push(i);
  });
  const unit = method === 'instanceNumber' ? '' : ' mm';
  if (duplicates.length) {
    warnings.push(`${name}: ${duplicates.length} duplicate position(s), e.g. ${ordered[duplicates[0][0]].sop} and ${ordered[duplicates[0][1]].sop} at ${ordered[duplicates[0][0]].key}${unit}`);
  }
  if (gapAfter.length) {
    const g = gapAfter[0];
    warnings.push(`${name}: ${gapAfter.length} gap(s) over ${gapFactor}× the median spacing ${+med.toFixed(4)}${unit}, e.g. ${+diffs[g].toFixed(4)}${unit} after ${ordered[g].sop}`);
  }
  return {
    name,
    method: method!,
    keysInMm: method! === 'position' || method! === 'sliceLocation',
    slices: ordered,
    ...(normal ? { normal } : {}),
    medianSpacing: med,
    gapAfter,
    duplicates,
    excluded,
    warnings,
  };
}

export interface NeighbourRule {
  unit: 'slices' | 'mm';
  edge: 'replicate' | 'zero';
  gap: 'edge' | 'ignore';
}

/**
 * The sorted index of the neighbour at `offset` from sorted index `i`, or null for a
 * zero-filled channel; `filled` says the edge rule applied (series end or gap).
 * Slices: step |offset| slices, stopping at a gap (gap: 'edge'). Millimetres: the slice whose
 * key is nearest to key(i) + offset, within half a median spacing of the series' range.
 *
 * @example neighbourIndex(o, 0, -1, { unit: 'slices', edge: 'replicate', gap: 'edge' }) // { index: 0, filled: true }
 */
export function neighbourIndex(o: OrderedSeries, i: number, offset: number, rule: NeighbourRule): { index: number | null; filled: boolean } {
  const n = o.slices.length;
  if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`neighbourIndex: index ${i} is outside the series (0..${n - 1})`);
  if (offset === 0) return { index: i, filled: false };
  const gaps = rule.gap === 'edge' ? new Set(o.gapAfter) : new Set<number>();
  const dir = offset > 0 ? 1 : -1;
  // The furthest index reachable from i in this direction without crossing a gap.
  let limit = i;
  while (true) {
    const next = limit + dir;
    if (next < 0 || next >= n) break;
    if (gaps.has(dir > 0 ? limit : next)) break;
    limit = next;
  }
  const edge = () => ({ index: rule.edge === 'replicate' ? limit : null, filled: true });
  if (rule.unit === 'slices') {
    const target = i + offset;
    return (dir > 0 ? target > limit : target < limit) ? edge() : { index: target, filled: false };
  }
  // Millimetres: nearest key; positions without mm keys cannot take mm offsets.
  if (!o.keysInMm) return edge();
  const want = o.slices[i].key + offset;
  const half = o.medianSpacing / 2;
  const reach = o.slices[limit].key;
  if (dir > 0 ? want > reach + half : want < reach - half) return edge();
  let best = i, bestD = Infinity;
  for (let j = i; dir > 0 ? j <= limit : j >= limit; j += dir) {
    const d = Math.abs(o.slices[j].key - want);
    if (d < bestD - 1e-9) [best, bestD] = [j, d];
  }
  return { index: best, filled: false };
}
