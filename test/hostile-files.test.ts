/**
 * Inputs that are not what they claim (part of issue 18): in a run's DICOM folder a FIFO, a
 * symlink to /dev/zero and a directory where a .dcm should be are quarantined with the reason —
 * no hang, no unbounded read — in `run`, `decode`, `window` and `probe`; a CSV with mixed CRLF and
 * LF line endings reads every row.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset, type GeneratedDataset } from '../src/fixtures/index.js';
import { countSource, readSource } from '../src/source/index.js';
import { ctwindow } from './helpers/shared.js';
import { writePipeline } from './helpers/pipeline.js';

let root = '';
let ds: GeneratedDataset;
let fifo = '';
let zero = '';
let dir = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ctw-hostile-'));
  ds = await generateDataset(join(root, 'data'), { exams: 3, slicesPerExam: 4, rows: 24, cols: 24, seed: 8 });
  // Three slices' files replaced by a FIFO, a symlink to /dev/zero and a directory.
  [fifo, zero, dir] = [ds.slices[1].path, ds.slices[5].path, ds.slices[9].path];
  for (const p of [fifo, zero, dir]) unlinkSync(p);
  execFileSync('mkfifo', [fifo]);
  symlinkSync('/dev/zero', zero);
  mkdirSync(dir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('non-regular files', () => {
  it('run: each is quarantined naming what it is; the run goes on and finishes', async () => {
    const yaml = await writePipeline(root, {
      source: { csv: 'data/train.csv', dicomRoot: 'data/train' }, split: { val: 0 }, window: { strategy: 'lung' }, resize: [16, 16],
      balance: { mode: 'none' }, batch: { size: 4 }, output: { dir: 'out/run' }, backend: 'cpu', workers: 2, quarantine: { maxFraction: 0.5 },
    });
    const r = ctwindow(['run', yaml, '-q'], { timeout: 60_000 });
    expect(r.error, 'the run hung').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(root, 'out', 'run', 'manifest.json'), 'utf8'));
    const reasons = m.quarantined.map((q: { reason: string }) => q.reason).sort();
    expect(reasons).toEqual([
      `a FIFO (named pipe), not a regular file: ${fifo}`,
      `a device, not a regular file: ${zero}`,
      `a directory, not a regular file: ${dir}`,
    ].sort());
    expect(m.splits.train.slices).toBe(ds.slices.length - 3);
  }, 90_000);

  it('decode, window and probe refuse them by name and go on with the good file', () => {
    const good = ds.slices[0].path;
    for (const args of [['decode', '--out', join(root, 'dec')], ['window', '--strategy', 'lung', '--out', join(root, 'win')]]) {
      const r = ctwindow([args[0], fifo, zero, dir, good, ...args.slice(1)], { timeout: 30_000 });
      expect(r.error, `${args[0]} hung`).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/FIFO \(named pipe\), not a regular file/);
      expect(r.stderr).toMatch(/a device, not a regular file/);
      expect(r.stderr).toMatch(/a directory, not a regular file/);
      expect(r.stdout).toMatch(/1 of 4 file\(s\)/);
    }
    const p = ctwindow(['probe', fifo, zero, good], { timeout: 30_000 });
    expect(p.error, 'probe hung').toBeUndefined();
    expect(p.stdout + p.stderr).toMatch(/FIFO \(named pipe\), not a regular file/);
  });
});

describe('line endings', () => {
  it('a CSV mixing CRLF and LF rows reads every row, in the counting pass and in the stream', async () => {
    const rows = ['StudyInstanceUID,SeriesInstanceUID,SOPInstanceUID,pe_present_on_image'];
    for (let i = 0; i < 720; i++) rows.push(`1.2.${i >> 4},1.2.${i >> 4}.1,1.2.${i >> 4}.1.${i},${i % 2}`);
    const text = rows.map((r, i) => r + (i % 2 ? '\r\n' : '\n')).join('');
    writeFileSync(join(root, 'mixed.csv'), text);
    const opts = { csv: join(root, 'mixed.csv'), dicomRoot: root, label: 'pe_present_on_image', columns: { study: 'StudyInstanceUID', series: 'SeriesInstanceUID', sop: 'SOPInstanceUID' }, seed: 1, valFraction: 0 };
    const counted = await countSource(opts, ['train']);
    expect(counted.quarantined).toBe(0);
    expect(counted.splits.train.positives + counted.splits.train.negatives).toBe(720);
    const lines: number[] = [];
    for await (const it of readSource(opts)) if (it.kind === 'ref') lines.push(it.ref.row);
    expect(lines).toEqual(Array.from({ length: 720 }, (_, i) => i + 2));
  });
});
