/**
 * The fast processor (lookup tables, worker threads) gives the same bytes as the reference
 * InProcessProcessor on tfjs's cpu backend: every strategy, every output dtype, with and
 * without resize, on generated phantom CT and on shared/corpus/ct; bad inputs give the same
 * quarantine reasons; the worker pool shuts down. Workers load dist/ (`npm run build` first;
 * `npm test` does it).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS } from './helpers/shared.js';
import { generateDataset } from '../src/fixtures/index.js';
import { InProcessProcessor, type ProcessorOptions, type SliceResult } from '../src/batching/index.js';
import { compileWindow, STRATEGIES } from '../src/windowing/index.js';
import { FastProcessor, WorkerPool, createFastProcessor, storedIndex, windowLut, workerCount, workerScript, WorkerScriptMissingError } from '../src/fast/index.js';
import { applyWindowReference, sliceMeta } from '../src/windowing/index.js';
import { encodeValues } from '../src/batching/index.js';
import { huFrame } from '../src/dicom/index.js';
import type { DicomImage } from '../src/types.js';
import { pathToFileURL } from 'node:url';
import { decodeDicom } from '../src/dicom/index.js';
import type { OutputDType, SliceRef } from '../src/types.js';

const refOf = (path: string, i: number): SliceRef => ({ study: `s${i >> 3}`, series: 'x', sop: `sop${i}`, label: (i % 2) as 0 | 1, path, row: i + 2, split: 'train' });

function sameResults(a: SliceResult[], b: SliceResult[], what: string): void {
  expect(b.length, what).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    expect(y.ok, `${what}: slice ${i} ok`).toBe(x.ok);
    if (x.ok && y.ok) {
      expect(y.bytes.length, `${what}: slice ${i} length`).toBe(x.bytes.length);
      const differ = Buffer.compare(Buffer.from(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength), Buffer.from(y.bytes.buffer, y.bytes.byteOffset, y.bytes.byteLength));
      if (differ) {
        let k = 0;
        while (x.bytes[k] === y.bytes[k]) k++;
        throw new Error(`${what}: slice ${i} differs first at byte ${k}: reference ${x.bytes[k]}, fast ${y.bytes[k]}`);
      }
    } else if (!x.ok && !y.ok) {
      expect(y.quarantine, `${what}: slice ${i} quarantine`).toEqual(x.quarantine);
    }
  }
}

async function both(refs: SliceRef[], opts: ProcessorOptions, fast: FastProcessor): Promise<[SliceResult[], SliceResult[]]> {
  const a = await new InProcessProcessor(opts).process(refs);
  const b = await fast.process(refs);
  return [a, b];
}

describe('table resize: the tfjs-cpu arithmetic, near every rounding boundary', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  // HU 0..1020 through a window normalised to [0, 1] in steps of 1/1020, i.e. half uint8 levels:
  // float32 rounding puts table values, and their bilinear mixes, on and next to k + ½ of 255.
  const halfLevels = compileWindow({ channels: [
    { name: 'a', terms: [{ kind: 'clip', center: 510, width: 1020, norm: 'window' }] },
    { name: 'b', terms: [{ kind: 'clip', center: 255, width: 510, norm: 'window' }] },
    { name: 'c', terms: [{ kind: 'sigmoid', center: 500, width: 900, norm: 'image' }] },
  ] });
  let s = 4242;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  function image(rows: number, cols: number): DicomImage {
    const stored = Int16Array.from({ length: rows * cols }, () => Math.floor(rnd() * 1021));
    return { transferSyntax: '1.2.840.10008.1.2.1', rows, cols, frames: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1,
      photometric: 'MONOCHROME2', stored, slope: 1, intercept: 0, windowCenter: [], windowWidth: [] };
  }
  for (const dtype of ['uint8', 'float16', 'float32'] as OutputDType[]) {
    it(`${dtype}: down 2×, down odd ratios, up, non-square — equal to resizeBilinear + the encoder`, () => {
      let compared = 0;
      for (const [rows, cols, h, w] of [[96, 96, 48, 48], [96, 80, 61, 33], [50, 64, 97, 128], [96, 96, 96, 95]]) {
        const img = image(rows, cols);
        const got = windowLut(halfLevels, [{ ix: storedIndex(img, 'keep')!, meta: sliceMeta(img), rows, cols }], { size: [h, w], dtype })[0];
        const want = tf.tidy(() => {
          const hu = tf.tensor3d(huFrame(img, 0, { padding: 'keep' }), [1, rows, cols]);
          return tf.image.resizeBilinear(applyWindowReference(halfLevels, hu, [sliceMeta(img)]), [h, w], false, true).dataSync() as Float32Array;
        });
        const bytes = encodeValues(want, dtype);
        expect(got.length).toBe(bytes.length);
        const bad = got.findIndex((b, i) => b !== bytes[i]);
        expect(bad, `${rows}×${cols} → ${h}×${w}: first difference at byte ${bad}`).toBe(-1);
        compared += want.length;
      }
      expect(compared).toBeGreaterThan(50_000);
    });
  }
});

describe('fast processor: byte parity with InProcessProcessor on generated phantom CT', () => {
  let dir = '';
  let refs: SliceRef[] = [];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'ctw-fast-'));
    // 40×40 slices plus a non-square 45×52 exam (otherSizeEvery) so both the direct and the resize path run.
    const ds = await generateDataset(dir, { exams: 3, slicesPerExam: 3, rows: 40, cols: 40, seed: 7, otherSizeEvery: 3, otherSize: [45, 52] });
    refs = ds.slices.map((s, i) => refOf(s.path, i));
    // Bad inputs: a missing file and a truncated one, mid-batch.
    const truncated = join(dir, 'truncated.dcm');
    writeFileSync(truncated, readFileSync(ds.slices[0].path).subarray(0, 700));
    refs.splice(2, 0, refOf(join(dir, 'missing.dcm'), 100), refOf(truncated, 101));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the phantom exercises both paths and the bad inputs', async () => {
    const sizes = new Set<string>();
    for (const r of refs.filter((r) => r.path.endsWith('.dcm') && !/missing|truncated/.test(r.path))) {
      const img = await decodeDicom(new Uint8Array(readFileSync(r.path)));
      sizes.add(`${img.rows}x${img.cols}`);
      expect(storedIndex(img, 'air')!.hu.length).toBeGreaterThan(20);
    }
    expect([...sizes].sort()).toEqual(['40x40', '45x52']);
  });

  // Output sizes: identity for the 40×40 slices, down (both axes, non-square), up (both axes).
  const SIZES: [number, number][] = [[40, 40], [24, 32], [64, 57]];
  for (const strategy of STRATEGIES) {
    it(`${strategy}: uint8, float16 and float32 identical at every output size (in-process fast path)`, async () => {
      for (const dtype of ['uint8', 'float16', 'float32'] as OutputDType[]) {
        for (const size of SIZES) {
          const opts: ProcessorOptions = { plan: compileWindow({ strategy }), size, dtype, padding: 'air' };
          const f = await FastProcessor.create(opts, 0);
          const [a, b] = await both(refs, opts, f);
          expect(a.filter((r) => r.ok).length).toBe(9);
          sameResults(a, b, `${strategy}/${dtype}/${size.join('x')}`);
        }
      }
    });
  }

  it('custom channels (one, four) identical at every output size', async () => {
    const windows = [
      { channels: [{ name: 'g', terms: [{ kind: 'sigmoid', center: 60, width: 500 }, { kind: 'raw', weight: 0.2 }], norm: 'image' }], repeat: false },
      { channels: [
        { name: 'a', terms: [{ kind: 'clip', center: 40, width: 400 }] },
        { name: 'b', terms: [{ kind: 'metadata' }], map: { kind: 'spread', index: 2 } },
        { name: 'c', terms: [{ kind: 'clip', center: -600, width: 1500, above: 'floor', norm: 'window' }] },
        { name: 'd', terms: [{ kind: 'sigmoid', center: 100, width: 700 }], map: { kind: 'gradient', component: 'r', floor: 0.01 } },
      ] },
    ];
    for (const w of windows) {
      for (const dtype of ['uint8', 'float16', 'float32'] as OutputDType[]) {
        for (const size of SIZES) {
          const opts: ProcessorOptions = { plan: compileWindow(w as never), size, dtype, padding: 'air' };
          const [a, b] = await both(refs, opts, await FastProcessor.create(opts, 0));
          expect(a.filter((r) => r.ok).length).toBe(9);
          sameResults(a, b, `custom ${opts.plan.channels.length} channels/${dtype}/${size.join('x')}`);
        }
      }
    }
  });

  it('resizing to another size and padding: keep are identical too', async () => {
    for (const strategy of ['sigmoid-ensemble', 'gradient', 'none'] as const) {
      const opts: ProcessorOptions = { plan: compileWindow({ strategy }), size: [24, 32], dtype: 'uint8', padding: 'keep' };
      const f = await FastProcessor.create(opts, 0);
      const [a, b] = await both(refs, opts, f);
      sameResults(a, b, `${strategy} resized`);
    }
  });

  it('worker threads give the same bytes and the pool closes', async () => {
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [40, 40], dtype: 'uint8', padding: 'air' };
    const fast = await createFastProcessor(opts, { workers: 2 }, { chunk: 3 });
    expect(fast).toBeInstanceOf(FastProcessor);
    expect((fast as FastProcessor).threads).toBe(2);
    const [a, b] = await both(refs, opts, fast as FastProcessor);
    sameResults(a, b, 'workers');
    // Several batches in flight at once come back in order.
    const again = await Promise.all([fast.process(refs.slice(0, 4)), fast.process(refs.slice(4))]);
    sameResults(a, again.flat(), 'concurrent batches');
    await fast.close();
    await expect(fast.process(refs)).rejects.toThrow(/closed/);
  });

  it('past the slab cap, released plain output buffers go back transferred and later batches keep the reference bytes', async () => {
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [40, 40], dtype: 'uint8', padding: 'air' };
    // Slab cap 0: every output is a plain ArrayBuffer (test/fast-slabs.test.ts covers the slabs).
    const fast = await FastProcessor.create(opts, 2, 2, new WorkerPool(2, opts, workerScript(), { capBytes: 0 }));
    const want = await new InProcessProcessor(opts).process(refs);
    let detached = 0;
    for (let round = 0; round < 6; round++) {
      // Rotate the batch so each buffer comes back holding a different slice's bytes.
      const k = round % refs.length;
      const batch = [...refs.slice(k), ...refs.slice(0, k)];
      const got = await fast.process(batch);
      sameResults([...want.slice(k), ...want.slice(0, k)], got, `round ${round}`);
      const bytes = got.filter((r) => r.ok).map((r) => (r as { bytes: Uint8Array }).bytes);
      fast.release(bytes);
      // Transferred back to a worker: the views here are detached.
      detached += bytes.filter((b) => b.byteLength === 0).length;
    }
    expect(detached).toBeGreaterThan(0);
    await fast.close();
  });

  it('the worker script is the build\'s; without a build the error says what to run', () => {
    expect(workerScript()).toMatch(/dist\/fast\/worker\.js$/);
    const elsewhere = pathToFileURL(join(dir, 'src', 'fast', 'worker-url.ts')).href;
    expect(() => workerScript(elsewhere)).toThrow(WorkerScriptMissingError);
    expect(() => workerScript(elsewhere)).toThrow(/worker script not found at .*dist\/fast\/worker\.js; build it with `npm run build`/);
  });

  it('workers: auto is one per core; a bad count is refused by name', () => {
    expect(workerCount('auto')).toBeGreaterThanOrEqual(1);
    expect(workerCount(0)).toBe(0);
    expect(() => workerCount(-1 as number)).toThrow(/workers: expected 'auto' or an integer ≥ 0, got -1/);
  });
});

describe.skipIf(!CORPUS)('fast processor: byte parity on shared/corpus/ct', () => {
  const files = CORPUS ? readdirSync(join(CORPUS, 'ct')).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CORPUS!, 'ct', f)) : [];
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sigmoid-ensemble 512×512 uint8 on every file, through the worker pool', async () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [512, 512], dtype: 'uint8', padding: 'air' };
    const fast = await createFastProcessor(opts, { workers: 2 });
    try {
      const refs = files.map(refOf);
      const [a, b] = await both(refs, opts, fast as FastProcessor);
      expect(a.every((r) => r.ok)).toBe(true);
      sameResults(a, b, 'corpus sigmoid-ensemble');
    } finally {
      await fast.close();
    }
  });

  it('every strategy on one file per patient, resized to 256×256', async () => {
    const byPatient = new Map<string, string>();
    for (const f of files) {
      const p = f.split('/').pop()!.split('_')[0];
      if (!byPatient.has(p)) byPatient.set(p, f);
    }
    const refs = [...byPatient.values()].map(refOf);
    for (const strategy of STRATEGIES) {
      const opts: ProcessorOptions = { plan: compileWindow({ strategy }), size: [256, 256], dtype: 'uint8', padding: 'air' };
      const [a, b] = await both(refs, opts, await FastProcessor.create(opts, 0));
      sameResults(a, b, `corpus ${strategy}`);
    }
  });
});
