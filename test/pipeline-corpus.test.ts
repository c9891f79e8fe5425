/**
 * Issue 2, acceptance 2: an RSNA-layout copy of ../shared/corpus/ct (UIDs from the headers,
 * labels from a seeded rule) through `ctwindow run` with balance none: every slice lands in
 * the shards exactly once, and the HU values carried through match reference.json's samples.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CORPUS, loadJson } from './helpers/shared.js';
import { readDicomHeader } from '../src/dicom/index.js';
import { fnv1a32 } from '../src/source/index.js';
import { runPipeline } from '../src/pipeline/index.js';
import { allRecords, tempDir, writePipeline } from './helpers/pipeline.js';

// A window wide enough to hold every CT value, normalised by its own bounds, in float32:
// v = (HU − lo) / (hi − lo), so HU = lo + v·(hi − lo) exactly up to float32 rounding.
const CENTER = 1024, WIDTH = 8192, LO = CENTER - WIDTH / 2, HI = CENTER + WIDTH / 2;

describe.skipIf(!CORPUS)('pipeline on ../shared/corpus/ct in RSNA layout', () => {
  it('writes every slice once and carries HU equal to reference.json', async () => {
    const ref = loadJson(join(CORPUS!, 'reference.json')).files as Record<string, { rows: number; cols: number; samples: [number, number, number, number][] }>;
    const dir = await tempDir('ctw-corpus-');
    const files = (await readdir(join(CORPUS!, 'ct'))).filter((f) => f.endsWith('.dcm')).sort();
    const lines = ['StudyInstanceUID,SeriesInstanceUID,SOPInstanceUID,pe_present_on_image'];
    const bySop = new Map<string, string>();
    for (const f of files) {
      const h = readDicomHeader(new Uint8Array(await readFile(join(CORPUS!, 'ct', f))));
      const [st, se, so] = [h.studyInstanceUID!, h.seriesInstanceUID!, h.sopInstanceUID!];
      await mkdir(join(dir, 'train', st, se), { recursive: true });
      await symlink(join(CORPUS!, 'ct', f), join(dir, 'train', st, se, `${so}.dcm`));
      lines.push(`${st},${se},${so},${fnv1a32(`label:${so}`) & 1}`);
      bySop.set(so, `ct/${f}`);
    }
    await writeFile(join(dir, 'train.csv'), lines.join('\n') + '\n');
    const cfg = await writePipeline(dir, {
      source: { csv: 'train.csv', dicomRoot: 'train' },
      split: { val: 0 },
      window: { channels: [{ name: 'hu', terms: [{ kind: 'clip', center: CENTER, width: WIDTH, norm: 'window' }] }], repeat: false },
      resize: [512, 512],
      balance: { mode: 'none' },
      batch: { size: 8 },
      output: { dir: 'out', dtype: 'float32' },
      // reference.json is pydicom's pixel_array: padding pixels keep their stored value.
      decode: { padding: 'keep' },
      backend: 'cpu',
      workers: 0,
    });
    const res = await runPipeline(cfg);
    expect(res.manifest.quarantined).toEqual([]);
    const seen = new Set<string>();
    let checked = 0;
    for (const r of await allRecords(res.outDir)) {
      const [, H, W, C] = r.shape;
      expect(C).toBe(1);
      r.sop.forEach((sop, i) => {
        expect(seen.has(sop)).toBe(false);
        seen.add(sop);
        const truth = ref[bySop.get(sop)!];
        expect([truth.rows, truth.cols]).toEqual([H, W]);
        for (const [row, col, , hu] of truth.samples) {
          const v = (r.pixels as Float32Array)[i * H * W + row * W + col];
          expect(LO + v * (HI - LO)).toBeCloseTo(hu, 2);
          checked++;
        }
        expect(r.labels[i]).toBe(fnv1a32(`label:${sop}`) & 1);
      });
    }
    expect(seen.size).toBe(files.length);
    expect(checked).toBe(files.length * 256);
  });
});
