/**
 * The pieces of the fast path, against the reference directly: the JavaScript mirror of the
 * plan arithmetic (plan-js.ts) equals applyWindowReference bit for bit for every strategy and
 * its check rejects a mirror that is off by one ulp; the distinct-value index reproduces
 * huFrame pixel for pixel (padding, MONOCHROME1, unsigned and signed storage).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './helpers/shared.js';
import { applyWindowReference, compileWindow, STRATEGIES, type SliceWindowMeta, type WindowPlan } from '../src/windowing/index.js';
import { compilePlanJs } from '../src/fast/plan-js.js';
import { verifyPlanJs } from '../src/fast/plan-verify.js';
import { storedIndex, pixelSlots, encodeUint8 } from '../src/fast/index.js';
import { tensorBytes } from '../src/batching/index.js';
import { decodeDicom, huFrame } from '../src/dicom/index.js';
import { phantomSlice } from '../src/fixtures/index.js';
import type { DicomImage } from '../src/types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const metaA: SliceWindowMeta = { windowCenter: [40], windowWidth: [350], slope: 1, intercept: -1024 };
const metaB: SliceWindowMeta = { windowCenter: [-600.7], windowWidth: [1499.5], slope: -0.75, intercept: 12.5 };

function reference(plan: WindowPlan, hu: Float32Array, meta: SliceWindowMeta): Float32Array {
  return tf.tidy(() => applyWindowReference(plan, tf.tensor3d(hu, [1, 1, hu.length]), [meta]).dataSync() as Float32Array);
}

describe('plan-js: the plan mirrored in JavaScript', () => {
  // A phantom slice's HU values (air, lungs, soft tissue, contrast, bone, noise), distinct.
  const hu = Float32Array.from(new Set(phantomSlice({ rows: 96, cols: 96, z: 0.5, positive: true, seed: 3, examJitter: 0.2 })));

  for (const strategy of STRATEGIES) {
    it(`${strategy}: bit-identical to applyWindowReference`, () => {
      const plan = compileWindow({ strategy });
      const fn = compilePlanJs(plan);
      expect(fn).toBeTypeOf('function');
      expect(hu.length).toBeGreaterThan(500);
      for (const meta of [metaA, metaB]) {
        const want = reference(plan, hu, meta);
        const got = fn!(hu, meta);
        expect(got.length).toBe(want.length);
        let bad = -1;
        for (let i = 0; i < got.length && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
        expect(bad, `first difference at ${bad}: ${got[bad]} vs ${want[bad]}`).toBe(-1);
      }
      expect(verifyPlanJs(plan, fn!, [metaA, metaB])).toBe(true);
    });
  }

  it('remembered sigmoid values (integer HU, across calls) give the same bits as computing them', () => {
    const plan = compileWindow({ strategy: 'sigmoid-gradient-ensemble' });
    const warm = compilePlanJs(plan)!;
    // Integer HU over CT's range, then overlapping and shuffled sets, some non-integer.
    const ints = Float32Array.from({ length: 4001 }, (_, i) => i - 2000);
    warm(ints, metaA);
    const sets = [
      ints.subarray(1500, 2600),
      Float32Array.from([...ints.subarray(0, 300)].reverse()),
      Float32Array.from([-1000, -999.5, 0, 0.25, 40, 40, 3071, -3024, 2047.75]),
    ];
    for (const x of sets) {
      const fresh = compilePlanJs(plan)!(x, metaA); // nothing remembered
      const got = warm(x, metaA); // mostly remembered
      expect(Buffer.from(got.buffer).equals(Buffer.from(fresh.buffer))).toBe(true);
      expect(Buffer.from(got.buffer).equals(Buffer.from(reference(plan, x, metaA).buffer))).toBe(true);
    }
  });

  it('the check rejects a mirror one ulp off, and unknown kinds are not compiled', () => {
    const plan = compileWindow({ strategy: 'sigmoid-ensemble' });
    const fn = compilePlanJs(plan)!;
    const off = (x: Float32Array, m: SliceWindowMeta) => {
      const t = fn(x, m);
      const bits = new Uint32Array(t.buffer);
      bits[Math.floor(bits.length / 2)] += 1;
      return t;
    };
    expect(verifyPlanJs(plan, off, [metaA])).toBe(false);
    const odd = { ...plan, outputs: plan.outputs.map((o) => ({ ...o, map: { kind: 'posterize' } })) } as unknown as WindowPlan;
    expect(compilePlanJs(odd)).toBeUndefined();
  });
});

describe('encodeUint8: the uint8 encoding without tfjs', () => {
  it('equals tensorBytes(…, "uint8") bit for bit, ties, out-of-range and NaN included', async () => {
    const v: number[] = [0, 1, -0, -1e-9, 1.0000001, 2, -3, NaN, Infinity, -Infinity, 0.5 / 255, 1.5 / 255, 2.5 / 255, 254.5 / 255];
    // Every half-level boundary and its float32 neighbours.
    for (let k = 0; k <= 255; k++) {
      const x = (k + 0.5) / 255;
      v.push(x, Math.fround(x) + 2 ** -30, Math.fround(x) - 2 ** -30, k / 255);
    }
    let s = 99;
    for (let i = 0; i < 4000; i++) v.push((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const x = Float32Array.from(v);
    const want = await tensorBytes(tf.tensor1d(x), 'uint8');
    expect([...encodeUint8(x)]).toEqual([...want]);
  });
});

describe('storedIndex: distinct values and per-pixel index', () => {
  function check(img: DicomImage, padding: 'air' | 'keep') {
    const ix = storedIndex(img, padding)!;
    const want = huFrame(img, 0, { padding });
    const slot = pixelSlots(ix);
    expect(slot.length).toBe(img.rows * img.cols);
    for (let p = 0; p < want.length; p++) if (!Object.is(ix.hu[slot[p]], want[p])) throw new Error(`pixel ${p}: ${ix.hu[slot[p]]} vs ${want[p]}`);
    // Keys are the distinct stored values, ascending, each used by some pixel.
    expect([...ix.keys]).toEqual([...new Set(Array.from(img.stored.subarray(0, img.rows * img.cols), (v) => v - ix.base))].sort((a, b) => a - b));
  }

  const base = (stored: DicomImage['stored'], extra: Partial<DicomImage> = {}): DicomImage => ({
    transferSyntax: '1.2.840.10008.1.2.1', rows: 4, cols: 5, frames: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12,
    pixelRepresentation: stored instanceof Int16Array ? 1 : 0, photometric: 'MONOCHROME2', stored, slope: 1.5, intercept: -1024,
    windowCenter: [], windowWidth: [], ...extra,
  });

  it('signed, unsigned, padding ranges and MONOCHROME1 reproduce huFrame exactly', () => {
    const s16 = Int16Array.from([-2000, -2000, 0, 1, 2, 3, 4095, -5, 7, 7, 7, 8, 9, 10, -2000, 11, 12, 13, 14, 15]);
    const u16 = Uint16Array.from(s16, (v) => v + 2048);
    for (const padding of ['air', 'keep'] as const) {
      check(base(s16), padding);
      // A view at an odd 16-bit offset (as decoded straight from a file buffer), odd pixel count.
      const shifted = new Int16Array(s16.length + 2);
      shifted.set(s16, 1);
      check(base(shifted.subarray(1, 1 + 15), { rows: 3, cols: 5 }), padding);
      check(base(s16, { pixelPaddingValue: -2000 }), padding);
      check(base(u16, { pixelPaddingValue: 0, pixelPaddingRangeLimit: 48, photometric: 'MONOCHROME1' }), padding);
      check(base(Int32Array.from(s16), { bitsAllocated: 32, bitsStored: 32 }), padding);
      check(base(Uint8Array.from(s16, (v) => v & 255), { bitsAllocated: 8, bitsStored: 8 }), padding);
    }
  });

  it('float pixel data is left to the reference path', () => {
    expect(storedIndex(base(new Float32Array(20)), 'air')).toBeUndefined();
  });

  it.skipIf(!CORPUS)('real CT from shared/corpus/ct', async () => {
    const dir = join(CORPUS!, 'ct');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.dcm')).slice(0, 6)) {
      check(await decodeDicom(new Uint8Array(readFileSync(join(dir, f)))), 'air');
    }
  });
});
