/**
 * Issue 10, acceptance 1 and 2: slice context on a generated volume with known positions
 * (files and CSV rows shuffled, InstanceNumber against z, one gap, one duplicate position).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readSource, type SourceOptions } from '../src/source/index.js';
import { InProcessProcessor, type SliceOk } from '../src/batching/index.js';
import { compileWindow } from '../src/windowing/index.js';
import { initBackend } from '../src/backend/index.js';
import { runPipeline } from '../src/pipeline/index.js';
import { readManifest } from '../src/shards/index.js';
import { ContextProcessor, ContextStats, contextSchema, withContext, type ContextSliceOk } from '../src/context/index.js';
import { writeContextVolume, type ContextVolume } from '../src/context/fixture.js';
import type { SliceRef } from '../src/types.js';
import { allRecords, shardBytes, tempDir, writePipeline } from './helpers/pipeline.js';

const SIZE: [number, number] = [24, 24];
const window = { channels: [{ name: 'pe', terms: [{ kind: 'clip', center: 100, width: 700, norm: 'window' }] }] } as const;
const plan = compileWindow({ ...window, repeat: false });
const spec = { series: [{ slices: 11, gapAfter: [6], duplicateOf: [3], positive: [2, 5] as [number, number] }, { slices: 5 }], rows: 32, cols: 32, seed: 5 };

let vol: ContextVolume;
let root: string;

const sourceOpts = (v: ContextVolume): SourceOptions => ({
  csv: v.csv,
  dicomRoot: v.dicomRoot,
  label: 'pe_present_on_image',
  columns: { study: 'StudyInstanceUID', series: 'SeriesInstanceUID', sop: 'SOPInstanceUID' },
  seed: 1,
  valFraction: 0,
});

async function contextRefs(v: ContextVolume, cfg: Record<string, unknown>, stats = new ContextStats()): Promise<SliceRef[]> {
  const rule = contextSchema.parse(cfg);
  const refs: SliceRef[] = [];
  for await (const item of withContext(readSource(sourceOpts(v)), rule, stats)) if (item.kind === 'ref') refs.push(item.ref);
  return refs;
}

/** The expected sorted index for offset k from i: the test's own segment arithmetic. */
function expectedIndex(n: number, gapAfter: number[], i: number, k: number): number | 'edge' {
  let lo = 0, hi = n - 1;
  for (const g of gapAfter) {
    if (g < i) lo = Math.max(lo, g + 1);
    else hi = Math.min(hi, g);
  }
  const j = i + k;
  return j < lo || j > hi ? 'edge' : j;
}

beforeAll(async () => {
  await initBackend('cpu');
  root = await tempDir('ctw-context-');
  vol = await writeContextVolume(join(root, 'a'), spec);
});

