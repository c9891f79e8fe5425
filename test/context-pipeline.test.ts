/**
 * Issue 10, acceptance 4: pipelines/rsna-pe-2p5d.yaml runs as shipped (its relative paths to
 * ../data/demo) on demo-layout data, here generated small in a temporary copy of the layout.
 */
import { describe, expect, it } from 'vitest';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import { huFrame, readDicomFile } from '../src/dicom/index.js';
import { runPipeline } from '../src/pipeline/index.js';
import { readManifest } from '../src/shards/index.js';
import { REPO } from './helpers/shared.js';
import { allRecords, tempDir } from './helpers/pipeline.js';

describe('pipelines/rsna-pe-2p5d.yaml', () => {
  it('runs on the demo layout: PE 100/700 over offsets −1, 0, +1, labelled by the centre slice', async () => {
    const root = await tempDir('ctw-2p5d-');
    await mkdir(join(root, 'pipelines'));
    const yaml = join(root, 'pipelines', 'rsna-pe-2p5d.yaml');
    await copyFile(join(REPO, 'pipelines', 'rsna-pe-2p5d.yaml'), yaml);
    const ds = await generateDataset(join(root, 'data', 'demo'), { exams: 3, slicesPerExam: 10, rows: 32, cols: 32, seed: 4, otherSizeEvery: 0 });
    const r = await runPipeline(yaml, { overrides: ['resize=[32,32]', 'backend=cpu', 'workers=0', 'split.val=0'] });
    const m = await readManifest(r.outDir);
    expect(r.outDir).toBe(join(root, 'out', 'rsna-pe-2p5d'));
    expect(m.channels).toEqual(['pe@-1', 'pe@0', 'pe@+1']);
    expect(m.imageShape).toEqual([32, 32, 3]);
    expect(m.quarantined).toEqual([]);
    const ctx = (m as unknown as { context: { series: number; edgeFilled: number; gaps: number } }).context;
    expect(ctx.series).toBe(3);
    expect(ctx.gaps).toBe(0);
    expect(ctx.edgeFilled).toBe(3 * 2);
    const labels = new Map(ds.slices.map((s) => [s.sop, s.label]));
    const recs = await allRecords(r.outDir);
    expect(recs.length).toBeGreaterThan(0);
    for (const rec of recs) rec.sop.forEach((sop, b) => expect(rec.labels[b]).toBe(labels.get(sop)));
    // pe@0 is the PE window (level 100, width 700 → [−250, 450] HU) of the centre slice itself.
    const rec = recs[0];
    const img = await readDicomFile(ds.slices.find((s) => s.sop === rec.sop[0])!.path);
    const hu = huFrame(img, 0, { padding: 'air' });
    let worst = 0;
    for (let p = 0; p < 32 * 32; p++) {
      const want = Math.round((Math.min(450, Math.max(-250, hu[p])) + 250) / 700 * 255);
      worst = Math.max(worst, Math.abs(rec.images[p * 3 + 1] - want));
    }
    expect(worst).toBeLessThanOrEqual(1);
  }, 60_000);
});
