/**
 * What a worker thread loads only on first need gives the same bytes as InProcessProcessor:
 * tfjs for slices the lookup table cannot take (32-bit stored values over a range wider than
 * 2^20) and for resizing, the codecs (WASM) for the first compressed slice (every transfer
 * syntax of shared/corpus/syntax; skipped, saying so, without ../shared).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { CORPUS } from './helpers/shared.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { InProcessProcessor, type ProcessorOptions } from '../src/batching/index.js';
import { compileWindow } from '../src/windowing/index.js';
import { createFastProcessor, FastProcessor } from '../src/fast/index.js';

describe('fast processor: the reference path in worker threads', () => {
  it('32-bit stored values over a > 2^20 range: windowed on the worker with tfjs, same bytes as in-process', async () => {
    await tf.setBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'ctw-slow-'));
    const rows = 16;
    const cols = 16;
    // Stored values spread over −2^21 … 2^21 (slope 1/1024 keeps HU in a CT-like range).
    const px = Int32Array.from({ length: rows * cols }, (_, i) => ((i * 2654435761) % 4_194_304) - 2_097_152);
    const path = join(dir, 'wide.dcm');
    writeFileSync(path, writeDicom({ transferSyntax: '1.2.840.10008.1.2.1', elements: ctElements({ rows, cols, bitsAllocated: 32, slope: 1 / 1024, intercept: 0 }), pixelData: px as unknown as Uint8Array }));
    const refs = [0, 1, 2].map((i) => ({ study: 's', series: 'x', sop: `sop${i}`, label: 0 as const, path, row: i + 2, split: 'train' as const }));
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [rows, cols], dtype: 'uint8', padding: 'air' };
    const want = await new InProcessProcessor(opts).process(refs);
    expect(want.every((r) => r.ok), JSON.stringify(want.find((r) => !r.ok))).toBe(true);
    const fast = (await createFastProcessor(opts, { workers: 2 }, { chunk: 1 })) as FastProcessor;
    expect(fast.threads).toBe(2);
    const got = await fast.process(refs);
    await fast.close();
    for (let i = 0; i < refs.length; i++) {
      expect(got[i].ok, JSON.stringify(got[i])).toBe(true);
      expect(Buffer.from((got[i] as { bytes: Uint8Array }).bytes).equals(Buffer.from((want[i] as { bytes: Uint8Array }).bytes))).toBe(true);
    }
  });
});

describe.skipIf(!CORPUS)('fast processor: every transfer syntax of shared/corpus/syntax through the worker pool', () => {
  it('codecs load in the workers on first need; resized outputs and quarantine reasons equal the in-process reference', async () => {
    await tf.setBackend('cpu');
    const files = readdirSync(join(CORPUS!, 'syntax')).filter((f) => f.endsWith('.dcm')).sort();
    const refs = files.map((f, i) => ({ study: 's', series: 'x', sop: f, label: 0 as const, path: join(CORPUS!, 'syntax', f), row: i + 2, split: 'train' as const }));
    const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [48, 48], dtype: 'uint8', padding: 'air' };
    const want = await new InProcessProcessor(opts).process(refs);
    const fast = (await createFastProcessor(opts, { workers: 2 }, { chunk: 2 })) as FastProcessor;
    const got = await fast.process(refs);
    await fast.close();
    expect(want.filter((r) => r.ok).length).toBeGreaterThan(8); // compressed syntaxes among them
    for (let i = 0; i < refs.length; i++) {
      expect(got[i].ok, files[i]).toBe(want[i].ok);
      if (want[i].ok) expect(Buffer.from((got[i] as { bytes: Uint8Array }).bytes).equals(Buffer.from((want[i] as { bytes: Uint8Array }).bytes)), files[i]).toBe(true);
      else expect((got[i] as { quarantine: unknown }).quarantine, files[i]).toEqual((want[i] as { quarantine: unknown }).quarantine);
    }
  });
});
