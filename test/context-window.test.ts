/**
 * Issue 10: `ctwindow window <series folder> --context -1,0,1`: one .npy per centre slice,
 * channel k = the plain window output of the neighbour in anatomical order.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { compileWindow } from '../src/windowing/index.js';
import { windowFile } from '../src/cli/commands/window.js';
import { windowSeriesWithContext } from '../src/context/index.js';
import { writeContextVolume, type ContextVolume } from '../src/context/fixture.js';
import { decodeNpy } from '../src/util/npy.js';
import { CORPUS, ctwindow, loadJson, REPO } from './helpers/shared.js';
import { tempDir } from './helpers/pipeline.js';

const plan = compileWindow({ strategy: 'lung', params: { windows: [{ center: 100, width: 700 }] }, repeat: false });
let vol: ContextVolume;
let root: string;

beforeAll(async () => {
  await initBackend('cpu');
  root = await tempDir('ctw-ctxwin-');
  vol = await writeContextVolume(join(root, 'v'), { series: [{ slices: 7, gapAfter: [3] }], rows: 20, cols: 20, seed: 8 });
});

async function check(files: string[], sorted: string[], out: string, offsets: number[], gapAfter: number[] = []) {
  const plain = new Map<string, Float32Array>();
  for (const f of sorted) {
    const r = await windowFile(plan, f, 'keep');
    if ('reason' in r) throw new Error(r.reason);
    plain.set(f, r.data);
  }
  const stem = (p: string) => p.split('/').pop()!.replace(/\.dcm$/, '');
  sorted.forEach((f, i) => {
    const npy = decodeNpy(readFileSync(join(out, `${stem(f)}.npy`)));
    const [h, w, c] = npy.shape;
    expect(c).toBe(offsets.length);
    offsets.forEach((k, ch) => {
      let lo = 0, hi = sorted.length - 1;
      for (const g of gapAfter) if (g < i) lo = Math.max(lo, g + 1); else hi = Math.min(hi, g);
      const j = Math.min(hi, Math.max(lo, i + k)); // replicate at ends and gaps
      const want = plain.get(sorted[j])!;
      const got = Float32Array.from({ length: h * w }, (_, p) => (npy.data as Float32Array)[p * c + ch]);
      expect(got, `${stem(f)} offset ${k}`).toEqual(want);
    });
  });
  expect(readdirSync(out).filter((f) => f.endsWith('.npy')).length).toBe(files.length);
}

describe('window --context (function)', () => {
  it('a generated series folder: one .npy per centre, channel k = the plain output of sorted slice z+k (gap and ends replicated)', async () => {
    const out = join(root, 'out-gen');
    const logs: string[] = [];
    const r = await windowSeriesWithContext([join(vol.dicomRoot, vol.series[0].study, vol.series[0].series)], { offsets: [-1, 0, 1], out, windowOne: (f) => windowFile(plan, f, 'keep'), channels: plan.channels, log: () => {}, logErr: (l) => logs.push(l) });
    expect(r).toEqual({ ok: 7, failed: 0 });
    expect(logs.join('\n')).toMatch(/gap/);
    const sorted = vol.series[0].sorted.map((s) => s.path);
    await check(sorted, sorted, out, [-1, 0, 1], vol.series[0].gapAfter);
    const meta = JSON.parse(readFileSync(join(out, 'context.json'), 'utf8'));
    expect(meta.channels).toEqual(['lung@-1', 'lung@0', 'lung@+1']);
    expect(meta.series[0].centres[0].neighbours).toEqual([vol.series[0].sorted[0].sop, vol.series[0].sorted[0].sop, vol.series[0].sorted[1].sop]);
  });

  it.skipIf(!CORPUS)('the real LIDC series in the order of series.json (corpus)', async () => {
    const dir = join(CORPUS!, 'series', 'lidc-0003');
    const truth = loadJson(join(CORPUS!, 'series.json')).series['series/lidc-0003'].order as { file: string }[];
    const sorted = truth.map((t) => join(dir, t.file)).slice(10, 13);
    // Three consecutive files in true order, handed over shuffled.
    const out = join(root, 'out-lidc');
    const r = await windowSeriesWithContext([sorted[2], sorted[0], sorted[1]], { offsets: [-1, 0, 1], out, windowOne: (f) => windowFile(plan, f, 'keep'), channels: plan.channels, log: () => {}, logErr: () => {} });
    expect(r).toEqual({ ok: 3, failed: 0 });
    await check(sorted, sorted, out, [-1, 0, 1]);
  }, 60_000);
});
