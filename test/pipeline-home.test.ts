/**
 * A run writes nothing outside the folders it was given: `ctwindow run` (worker threads, the
 * table executor, resize), `window` and `preview` with a fresh, empty HOME and TMPDIR, and no
 * XDG cache variable, leave both empty (no cache, no verdict file, no scratch).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import { ctwindow } from './helpers/shared.js';
import { writePipeline } from './helpers/pipeline.js';

/** Every path below `dir`, relative. */
function everything(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }) as string[];
}

describe('nothing written outside the given folders', () => {
  it('run, window and preview with an empty HOME and TMPDIR leave them empty', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ctw-home-'));
    try {
      const home = join(root, 'home');
      const tmp = join(root, 'tmp');
      for (const d of [home, tmp]) rmSync(d, { recursive: true, force: true });
      const { mkdirSync } = await import('node:fs');
      mkdirSync(home);
      mkdirSync(tmp);
      const ds = await generateDataset(join(root, 'data'), { exams: 3, slicesPerExam: 6, rows: 40, cols: 40, seed: 5, otherSizeEvery: 2, otherSize: [44, 52] });
      const yaml = await writePipeline(root, {
        source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
        split: { val: 0 },
        window: { strategy: 'sigmoid-ensemble' },
        resize: [32, 32],
        balance: { mode: 'none' },
        batch: { size: 4 },
        output: { dir: 'out', dtype: 'uint8' },
        seed: 1,
        backend: 'cpu',
        workers: 2,
      });
      const env = { HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: '', CTWINDOW_CACHE_DIR: '' };
      const run = ctwindow(['run', yaml, '-q'], { env });
      expect(run.status, run.stderr).toBe(0);
      expect(everything(join(root, 'out')).some((f) => f.endsWith('.ctws'))).toBe(true);
      const one = ds.slices[0].path;
      const win = ctwindow(['window', one, '--strategy', 'lung', '--out', join(root, 'win')], { env });
      expect(win.status, win.stderr).toBe(0);
      const prev = ctwindow(['preview', one, '--strategies', 'lung,sigmoid', '--out', join(root, 'prev.png')], { env });
      expect(prev.status, prev.stderr).toBe(0);
      expect(everything(home)).toEqual([]);
      expect(everything(tmp)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