describe('slice context on a generated volume', () => {
  it('finds the true anatomical order, the gap and the duplicate (InstanceNumber runs against z, names random)', async () => {
    const stats = new ContextStats();
    const refs = await contextRefs(vol, { offsets: [0] }, stats);
    const s0 = vol.series[0];
    expect(s0.gapAfter.length).toBe(1);
    expect(refs.filter((r) => r.series === s0.series).map((r) => r.sop)).toEqual(s0.sorted.map((s) => s.sop));
    expect(stats.gaps).toBe(1);
    expect(stats.duplicatePositions).toBe(1);
    expect(stats.series).toBe(2);
    expect(stats.warnings.join('\n')).toMatch(/gap/);
    expect(stats.warnings.join('\n')).toMatch(/duplicate/);
  });

  it('neighbours come from the series folder when the CSV lists only some slices (csv mode: only its rows)', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const s0 = vol.series[0];
    const keep = new Set(s0.sorted.filter((_, i) => i % 2 === 0).map((s) => s.sop));
    const lines = (await readFile(vol.csv, 'utf8')).trim().split('\n');
    const partial = { ...vol, csv: join(root, 'partial.csv') };
    await writeFile(partial.csv, [lines[0], ...lines.slice(1).filter((l) => keep.has(l.split(',')[2]))].join('\n') + '\n');
    const folder = await contextRefs(partial, { offsets: [-1, 0, 1] });
    expect(folder.map((r) => r.sop)).toEqual(s0.sorted.filter((_, i) => i % 2 === 0).map((s) => s.sop));
    expect(folder[1].context!.slices.map((x) => x?.sop)).toEqual([s0.sorted[1].sop, s0.sorted[2].sop, s0.sorted[3].sop]);
    const csvOnly = await contextRefs(partial, { offsets: [-1, 0, 1], neighbours: 'csv' });
    expect(csvOnly[1].context!.slices.map((x) => x?.sop)).toEqual([s0.sorted[0].sop, s0.sorted[2].sop, s0.sorted[4].sop]);
  });

  it('a series whose rows come back later in the CSV is ordered again, with a warning', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const lines = (await readFile(vol.csv, 'utf8')).trim().split('\n');
    const split = { ...vol, csv: join(root, 'split.csv') };
    // Move the first row to the end: series 0, series 1, series 0 again.
    await writeFile(split.csv, [lines[0], ...lines.slice(2), lines[1]].join('\n') + '\n');
    const stats = new ContextStats();
    const refs = await contextRefs(split, { offsets: [-1, 0, 1] }, stats);
    expect(refs.length).toBe(lines.length - 1);
    expect(stats.seriesRevisited).toBe(1);
    expect(stats.warnings.join('\n')).toMatch(/not contiguous/);
    // Its neighbours still come from the whole folder.
    const last = refs[refs.length - 1];
    const s0 = vol.series[0];
    const i = s0.sorted.findIndex((s) => s.sop === last.sop);
    expect(last.context!.slices[1]!.sop).toBe(s0.sorted[i].sop);
    if (i > 0 && !s0.gapAfter.includes(i - 1)) expect(last.context!.slices[0]!.sop).toBe(s0.sorted[i - 1].sop);
  });

  it('mm offsets take the slice at the nearest position (not the next index at a duplicate), the edge rule past a gap', async () => {
    const refs = await contextRefs(vol, { offsets: [-2.5, 0, 2.5], unit: 'mm', edge: 'zero' });
    const s0 = vol.series[0];
    const seg = (i: number) => s0.gapAfter.filter((g) => g < i).length;
    s0.sorted.forEach((c, i) => {
      const ref = refs.find((r) => r.sop === c.sop)!;
      [-2.5, 2.5].forEach((d, t) => {
        // Slices at exactly z + d in the same segment; the one nearest in index to the centre.
        const cands = s0.sorted.map((s, j) => ({ s, j })).filter(({ s, j }) => Math.abs(s.z - (c.z + d)) < 1e-6 && seg(j) === seg(i));
        cands.sort((a, b) => Math.abs(a.j - i) - Math.abs(b.j - i));
        const got = ref.context!.slices[t === 0 ? 0 : 2];
        expect(got?.sop ?? null, `sorted ${i} ${d} mm`).toBe(cands[0]?.s.sop ?? null);
      });
    });
    // At the duplicate the two units differ: +1 slice is the twin, +2.5 mm the next position.
    const dup = s0.sorted.findIndex((s, j) => j + 1 < s0.sorted.length && s0.sorted[j + 1].z === s.z);
    const bySlices = await contextRefs(vol, { offsets: [-1, 0, 1] });
    expect(bySlices.find((r) => r.sop === s0.sorted[dup].sop)!.context!.slices[2]!.sop).toBe(s0.sorted[dup + 1].sop);
    expect(refs.find((r) => r.sop === s0.sorted[dup].sop)!.context!.slices[2]!.sop).toBe(s0.sorted[dup + 2].sop);
  });

  for (const edge of ['replicate', 'zero'] as const) {
    it(`channel for offset k of slice z equals the single-window output of sorted slice z+k (edge: ${edge})`, async () => {
      const offsets = [-2, -1, 0, 1, 2];
      const refs = await contextRefs(vol, { offsets, edge });
      const plain = new InProcessProcessor({ plan, size: SIZE, dtype: 'float32', padding: 'air' });
      const stats = new ContextStats();
      const ctxp = new ContextProcessor({ plan, size: SIZE, dtype: 'float32', padding: 'air' }, plain, { offsets, edge, chunk: 4, capacity: 8 }, stats);
      const out = (await ctxp.process(refs)) as ContextSliceOk[];
      for (const s of vol.series) {
        const single = new Map<string, Float32Array>();
        for (const r of await plain.process(s.sorted.map((v, i) => ({ study: v.study, series: v.series, sop: v.sop, label: v.label, path: v.path, row: i, split: 'train' as const })))) {
          expect(r.ok).toBe(true);
          single.set(r.ref.sop, new Float32Array((r as SliceOk).bytes.slice().buffer));
        }
        const n = s.sorted.length;
        const px = SIZE[0] * SIZE[1];
        s.sorted.forEach((centre, i) => {
          const res = out.find((r) => r.ref.sop === centre.sop)!;
          expect(res.ok).toBe(true);
          const v = new Float32Array(res.bytes.slice().buffer);
          expect(v.length).toBe(px * offsets.length);
          offsets.forEach((k, c) => {
            const e = expectedIndex(n, s.gapAfter, i, k);
            let want: Float32Array;
            let sop: string | null;
            if (e === 'edge') {
              if (edge === 'zero') [want, sop] = [new Float32Array(px), null];
              else {
                // Replicate: the last slice on this side before the end or the gap.
                let j = i;
                while (expectedIndex(n, s.gapAfter, i, j - i + Math.sign(k)) !== 'edge' && Math.abs(j - i) < Math.abs(k)) j += Math.sign(k);
                [want, sop] = [single.get(s.sorted[j].sop)!, s.sorted[j].sop];
              }
            } else [want, sop] = [single.get(s.sorted[e].sop)!, s.sorted[e].sop];
            const got = new Float32Array(px);
            for (let p = 0; p < px; p++) got[p] = v[p * offsets.length + c];
            expect(got, `series ${s.series} sorted ${i} offset ${k}`).toEqual(want);
            expect(res.neighbours[c]).toBe(sop);
          });
        });
      }
      // Each slice decoded once despite 5 offsets and a cache of 8.
      expect(stats.decoded).toBe(vol.series.reduce((a, s) => a + s.sorted.length, 0));
      expect(stats.peakDecoded).toBeLessThanOrEqual(4);
      expect(stats.peakCached).toBeLessThanOrEqual(8);
    });
  }

  it('3 offsets × 3 windows (channelwise): 9 channels, offset-major, each the neighbour\'s own channelwise output', async () => {
    const { pipelineContext } = await import('../src/context/index.js');
    const ctx = pipelineContext({ window: { strategy: 'channelwise', repeat: true }, context: contextSchema.parse({ offsets: [-1, 0, 1] }), batch: { size: 4 } })!;
    expect(ctx.plan.channels).toHaveLength(3);
    expect(ctx.channels).toEqual(['-1', '0', '+1'].flatMap((off) => ctx.plan.channels.map((c) => `${c}@${off}`)));
    const o = { plan: ctx.plan, size: SIZE, dtype: 'uint8' as const, padding: 'air' as const };
    const plainCw = new InProcessProcessor(o);
    const p = ctx.processor(o, new InProcessProcessor(o));
    const refs = (await contextRefs(vol, { offsets: [-1, 0, 1] })).filter((r) => r.series === vol.series[1].series);
    const out = await p.process(refs);
    const s1 = vol.series[1].sorted;
    const single = await plainCw.process(s1.map((v, i) => ({ study: v.study, series: v.series, sop: v.sop, label: v.label, path: v.path, row: i, split: 'train' as const })));
    const px = SIZE[0] * SIZE[1];
    const i = 2; // a middle slice: neighbours 1 and 3
    const res = out.find((r) => r.ref.sop === s1[i].sop) as SliceOk;
    expect(res.bytes.length).toBe(px * 9);
    for (const [k, j] of [[0, i - 1], [1, i], [2, i + 1]]) {
      const want = (single[j] as SliceOk).bytes;
      for (let q = 0; q < px; q += 7) for (let c = 0; c < 3; c++) expect(res.bytes[q * 9 + k * 3 + c]).toBe(want[q * 3 + c]);
    }
  });

  it('2.5D on the table executor (resize from 32² to 24², every dtype) gives the bytes of 2.5D on the tfjs path', async () => {
    const { pipelineContext } = await import('../src/context/index.js');
    const { FastProcessor } = await import('../src/fast/index.js');
    const ctx = pipelineContext({ window: { strategy: 'sigmoid-ensemble', repeat: true }, context: contextSchema.parse({ offsets: [-2, 0, 1] }), batch: { size: 4 } })!;
    const refs = await contextRefs(vol, { offsets: [-2, 0, 1] });
    for (const dtype of ['uint8', 'float16', 'float32'] as const) {
      const o = { plan: ctx.plan, size: SIZE, dtype, padding: 'air' as const };
      const want = await ctx.processor(o, new InProcessProcessor(o)).process(refs);
      const got = await ctx.processor(o, await FastProcessor.create(o, 0)).process(refs);
      expect(got.length).toBe(want.length);
      let compared = 0;
      want.forEach((w, i) => {
        expect(got[i].ok, `${dtype} ${i}`).toBe(w.ok);
        if (!w.ok || !got[i].ok) return;
        expect(Buffer.compare(Buffer.from((got[i] as SliceOk).bytes), Buffer.from((w as SliceOk).bytes)), `${dtype} slice ${i}`).toBe(0);
        compared++;
      });
      expect(compared).toBeGreaterThan(10);
    }
  });

  it('a neighbour that cannot be decoded takes the edge rule and is counted; a bad centre is quarantined', async () => {
    const offsets = [-1, 0, 1];
    const refs = await contextRefs(vol, { offsets, edge: 'zero' });
    const s = vol.series[1];
    // Point the middle slice's neighbours at a missing file.
    const mid = refs.find((r) => r.sop === s.sorted[2].sop)!;
    mid.context!.slices[0] = { path: join(root, 'gone.dcm'), sop: 'gone' };
    const stats = new ContextStats();
    const o8 = { plan, size: SIZE, dtype: 'uint8' as const, padding: 'air' as const };
    const p = new ContextProcessor(o8, new InProcessProcessor(o8), { offsets, edge: 'zero' }, stats);
    const [ok, bad] = await p.process([mid, { ...mid, path: join(root, 'nothere.dcm'), sop: 'nothere' }]);
    expect(ok.ok).toBe(true);
    expect((ok as ContextSliceOk).neighbours).toEqual([null, s.sorted[2].sop, s.sorted[3].sop]);
    expect([...(ok as SliceOk).bytes].filter((_, i) => i % 3 === 0).every((b) => b === 0)).toBe(true);
    expect(stats.neighboursMissing).toBe(1);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.quarantine.reason).toMatch(/file not found/);
  });
});

