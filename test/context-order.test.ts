/**
 * Issue 10: ordering a series along its slice normal (fallbacks, duplicates, gaps, mixed
 * orientations), neighbour lookup in slices and millimetres, and the real LIDC series
 * against series.json (file names not in order, InstanceNumber against z).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { neighbourIndex, orderFiles, orderSeries, contextSchema, contextChannels, parseOffsets, type SliceGeometry } from '../src/context/index.js';
import { CORPUS, loadJson } from './helpers/shared.js';

/** An oblique stack: orientation rotated about x by 30°, slices along the normal. */
function obliqueStack(positionsMm: number[]): SliceGeometry[] {
  const a = Math.PI / 6;
  const row = [1, 0, 0];
  const col = [0, Math.cos(a), Math.sin(a)];
  const n = [0, -Math.sin(a), Math.cos(a)]; // row × col
  const origin = [-100, 20, 35];
  return positionsMm.map((t, k) => ({
    path: `/s/${String.fromCharCode(122 - k)}.dcm`, // names sort against position
    sop: `sop${k}`,
    instanceNumber: 100 - k,
    imagePositionPatient: origin.map((o, d) => o + t * n[d] + 7 * row[d]),
    imageOrientationPatient: [...row, ...col],
  }));
}

describe('orderSeries', () => {
  it('orders by ImagePositionPatient projected on the normal of an oblique orientation', () => {
    const pos = [5, -2.5, 0, 10, 2.5, 7.5];
    const o = orderSeries('s', obliqueStack(pos));
    expect(o.method).toBe('position');
    const want = pos.map((p, k) => [p, `sop${k}`] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
    expect(o.slices.map((s) => s.sop)).toEqual(want);
    expect(o.medianSpacing).toBeCloseTo(2.5, 9);
    expect(o.gapAfter).toEqual([]);
    expect(o.warnings).toEqual([]);
  });

  it('reports a gap over 1.5× the median spacing and duplicate positions', () => {
    const o = orderSeries('s', obliqueStack([0, 2.5, 5, 12.5, 15, 15]));
    expect(o.gapAfter).toEqual([2]);
    expect(o.duplicates).toEqual([[4, 5]]);
    expect(o.warnings.join('\n')).toMatch(/gap.*duplicate|duplicate[\s\S]*gap/);
  });

  it('leaves a minority orientation out of the stack, with a warning', () => {
    const stack = obliqueStack([0, 2.5, 5]);
    stack.push({ path: '/s/loc.dcm', sop: 'localizer', imagePositionPatient: [0, 0, 0], imageOrientationPatient: [1, 0, 0, 0, 0, -1] });
    const o = orderSeries('s', stack);
    expect(o.slices.map((s) => s.sop)).toEqual(['sop0', 'sop1', 'sop2']);
    expect(o.excluded.map((e) => e.path)).toEqual(['/s/loc.dcm']);
    expect(o.warnings[0]).toMatch(/mixed orientations/);
  });

  it('falls back to InstanceNumber, then SliceLocation, then the path, each with a warning naming the series', () => {
    const noGeom = (k: number, extra: Partial<SliceGeometry>): SliceGeometry => ({ path: `/s/${9 - k}.dcm`, sop: `sop${k}`, ...extra });
    const byInstance = orderSeries('study/ser', [2, 0, 1].map((k) => noGeom(k, { instanceNumber: k + 1 })));
    expect(byInstance.method).toBe('instanceNumber');
    expect(byInstance.slices.map((s) => s.sop)).toEqual(['sop0', 'sop1', 'sop2']);
    expect(byInstance.warnings[0]).toMatch(/study\/ser.*InstanceNumber|study\/ser.*instanceNumber/);
    const byLoc = orderSeries('s', [2, 0, 1].map((k) => noGeom(k, { sliceLocation: -k * 3 })));
    expect(byLoc.method).toBe('sliceLocation');
    expect(byLoc.slices.map((s) => s.sop)).toEqual(['sop2', 'sop1', 'sop0']);
    const byPath = orderSeries('s', [0, 1, 2].map((k) => noGeom(k, {})));
    expect(byPath.method).toBe('path');
    expect(byPath.slices.map((s) => s.path)).toEqual(['/s/7.dcm', '/s/8.dcm', '/s/9.dcm']);
    expect(byPath.warnings[0]).toMatch(/file path/);
  });
});

describe('neighbourIndex', () => {
  const o = orderSeries('s', obliqueStack([0, 2.5, 5, 12.5, 15, 17.5]));
  it('slices: edge rule at the ends and at the gap (replicate or zero), or step over the gap when told', () => {
    const r = { unit: 'slices', edge: 'replicate', gap: 'edge' } as const;
    expect(neighbourIndex(o, 1, 1, r)).toEqual({ index: 2, filled: false });
    expect(neighbourIndex(o, 2, 1, r)).toEqual({ index: 2, filled: true });
    expect(neighbourIndex(o, 3, -1, r)).toEqual({ index: 3, filled: true });
    expect(neighbourIndex(o, 1, -2, r)).toEqual({ index: 0, filled: true });
    expect(neighbourIndex(o, 2, 1, { ...r, edge: 'zero' })).toEqual({ index: null, filled: true });
    expect(neighbourIndex(o, 2, 1, { ...r, gap: 'ignore' })).toEqual({ index: 3, filled: false });
    expect(neighbourIndex(o, 5, 1, { ...r, gap: 'ignore' })).toEqual({ index: 5, filled: true });
  });
  it('mm: the nearest slice, the edge rule past the end or across a gap', () => {
    const r = { unit: 'mm', edge: 'zero', gap: 'edge' } as const;
    expect(neighbourIndex(o, 0, 5, r)).toEqual({ index: 2, filled: false });
    expect(neighbourIndex(o, 0, 4, r)).toEqual({ index: 2, filled: false });
    expect(neighbourIndex(o, 0, 3, r)).toEqual({ index: 1, filled: false });
    expect(neighbourIndex(o, 4, -2.5, r)).toEqual({ index: 3, filled: false });
    expect(neighbourIndex(o, 4, -5, r)).toEqual({ index: null, filled: true });
    expect(neighbourIndex(o, 5, 2.5, r)).toEqual({ index: null, filled: true });
  });
});

describe('context config', () => {
  it('names channels offset-major and rejects bad offsets with the field named', () => {
    expect(contextChannels(['pe'], { offsets: [-1, 0, 1], unit: 'slices' })).toEqual(['pe@-1', 'pe@0', 'pe@+1']);
    expect(contextChannels(['a', 'b'], { offsets: [0, 2.5], unit: 'mm' })).toEqual(['a@0mm', 'b@0mm', 'a@+2.5mm', 'b@+2.5mm']);
    const bad = contextSchema.safeParse({ offsets: [-1, 0.5] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/offsets.*1|integer/);
    expect(contextSchema.safeParse({ offsets: [1, 1] }).success).toBe(false);
    expect(contextSchema.safeParse({ offsets: [0], edge: 'mirror' }).success).toBe(false);
    expect(parseOffsets('-1, 0,1')).toEqual([-1, 0, 1]);
    expect(() => parseOffsets('-1,,1')).toThrow(/--context/);
  });
});

describe.skipIf(!CORPUS)('the real LIDC series (corpus)', () => {
  it('orders series/lidc-0003 as series.json does, from header-only reads', async () => {
    const dir = join(CORPUS!, 'series', 'lidc-0003');
    const truth = loadJson(join(CORPUS!, 'series.json')).series['series/lidc-0003'];
    const files = readdirSync(dir).map((f) => join(dir, f));
    const { order, unreadable } = await orderFiles('lidc-0003', files, { gapFactor: 1.5 });
    expect(unreadable).toEqual([]);
    expect(order.method).toBe('position');
    const got = order.slices.map((s) => ({ file: s.path.split('/').pop(), sop: s.sop, pos: s.key }));
    const want = truth.order as { file: string; sopInstanceUID: string; positionMm: number }[];
    expect(got.map((g) => g.file)).toEqual(want.map((w) => w.file));
    expect(got.map((g) => g.sop)).toEqual(want.map((w) => w.sopInstanceUID));
    got.forEach((g, i) => expect(g.pos).toBeCloseTo(want[i].positionMm, 3));
    expect(order.medianSpacing).toBeCloseTo(truth.spacingMm.median, 3);
    expect(order.gapAfter).toEqual([]);
    expect(order.duplicates).toEqual([]);
    // The trap: names and InstanceNumber do not give this order.
    expect([...got.map((g) => g.file)].sort()).not.toEqual(got.map((g) => g.file));
  });
});
