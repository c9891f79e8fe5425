/**
 * Inputs that are not what they claim (part of issue 18): in a run's DICOM folder a FIFO, a
 * symlink to /dev/zero and a directory where a .dcm should be are quarantined with the reason —
 * no hang, no unbounded read — in `run`, `decode`, `window` and `probe`; a CSV with mixed CRLF and
 * LF line endings reads every row.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset, type GeneratedDataset } from '../src/fixtures/index.js';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { decodeDicomSync, MAX_FRAME_BYTES } from '../src/dicom/index.js';
import { countSource, readSource } from '../src/source/index.js';
import { ctwindow, REPO } from './helpers/shared.js';
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

describe('headers that claim more than the file holds', () => {
  const rescale = [[{ tag: 0x00289145, vr: 'SQ', value: [[{ tag: 0x00281052, vr: 'DS', value: '-1024' }, { tag: 0x00281053, vr: 'DS', value: '1' }]] }]] as const;
  // NumberOfFrames 400,000,000 over 512 bytes of pixel data, with Enhanced CT functional groups.
  const manyFrames = () =>
    writeDicom({
      transferSyntax: '1.2.840.10008.1.2.1',
      elements: ctElements({ rows: 16, cols: 16, frames: 400_000_000, extra: [
        { tag: 0x52009229, vr: 'SQ', value: rescale as never },
        { tag: 0x52009230, vr: 'SQ', value: rescale as never },
      ] }),
      pixelData: new Int16Array(256),
    });
  // RLE with Rows × Columns 65535²: an 8.6 GB frame declared in a few hundred bytes.
  const hugeFrame = () =>
    writeDicom({ transferSyntax: '1.2.840.10008.1.2.5', elements: ctElements({ rows: 65535, cols: 65535 }), pixelData: { fragments: [new Uint8Array(64)] } });

  it('decode refuses them from the header, before anything is sized by it', () => {
    expect(() => decodeDicomSync(manyFrames())).toThrow(/NumberOfFrames \(0028,0008\) is 400000000, but the 512 bytes of Pixel Data hold at most 1 frame\(s\) of 512 bytes/);
    expect(() => decodeDicomSync(hugeFrame())).toThrow(`would decode to ${65535 * 65535 * 2} bytes, more than the ${MAX_FRAME_BYTES}-byte limit`);
    // The limit is the caller's to set: a 1 KiB cap refuses an ordinary 32×32 compressed frame.
    const small = writeDicom({ transferSyntax: '1.2.840.10008.1.2.5', elements: ctElements({ rows: 32, cols: 32 }), pixelData: { fragments: [new Uint8Array(64)] } });
    expect(() => decodeDicomSync(small, { maxFrameBytes: 1024 })).toThrow(/would decode to 2048 bytes, more than the 1024-byte limit/);
  });

  it('run: both are quarantined with the reason; the run finishes in bounded memory', async () => {
    const base = join(root, 'liars');
    const lds = await generateDataset(join(base, 'data'), { exams: 2, slicesPerExam: 4, rows: 16, cols: 16, seed: 3 });
    writeFileSync(lds.slices[2].path, manyFrames());
    writeFileSync(lds.slices[5].path, hugeFrame());
    const yaml = await writePipeline(base, {
      source: { csv: 'data/train.csv', dicomRoot: 'data/train' }, split: { val: 0 }, window: { strategy: 'lung' }, resize: [16, 16],
      balance: { mode: 'none' }, batch: { size: 4 }, output: { dir: 'out' }, backend: 'cpu', workers: 2, quarantine: { maxFraction: 0.5 },
    });
    const timed = existsSync('/usr/bin/time');
    const r = timed
      ? spawnSync('/usr/bin/time', ['-f', 'peak-kb %M', process.execPath, join(REPO, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { encoding: 'utf8', timeout: 60_000 })
      : ctwindow(['run', yaml, '-q'], { timeout: 60_000 });
    expect(r.error, 'the run hung').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(base, 'out', 'manifest.json'), 'utf8'));
    const reasons = m.quarantined.map((q: { reason: string }) => q.reason).join('\n');
    expect(reasons).toMatch(/NumberOfFrames \(0028,0008\) is 400000000, but the 512 bytes/);
    expect(reasons).toMatch(/would decode to 8589672450 bytes, more than the/);
    expect(m.splits.train.slices).toBe(lds.slices.length - 2);
    if (timed) expect(Number(/peak-kb (\d+)/.exec(r.stderr)![1]) * 1024).toBeLessThan(1024 ** 3);
  }, 90_000);
});

describe('quarantine at scale', () => {
  it('20,000 rows whose files are all missing: a small manifest with counts and 100 examples, every row in quarantine.jsonl, bounded memory', async () => {
    const base = join(root, 'many');
    mkdirSync(join(base, 'empty'), { recursive: true });
    const rows = ['StudyInstanceUID,SeriesInstanceUID,SOPInstanceUID,pe_present_on_image'];
    for (let i = 0; i < 20_000; i++) rows.push(`1.2.${i >> 8},1.2.${i >> 8}.1,1.2.${i >> 8}.1.${i},${i % 5 === 0 ? 1 : 0}`);
    writeFileSync(join(base, 'train.csv'), rows.join('\n') + '\n');
    const yaml = await writePipeline(base, {
      source: { csv: 'train.csv', dicomRoot: 'empty' }, split: { val: 0 }, window: { strategy: 'lung' }, resize: [16, 16],
      balance: { mode: 'none' }, batch: { size: 32 }, output: { dir: 'out' }, backend: 'cpu', workers: 2,
    });
    const timed = existsSync('/usr/bin/time');
    const r = timed
      ? spawnSync('/usr/bin/time', ['-f', 'peak-kb %M', process.execPath, join(REPO, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { encoding: 'utf8', timeout: 120_000 })
      : ctwindow(['run', yaml, '-q'], { timeout: 120_000 });
    expect(r.error, 'the run hung').toBeUndefined();
    expect(r.status).toBe(1); // nothing written: a failed job, with its manifest
    const manifest = readFileSync(join(base, 'out', 'manifest.json'), 'utf8');
    const m = JSON.parse(manifest);
    expect(manifest.length).toBeLessThan(100_000);
    expect(m.quarantine).toMatchObject({ file: 'quarantine.jsonl', count: 20_000, byStage: { read: 20_000 }, listed: 100 });
    expect(m.quarantine.byReason).toEqual([{ reason: 'file not found', count: 20_000, example: expect.stringMatching(/empty\/1\.2\.0\/1\.2\.0\.1\/1\.2\.0\.1\.\d+\.dcm$/) }]);
    expect(m.quarantined.map((q: { row: number }) => q.row)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(m.rows).toEqual({ data: 20_000, written: 0, repeated: 0, dropped: 0, quarantined: 20_000 });
    const lines = readFileSync(join(base, 'out', 'quarantine.jsonl'), 'utf8').trim().split('\n');
    expect(new Set(lines.map((l) => JSON.parse(l).row)).size).toBe(20_000);
    if (timed) expect(Number(/peak-kb (\d+)/.exec(r.stderr)![1]) * 1024).toBeLessThan(512 * 1024 ** 2);
  }, 150_000);
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