describe('slice context through ctwindow run', () => {
  const config = (dir: string) => ({
    source: { csv: 'train.csv', dicomRoot: 'train' },
    split: { val: 0 },
    window,
    context: { offsets: [-1, 0, 1] },
    resize: SIZE,
    balance: { mode: 'undersample', positiveFraction: 0.5, buffer: 8 },
    batch: { size: 4 },
    output: { dir: join(dir, 'out'), dtype: 'uint8', shardBytes: 20_000 },
    seed: 9,
    backend: 'cpu',
    workers: 0,
  });

  it('shuffling file names (write order) and CSV rows gives byte-identical shards; manifest and records describe the layout', async () => {
    const b = await writeContextVolume(join(root, 'b'), { ...spec, orderSeed: 77 });
    expect(b.series[0].sorted.map((s) => s.sop)).toEqual(vol.series[0].sorted.map((s) => s.sop));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(b.csv, 'utf8')).not.toEqual(await readFile(vol.csv, 'utf8'));
    const ra = await runPipeline(await writePipeline(vol.dir, config(vol.dir)));
    const rb = await runPipeline(await writePipeline(b.dir, config(b.dir)));
    const [sa, sb] = [await shardBytes(ra.outDir), await shardBytes(rb.outDir)];
    expect(sa.size).toBeGreaterThan(0);
    expect([...sa.keys()]).toEqual([...sb.keys()]);
    for (const [k, v] of sa) expect(sb.get(k)!.equals(v), k).toBe(true);
    const m = await readManifest(ra.outDir);
    expect(m.channels).toEqual(['pe@-1', 'pe@0', 'pe@+1']);
    expect(m.imageShape).toEqual([SIZE[0], SIZE[1], 3]);
    const mc = (m as unknown as { context: Record<string, unknown> }).context;
    expect(mc.gaps).toBe(1);
    expect(mc.duplicatePositions).toBe(1);
    const recs = await allRecords(ra.outDir);
    const extra = recs[0].extra as { context: { offsets: number[]; neighbours: (string | null)[][] } };
    expect(extra.context.offsets).toEqual([-1, 0, 1]);
    expect(extra.context.neighbours[0][1]).toBe(recs[0].sop[0]);
  }, 60_000);

  it('--resume after losing the last shards gives the same bytes as the uninterrupted run', async () => {
    const { readdir, rm } = await import('node:fs/promises');
    const dir = vol.dir;
    const cfg = { ...config(dir), balance: { mode: 'none' }, output: { ...config(dir).output, dir: join(dir, 'out-resume'), shardBytes: 6_000 } };
    const yaml = await writePipeline(dir, cfg, 'resume.yaml');
    const full = await runPipeline(yaml);
    const before = await shardBytes(full.outDir);
    const shards = (await readdir(full.outDir)).filter((f) => f.endsWith('.ctws')).sort();
    expect(shards.length).toBeGreaterThan(2);
    // A crash before the last shard and the manifest were committed.
    const last = shards[shards.length - 1];
    await rm(join(full.outDir, 'manifest.json'));
    await rm(join(full.outDir, last));
    await rm(join(full.outDir, last.replace('.ctws', '.idx.json')), { force: true });
    const resumed = await runPipeline(yaml, { resume: true });
    expect(resumed.resumedRecords).toBeGreaterThan(0);
    const after = await shardBytes(resumed.outDir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [k, v] of before) expect(after.get(k)!.equals(v), k).toBe(true);
  }, 60_000);

  it('channel pe@0 equals the plain pipeline (no context) byte for byte, through the default processor', async () => {
    const dir = vol.dir;
    const common = { ...config(dir), balance: { mode: 'none' }, window: { ...window, repeat: false } };
    const rc = await runPipeline(await writePipeline(dir, { ...common, output: { ...common.output, dir: join(dir, 'out-c0') } }, 'c0.yaml'));
    const rp = await runPipeline(await writePipeline(dir, { ...common, context: undefined, output: { ...common.output, dir: join(dir, 'out-p0') } }, 'p0.yaml'));
    const px = SIZE[0] * SIZE[1];
    const plainBySop = new Map<string, Uint8Array>();
    for (const r of await allRecords(rp.outDir)) r.sop.forEach((sop, b) => plainBySop.set(sop, r.images.subarray(b * px, (b + 1) * px)));
    let n = 0;
    for (const r of await allRecords(rc.outDir)) {
      r.sop.forEach((sop, b) => {
        const img = r.images.subarray(b * px * 3, (b + 1) * px * 3);
        const centre = Uint8Array.from({ length: px }, (_, p) => img[p * 3 + 1]);
        expect(Buffer.from(centre).equals(Buffer.from(plainBySop.get(sop)!)), sop).toBe(true);
        n++;
      });
    }
    expect(n).toBe(plainBySop.size);
  }, 60_000);
});
