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
import { FastProcessor, WorkerPool, createFastProcessor, storedIndex, workerCount, workerScript, WorkerScriptMissingError } from '../src/fast/index.js';
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

describe('fast processor: byte parity with InProcessProcessor on generated phantom CT', () => {
  let dir = '';
  let refs: SliceRef[] = [];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'ctw-fast-'));
    // 40×40 slices plus a 45×45 exam (otherSizeEvery) so both the direct and the resize path run.
    const ds = await generateDataset(dir, { exams: 3, slicesPerExam: 3, rows: 40, cols: 40, seed: 7, otherSizeEvery: 3, otherSize: [45, 45] });
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
    expect([...sizes].sort()).toEqual(['40x40', '45x45']);
  });

  for (const strategy of STRATEGIES) {
    it(`${strategy}: uint8, float16 and float32 identical (in-process fast path)`, async () => {
      for (const dtype of ['uint8', 'float16', 'float32'] as OutputDType[]) {
        const opts: ProcessorOptions = { plan: compileWindow({ strategy }), size: [40, 40], dtype, padding: 'air' };
        const f = await FastProcessor.create(opts, 0);
        const [a, b] = await both(refs, opts, f);
        expect(a.filter((r) => r.ok).length).toBe(9);
        sameResults(a, b, `${strategy}/${dtype}`);
      }
    });
  }

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
