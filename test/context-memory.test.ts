/**
 * Issue 10, acceptance 3: a 1,000-slice series is streamed with bounded memory. In-process:
 * each slice decoded once, never more than one decode chunk of HU and `capacity` windowed
 * slices held. As processes: scripts/bench/context.mjs's peak RSS stays within its budget
 * (needs `npm run build`, as `npm test` does).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSource } from '../src/source/index.js';
import { InProcessProcessor, type ProcessorOptions } from '../src/batching/index.js';
import { compileWindow } from '../src/windowing/index.js';
import { initBackend } from '../src/backend/index.js';
import { ContextProcessor, ContextStats, contextSchema, withContext } from '../src/context/index.js';
import { writeContextVolume, type ContextVolume } from '../src/context/fixture.js';
import type { SliceRef } from '../src/types.js';
import { REPO } from './helpers/shared.js';
import { tempDir } from './helpers/pipeline.js';

let vol: ContextVolume;

beforeAll(async () => {
  await initBackend('cpu');
  vol = await writeContextVolume(join(await tempDir('ctw-ctxmem-'), 'v'), { series: [{ slices: 1000, positive: [300, 600] }], rows: 16, cols: 16, seed: 2, distinct: 8 });
}, 60_000);

describe('slice context memory bound', () => {
  it('a 1,000-slice series: every slice decoded once, at most one chunk of HU and `capacity` windowed slices held', async () => {
    const rule = contextSchema.parse({ offsets: [-2, -1, 0, 1, 2] });
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'lung', repeat: false }), size: [16, 16], dtype: 'uint8', padding: 'air' };
    const stats = new ContextStats();
    const p = new ContextProcessor(opts, new InProcessProcessor(opts), { offsets: rule.offsets, edge: rule.edge, chunk: 32, capacity: 5 + 64 }, stats);
    let batch: SliceRef[] = [];
    let written = 0;
    const source = readSource({ csv: vol.csv, dicomRoot: vol.dicomRoot, label: 'pe_present_on_image', columns: { study: 'StudyInstanceUID', series: 'SeriesInstanceUID', sop: 'SOPInstanceUID' }, seed: 1, valFraction: 0 });
    for await (const item of withContext(source, rule, stats)) {
      if (item.kind !== 'ref') continue;
      batch.push(item.ref);
      if (batch.length === 32) {
        written += (await p.process(batch)).filter((r) => r.ok).length;
        batch = [];
      }
    }
    if (batch.length) written += (await p.process(batch)).filter((r) => r.ok).length;
    expect(written).toBe(1000);
    expect(stats.decoded).toBe(1000);
    expect(stats.peakDecoded).toBeLessThanOrEqual(32);
    expect(stats.peakCached).toBeLessThanOrEqual(69);
    expect(stats.edgeFilled).toBe(2 + 2 * 2); // offsets ±1 at one end, ±2 at two slices per end (replicate)
  }, 60_000);

  it('scripts/bench/context.mjs: peak RSS of the context run within budget, slices/s reported beside the plain run', async () => {
    const { benchContext } = await import(pathToFileURL(join(REPO, 'scripts', 'bench', 'context.mjs')).href);
    const rows = await benchContext({ slices: 1000, size: 32, batch: 32 });
    expect(rows).toHaveLength(2);
    const [plain, ctx] = rows;
    expect(plain.slices).toBe(1000);
    expect(ctx.slices).toBe(1000);
    expect(plain.slices_per_s).toBeGreaterThan(0);
    expect(ctx.slices_per_s).toBeGreaterThan(0);
    expect(ctx.decoded).toBe(1000);
    expect(ctx.peak_decoded).toBeLessThanOrEqual(32);
    expect(ctx.within_budget, `peak RSS ${ctx.peak_rss_mb} MB, budget ${ctx.budget_mb} MB`).toBe(true);
  }, 120_000);
});
