/**
 * `ctwindow window <series folder or files> --context -1,0,1 --strategy <s> --out <dir>`:
 * orders the inputs per series (header-only reads, along the slice normal) and writes one
 * `<out>/<file stem>.npy` per centre slice, float32 `[H, W, offsets × channels]` at the
 * slice's own size, offset-major, plus `<out>/context.json` (channel layout, each centre's
 * neighbours, the series' warnings). Each slice is decoded once, through a sliding window
 * that holds only the slices the current centre needs.
 *
 * @example
 *   await windowSeriesWithContext(['series/lidc-0003'], { offsets: [-1, 0, 1], out: '/tmp/ctx', windowOne: (f) => windowFile(plan, f, 'keep'), channels: plan.channels });
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { encodeNpy } from '../util/npy.js';
import { contextChannels, contextSchema, type ContextConfigInput } from './config.js';
import { listSeriesFolder, readGeometries } from './headers.js';
import { neighbourIndex, orderSeries, type SliceGeometry } from './order.js';

export type WindowOne = (file: string) => Promise<{ data: Float32Array; shape: [number, number, number] } | { reason: string }>;

export interface WindowSeriesOptions extends Omit<ContextConfigInput, 'neighbours' | 'cache'> {
  out: string;
  /** Windows one file at its own size (the plain `window` command's function). */
  windowOne: WindowOne;
  /** The window's channel names (for the layout). */
  channels: string[];
  log?: (line: string) => void;
  logErr?: (line: string) => void;
}

/** Expands folders into their files (sorted); files are kept as given. */
async function expand(inputs: string[], logErr: (l: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const p of inputs) {
    let isDir = false;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (e) {
      logErr(`FAIL ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
      continue;
    }
    if (isDir) {
      const l = await listSeriesFolder(p);
      if (l.error) logErr(`FAIL ${p}: ${l.error}`);
      out.push(...l.files);
    } else out.push(p);
  }
  return [...new Set(out)];
}

export async function windowSeriesWithContext(inputs: string[], o: WindowSeriesOptions): Promise<{ ok: number; failed: number }> {
  const log = o.log ?? console.log;
  const logErr = o.logErr ?? console.error;
  const parsed = contextSchema.safeParse({ offsets: o.offsets, unit: o.unit, edge: o.edge, gap: o.gap, gapFactor: o.gapFactor });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--context ${i.path.join('.')}: ${i.message}`).join('\n'));
  const rule = parsed.data;
  const files = await expand(inputs, logErr);
  const geoms = await readGeometries(files);
  let failed = 0;
  const bySeries = new Map<string, SliceGeometry[]>();
  for (const g of geoms) {
    if ('error' in g) {
      failed++;
      logErr(`FAIL ${g.path}: ${g.error}`);
      continue;
    }
    const k = g.series ?? '(no SeriesInstanceUID)';
    (bySeries.get(k) ?? bySeries.set(k, []).get(k)!).push(g);
  }
  await mkdir(o.out, { recursive: true });
  const channels = contextChannels(o.channels, rule);
  const summary: { channels: string[]; offsets: number[]; unit: string; edge: string; series: Record<string, unknown>[] } = { channels, offsets: rule.offsets, unit: rule.unit, edge: rule.edge, series: [] };
  let ok = 0;
  for (const [uid, slices] of [...bySeries.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const order = orderSeries(uid, slices, { gapFactor: rule.gapFactor });
    for (const w of order.warnings) logErr(`warning: ${w}`);
    for (const e of order.excluded) logErr(`warning: ${e.path} left out: ${e.reason}`);
    const cache = new Map<number, Awaited<ReturnType<WindowOne>>>();
    const get = async (j: number) => {
      let r = cache.get(j);
      if (!r) cache.set(j, (r = await o.windowOne(order.slices[j].path)));
      return r;
    };
    const centres: Record<string, unknown>[] = [];
    for (let i = 0; i < order.slices.length; i++) {
      const centre = order.slices[i];
      const idx = rule.offsets.map((off) => neighbourIndex(order, i, off, rule));
      const me = await get(i);
      if ('reason' in me) {
        failed++;
        logErr(`FAIL ${centre.path}: ${me.reason}`);
      } else {
        const [h, w, c] = me.shape;
        const got: ({ data: Float32Array; sop: string } | null | undefined)[] = [];
        for (const { index } of idx) {
          if (index === null) got.push(null);
          else {
            const r = await get(index);
            got.push('reason' in r || r.shape[0] !== h || r.shape[1] !== w ? undefined : { data: r.data, sop: order.slices[index].sop });
          }
        }
        // A neighbour that cannot be windowed (or is another size): the edge rule.
        got.forEach((g, k) => {
          if (g !== undefined) return;
          logErr(`warning: ${centre.path}: neighbour at offset ${rule.offsets[k]} (${order.slices[idx[k].index!].path}) unusable; ${rule.edge === 'zero' ? 'zero-filled' : 'replicated from nearer'}`);
          if (rule.edge === 'zero') return void (got[k] = null);
          let best: { data: Float32Array; sop: string } = { data: me.data, sop: centre.sop };
          let bestD = Infinity;
          got.forEach((q, j) => {
            const ok = q && j !== k && Math.sign(rule.offsets[j]) === Math.sign(rule.offsets[k]) && Math.abs(rule.offsets[j]) < Math.abs(rule.offsets[k]);
            if (ok && Math.abs(rule.offsets[k] - rule.offsets[j]) < bestD) [best, bestD] = [q!, Math.abs(rule.offsets[k] - rule.offsets[j])];
          });
          got[k] = best;
        });
        const n = got.length;
        const data = new Float32Array(h * w * c * n);
        got.forEach((g, k) => {
          if (!g) return;
          for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) data[(p * n + k) * c + ch] = g.data[p * c + ch];
        });
        const stem = basename(centre.path, extname(centre.path)) || basename(centre.path);
        const dest = join(o.out, `${stem}.npy`);
        await writeFile(dest, encodeNpy(data, [h, w, c * n]));
        ok++;
        centres.push({ file: basename(dest), source: centre.path, sop: centre.sop, neighbours: got.map((g) => g?.sop ?? null), filled: idx.map((x) => x.filled) });
        log(`ok   ${centre.path} → ${dest} [${h},${w},${c * n}]`);
      }
      // Slide: drop what no later centre needs (needs only move forward along the series).
      const low = Math.min(i + 1, ...idx.map((x) => x.index ?? i + 1));
      for (const j of cache.keys()) if (j < low) cache.delete(j);
    }
    summary.series.push({ seriesInstanceUID: uid, method: order.method, medianSpacing: order.medianSpacing, gapAfter: order.gapAfter, duplicates: order.duplicates, warnings: order.warnings, centres });
  }
  await writeFile(join(o.out, 'context.json'), JSON.stringify(summary, null, 1) + '\n');
  log(`windowed ${ok} centre slice(s) with context [${channels.join(', ')}]${failed ? `, ${failed} failed` : ''}`);
  return { ok, failed };
}
