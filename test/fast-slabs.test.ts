/**
 * Worker outputs in shared slabs (src/fast/slab-pool.ts, worker.ts, pool.ts): each worker
 * announces a bounded number of slabs and every later slice is a view over one of them; bytes
 * equal the in-process fast path (`workers: 0`) over many chunks with release; without release
 * a worker stops at its slab cap (at its smaller first cap until a slot comes back) and falls
 * back to transferred buffers, leaving earlier outputs untouched; a released slot is reused in
 * place; releasing twice, releasing a stale view or releasing foreign views corrupts nothing.
 * Workers load dist/ (`npm run build` first; `npm test` does it).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import type { ProcessorOptions, SliceResult } from '../src/batching/index.js';
import { compileWindow } from '../src/windowing/index.js';
import { FastProcessor, SlabPool, WorkerPool, workerScript, workerSlabCap, SLOT_ALIGN } from '../src/fast/index.js';
import type { SliceRef } from '../src/types.js';

const refOf = (path: string, i: number): SliceRef => ({ study: `s${i >> 3}`, series: 'x', sop: `sop${i}`, label: (i % 2) as 0 | 1, path, row: i + 2, split: 'train' });
/** One WebAssembly page: with 48×48×3 uint8 outputs (6912 → 8192-byte slots), 8 slots per slab. */
const SMALL_SLAB = 65536;

const bytesOf = (rs: SliceResult[]): Uint8Array[] => rs.map((r) => {
  if (!r.ok) throw new Error(`slice ${r.ref.sop} failed: ${r.quarantine.reason}`);
  return r.bytes;
});

function expectSame(want: Uint8Array[], got: Uint8Array[], what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i].byteLength, `${what}: slice ${i} length`).toBe(want[i].byteLength);
    if (Buffer.compare(Buffer.from(want[i]), Buffer.from(got[i].slice())) !== 0) throw new Error(`${what}: slice ${i} differs from the in-process path`);
  }
}

const isSlab = (b: Uint8Array) => b.buffer instanceof SharedArrayBuffer;

