#!/usr/bin/env node
/**
 * Slice-context benchmark: one generated 1,000-slice series (RSNA layout, files and CSV rows
 * shuffled), run through `ctwindow run` with the PE window on the centre slice only and with
 * context offsets −1, 0, +1. Each run is a child process, so its peak RSS is its own.
 * Reports slices/s with and without context, peak RSS against the memory budget (the plain
 * run's RSS plus the context cache and one decode chunk, ×2, + 32 MiB), and what holding the
 * whole series' HU would take instead.
 *
 *   node scripts/bench/context.mjs [--slices 1000] [--size 128]     # needs `npm run build`
 *
 * @example
 *   import { benchContext } from './scripts/bench/context.mjs';
 *   const rows = await benchContext({ slices: 1000, size: 128 });
 *   // [{ name: 'context: plain (pe@0)', slices_per_s, peak_rss_mb, ... }, { name: 'context: -1,0,+1', ... }]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MB = 1024 * 1024;

const CHILD = `
const [cfg] = process.argv.slice(1);
const { runPipeline } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'pipeline', 'index.js')).href)});
const t0 = performance.now();
const r = await runPipeline(cfg);
const seconds = (performance.now() - t0) / 1000;
const c = r.manifest.context ?? {};
process.stdout.write(JSON.stringify({ seconds, slices: r.slicesWritten, maxRssKb: process.resourceUsage().maxRSS, peakDecoded: c.peakDecoded ?? null, peakCached: c.peakCached ?? null, decoded: c.decoded ?? null }));
`;

/**
 * @param {{ slices?: number, size?: number, batch?: number, distinct?: number, dir?: string, keep?: boolean, backend?: string, quick?: boolean }} [opts]
 *   quick: 64×64 images instead of 128×128 (the series keeps its 1,000 slices)
 * @returns {Promise<object[]>} one row per run
 */
export async function benchContext(opts = {}) {
  const slices = opts.slices ?? 1000;
  const size = opts.size ?? (opts.quick ? 64 : 128);
  const batch = opts.batch ?? 32;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ctw-bench-context-'));
  const { writeContextVolume } = await import(pathToFileURL(join(REPO, 'dist', 'context', 'fixture.js')).href);
  const tGen = performance.now();
  await writeContextVolume(dir, { series: [{ slices, positive: [Math.floor(slices * 0.3), Math.floor(slices * 0.6)] }], rows: size, cols: size, seed: 3, distinct: opts.distinct ?? 16 });
  const genSeconds = (performance.now() - tGen) / 1000;
  const window = { channels: [{ name: 'pe', terms: [{ kind: 'clip', center: 100, width: 700, norm: 'window' }] }], repeat: false };
  const base = {
    source: { csv: join(dir, 'train.csv'), dicomRoot: join(dir, 'train') },
    split: { val: 0 },
    window,
    resize: [size, size],
    balance: { mode: 'none' },
    batch: { size: batch },
    output: { dtype: 'uint8', shardBytes: 64 * MB },
    seed: 1,
    backend: opts.backend ?? 'cpu',
    workers: 0,
  };
  const runs = [
    { name: 'context: plain (pe@0)', cfg: { ...base, output: { ...base.output, dir: join(dir, 'out-plain') } } },
    { name: 'context: -1,0,+1', cfg: { ...base, context: { offsets: [-1, 0, 1] }, output: { ...base.output, dir: join(dir, 'out-context') } } },
  ];
  const rows = [];
  let plainRssMb;
  for (const run of runs) {
    const cfgPath = join(dir, `${run.name.replace(/[^a-z0-9]+/gi, '-')}.json`);
    writeFileSync(cfgPath, JSON.stringify(run.cfg));
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, cfgPath], { encoding: 'utf8', maxBuffer: 16 * MB });
    if (p.status !== 0) throw new Error(`benchContext: ${run.name} failed (exit ${p.status}): ${p.stderr.slice(-2000)}`);
    const r = JSON.parse(p.stdout.trim().split('\n').pop());
    const rssMb = r.maxRssKb / 1024;
    const row = {
      name: run.name,
      slices: r.slices,
      image: `${size}x${size}`,
      seconds: +r.seconds.toFixed(2),
      slices_per_s: +(r.slices / r.seconds).toFixed(1),
      peak_rss_mb: +rssMb.toFixed(1),
    };
    if (run.cfg.context) {
      // Budget: the plain run plus the cache (span + 2 batches) and one decode chunk of HU, doubled for tfjs copies.
      const capacity = 3 + 2 * batch;
      const perSliceMb = (size * size * 4 + size * size * 1) / MB;
      const budget = plainRssMb + 2 * (capacity + batch) * perSliceMb + 32;
      Object.assign(row, {
        budget_mb: +budget.toFixed(1),
        within_budget: rssMb <= budget,
        peak_decoded: r.peakDecoded,
        peak_cached: r.peakCached,
        decoded: r.decoded,
        whole_series_hu_mb: +((slices * size * size * 4) / MB).toFixed(1),
      });
    } else plainRssMb = rssMb;
    rows.push(row);
  }
  rows.forEach((r) => (r.generate_s = +genSeconds.toFixed(1)));
  if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
  return rows;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { slices: { type: 'string', default: '1000' }, size: { type: 'string', default: '128' }, batch: { type: 'string', default: '32' } } });
  const rows = await benchContext({ slices: Number(values.slices), size: Number(values.size), batch: Number(values.batch) });
  console.table(rows);
}