describe('fast processor: worker outputs in shared slabs', () => {
  let dir = '';
  let refs: SliceRef[] = [];
  const opts: ProcessorOptions = { plan: compileWindow({ strategy: 'sigmoid-ensemble' }), size: [48, 48], dtype: 'uint8', padding: 'air' };
  let want: Uint8Array[] = [];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'ctw-slabs-'));
    // 32 slices of 48×48; exam 3 is 40×40, so the resize path writes into slots too.
    const ds = await generateDataset(dir, { exams: 4, slicesPerExam: 8, rows: 48, cols: 48, seed: 11, otherSizeEvery: 4, otherSize: [40, 40] });
    refs = ds.slices.map((s, i) => refOf(s.path, i));
    want = bytesOf(await (await FastProcessor.create(opts, 0)).process(refs));
    // The slices differ from each other, so a slot holding the wrong slice is caught.
    expect(new Set(want.map((b) => Buffer.from(b).toString('base64'))).size).toBe(refs.length);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SlabPool: 4096-aligned slots, per-size free lists, a cap, double and foreign frees ignored', () => {
    const p = new SlabPool(3 * SMALL_SLAB, SMALL_SLAB);
    const a = p.take(6912)!;
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(SMALL_SLAB);
    expect(a.byteLength).toBe(6912);
    const b = p.take(6912)!;
    expect(b.buffer).toBe(a.buffer);
    expect([a.byteOffset, b.byteOffset]).toEqual([0, 8192]);
    expect(p.drainNew().map((g) => g.id)).toEqual([0]);
    expect(p.drainNew()).toEqual([]);
    // Another size: a slab of its own (100 000 → 102 400-byte slot, 2 slabs' worth of pages).
    const big = p.take(100_000)!;
    expect(big.buffer).not.toBe(a.buffer);
    expect(big.buffer.byteLength).toBe(2 * SMALL_SLAB);
    expect(p.bytes).toBe(3 * SMALL_SLAB);
    // At the cap: no slot of a size without a free one.
    expect(p.take(200_000)).toBeUndefined();
    expect(p.locate(b)).toEqual([0, 8192, 6912]);
    expect(p.locate(new Uint8Array(8))).toBeUndefined();
    expect(p.give(0, 8192, 6912)).toBe(true);
    expect(p.give(0, 8192, 6912)).toBe(false); // already free
    expect(p.give(0, 100, 6912)).toBe(false); // not a slot start
    expect(p.give(7, 0, 6912)).toBe(false); // no such slab
    expect(p.give(0, 0, 9000)).toBe(false); // longer than the slot
    expect(p.rejected).toBe(4);
    // The freed slot comes back, once.
    expect(p.take(6912)!.byteOffset).toBe(8192);
    expect(p.take(6912)!.byteOffset).toBe(16384);
    for (let i = 3; i < 8; i++) expect(p.take(6912)!.byteOffset % SLOT_ALIGN).toBe(0);
    expect(p.take(6912)).toBeUndefined(); // 8 slots, cap reached
  });

  it('SlabPool: until a slot comes back, slabs stop at the first cap', () => {
    const p = new SlabPool(4 * SMALL_SLAB, SMALL_SLAB, SMALL_SLAB);
    const first = Array.from({ length: 8 }, () => p.take(6912)!);
    expect(p.take(6912)).toBeUndefined(); // one slab: a caller that never releases pins no more
    // A failed chunk's slot going back does not count as a release.
    p.untake(first[7]);
    expect(p.take(6912)!.byteOffset).toBe(first[7].byteOffset);
    expect(p.take(6912)).toBeUndefined();
    expect(p.give(...p.locate(first[0])!)).toBe(true);
    expect(p.take(6912)!.byteOffset).toBe(0);
    // Released once: now up to the cap.
    for (let i = 0; i < 24; i++) expect(p.take(6912), `slot ${i}`).toBeDefined();
    expect(p.take(6912)).toBeUndefined();
    expect(p.count).toBe(4);
  });

  it('the per-worker cap shrinks with the pool size, within bounds', () => {
    expect(workerSlabCap(1)).toBe(192 << 20);
    expect(workerSlabCap(2)).toBe(192 << 20);
    expect(workerSlabCap(4)).toBe(96 << 20);
    expect(workerSlabCap(64)).toBe(32 << 20);
  });

  it('over many chunks with release: a few slabs per worker, every slice a view over one, bytes as in-process', async () => {
    const pool = new WorkerPool(2, opts, workerScript(), { minBytes: SMALL_SLAB });
    const fast = await FastProcessor.create(opts, 2, 16, pool);
    try {
      const buffers = new Set<ArrayBufferLike>();
      for (let round = 0; round < 24; round++) {
        // Rotate the batch so each slot comes back holding a different slice.
        const k = (round * 5) % refs.length;
        const got = bytesOf(await fast.process([...refs.slice(k), ...refs.slice(0, k)]));
        expectSame([...want.slice(k), ...want.slice(0, k)], got, `round ${round}`);
        for (const b of got) {
          expect(isSlab(b), `round ${round}: a slab view`).toBe(true);
          expect(b.byteOffset % SLOT_ALIGN).toBe(0);
          buffers.add(b.buffer);
        }
        fast.release(got);
      }
      const stats = pool.slabStats();
      // 16 slices per chunk in 8-slot slabs: 2 slabs each, 3 at most if a release came late.
      for (const s of stats) {
        expect(s.slabs).toBeGreaterThanOrEqual(2);
        expect(s.slabs).toBeLessThanOrEqual(3);
      }
      // One SharedArrayBuffer object per slab on this side, not one per slice.
      expect(buffers.size).toBe(stats.reduce((n, s) => n + s.slabs, 0));
    } finally {
      await fast.close();
    }
  });

  it('without release: past the cap a worker falls back to transferred buffers, and earlier outputs stay intact', async () => {
    const pool = new WorkerPool(2, opts, workerScript(), { minBytes: SMALL_SLAB, capBytes: 2 * SMALL_SLAB });
    const fast = await FastProcessor.create(opts, 2, 8, pool);
    try {
      const kept: Uint8Array[][] = [];
      for (let round = 0; round < 4; round++) {
        const got = bytesOf(await fast.process(refs));
        expectSame(want, got, `round ${round}`);
        kept.push(got);
      }
      const all = kept.flat();
      const slab = all.filter(isSlab);
      const plain = all.filter((b) => !isSlab(b));
      // 2 workers × 2 slabs × 8 slots, then plain buffers of their own.
      expect(slab.length).toBe(32);
      expect(plain.length).toBe(all.length - 32);
      for (const b of plain) expect(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength).toBe(true);
      for (const s of pool.slabStats()) expect(s).toEqual({ slabs: 2, bytes: 2 * SMALL_SLAB });
      // No slot was handed out twice: every round still holds its own bytes.
      kept.forEach((got, round) => expectSame(want, got, `round ${round}, read again at the end`));
    } finally {
      await fast.close();
    }
  });

  it('a worker whose slots never come back stops at the first cap; the first release lifts it', async () => {
    const pool = new WorkerPool(2, opts, workerScript(), { minBytes: SMALL_SLAB, firstCapBytes: SMALL_SLAB, capBytes: 4 * SMALL_SLAB });
    const fast = await FastProcessor.create(opts, 2, 8, pool);
    try {
      const before = bytesOf(await fast.process(refs));
      expectSame(want, before, 'before any release');
      expect(before.filter(isSlab).length).toBe(16); // 2 workers × 1 slab × 8 slots
      for (const s of pool.slabStats()) expect(s.slabs).toBe(1);
      fast.release(before);
      const after = bytesOf(await fast.process(refs));
      expectSame(want, after, 'after the first release');
      expect(after.every(isSlab)).toBe(true);
      expect(pool.slabStats().reduce((n, s) => n + s.slabs, 0)).toBeGreaterThanOrEqual(4);
    } finally {
      await fast.close();
    }
  });

  it('a released slot is reused in place and overwritten with the new slice; stale, double and foreign releases corrupt nothing', async () => {
    const pool = new WorkerPool(1, opts, workerScript(), { minBytes: SMALL_SLAB });
    const fast = await FastProcessor.create(opts, 1, 16, pool);
    try {
      const [a] = bytesOf(await fast.process([refs[0]]));
      expectSame([want[0]], [a], 'first');
      const where = { buffer: a.buffer, offset: a.byteOffset };
      fast.release([a]);
      const [b] = bytesOf(await fast.process([refs[9]]));
      expect(b.buffer).toBe(where.buffer); // same slab (the same SharedArrayBuffer object here)
      expect(b.byteOffset).toBe(where.offset); // same slot
      expectSame([want[9]], [b], 'reused slot');
      expect(Buffer.compare(Buffer.from(want[0]), Buffer.from(want[9]))).not.toBe(0);
      // `a` is stale now (its slot holds b): releasing it again must not free b's slot.
      fast.release([a]);
      expect(pool.staleReleases).toBe(1);
      const held = bytesOf(await fast.process([refs[1], refs[2]]));
      expectSame([want[1], want[2]], held, 'while b is held');
      expect(held.map((v) => v.byteOffset)).not.toContain(where.offset);
      expectSame([want[9]], [b], 'b after a stale release');
      // Released twice (two calls), as a part, and views the pool never made: the worker must
      // get the slot back once only.
      fast.release([b]);
      fast.release([b, b.subarray(1)]);
      fast.release([new Uint8Array(new SharedArrayBuffer(8192)), new Uint8Array(new ArrayBuffer(16), 8)]);
      expect(pool.staleReleases).toBe(3);
      const got = bytesOf(await fast.process([refs[3], refs[4], refs[5]]));
      expectSame([want[3], want[4], want[5]], got, 'after double release');
      expect(new Set([...got, ...held].map((v) => v.byteOffset)).size).toBe(5);
      expect(got[0].byteOffset).toBe(where.offset);
      expectSame([want[1], want[2]], held, 'held, after more slices');
      expect(pool.slabStats()).toEqual([{ slabs: 1, bytes: SMALL_SLAB }]);
      await fast.close();
      // Views outlive the pool (they hold the slab's memory).
      expectSame([want[3], want[4], want[5]], got, 'after close');
    } finally {
      await fast.close();
    }
  });

  it('float32 outputs (3 × 48 × 48 × 4 bytes) through slabs equal the in-process path', async () => {
    const o32: ProcessorOptions = { ...opts, dtype: 'float32' };
    const ref32 = bytesOf(await (await FastProcessor.create(o32, 0)).process(refs));
    const fast = await FastProcessor.create(o32, 2, 4, new WorkerPool(2, o32, workerScript(), { minBytes: SMALL_SLAB }));
    try {
      for (let round = 0; round < 3; round++) {
        const got = bytesOf(await fast.process(refs));
        expect(got.every(isSlab)).toBe(true);
        expectSame(ref32, got, `float32 round ${round}`);
        fast.release(got);
      }
    } finally {
      await fast.close();
    }
  });
});
