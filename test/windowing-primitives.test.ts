/**
 * Every registered primitive's forms against each other: the table form (plain JavaScript,
 * the CPU executors) equals the tfjs form (the reference) bit for bit, term by term and map by
 * map, with every normalisation, on phantom HU sets and on real CT; compiled plans (the twelve
 * strategies and custom channels) equal applyWindowReference; a kind no primitive defines is
 * refused by name. Then the one encoder against the tfjs chain it mirrors, and the
 * distinct-value index against huFrame (padding, MONOCHROME1, unsigned and signed storage).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './helpers/shared.js';
import {
  applyWindowReference,
  compileTable,
  compileWindow,
  MAPS,
  planProblem,
  STRATEGIES,
  TERMS,
  type ChannelMap,
  type SliceWindowMeta,
  type WindowPlan,
  type WindowTerm,
} from '../src/windowing/index.js';
import { storedIndex, pixelSlots } from '../src/fast/index.js';
import { encodeValues, toFloat16Bits } from '../src/batching/index.js';
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

function firstDifference(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return -2;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return i;
  return -1;
}

// A phantom slice's HU values (air, lungs, soft tissue, contrast, bone, noise), distinct.
const phantomHu = Float32Array.from(new Set(phantomSlice({ rows: 96, cols: 96, z: 0.5, positive: true, seed: 3, examJitter: 0.2 })));
// Non-integer HU (slope ≠ 1), a constant set and a single value.
let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const huSets: Float32Array[] = [
  phantomHu,
  Float32Array.from({ length: 300 }, () => Math.fround(rnd() * 3000 - 1200 + rnd() * 0.37)),
  Float32Array.of(-1000, -1000, -1000),
  Float32Array.of(5),
];

/** Arguments of every registered term kind, each normalisation and edge included. */
const TERM_CASES: Record<keyof typeof TERMS, WindowTerm[]> = {
  raw: [{ kind: 'raw', weight: 1 }],
  clip: [
    { kind: 'clip', center: 40, width: 80, above: 'clamp', norm: 'image', weight: 1 },
    { kind: 'clip', center: 40, width: 80, above: 'floor', norm: 'image', weight: 1 },
    { kind: 'clip', center: -600, width: 1500, above: 'clamp', norm: 'window', weight: 1 },
    { kind: 'clip', center: 100, width: 701, above: 'floor', norm: 'window', weight: 1 },
    { kind: 'clip', center: 0, width: 0, source: 'metadata', truncate: true, above: 'clamp', norm: 'window', weight: 1 },
    { kind: 'clip', center: 0, width: 0, source: 'metadata', truncate: false, above: 'floor', norm: 'image', weight: 1 },
  ],
  sigmoid: [
    { kind: 'sigmoid', center: 40, width: 80, U: 1, eps: 1 / 255, norm: 'image', weight: 1 },
    { kind: 'sigmoid', center: 600, width: 2000, U: 1, eps: 1 / 255, norm: 'none', weight: 1 },
    { kind: 'sigmoid', center: -50.5, width: 333, U: 2.5, eps: 0.01, norm: 'none', weight: 1 },
  ],
};

const MAP_CASES: Record<keyof typeof MAPS, ChannelMap[]> = {
  identity: [{ kind: 'identity' }],
  spread: [0, 1, 2].map((index) => ({ kind: 'spread', index }) as ChannelMap),
  gradient: (['r', 'g', 'b'] as const).flatMap((component) => [0, 0.01].map((floor) => ({ kind: 'gradient', component, floor }) as ChannelMap)),
};

/** A one-output plan of one term and one map. */
function planOf(term: WindowTerm, map: ChannelMap = { kind: 'identity' }, norm: 'image' | 'none' = 'none', weight = 1): WindowPlan {
  return {
    version: 1, name: 'custom', channels: ['c'], scalars: [{ terms: [{ ...term, weight }], norm }],
    outputs: [{ name: 'c', scalar: 0, map }], needsMetadata: term.kind === 'clip' && term.source === 'metadata',
  };
}

describe('primitives: table form = tfjs form, bit for bit', () => {
  it('every registered kind has cases here (a new primitive needs its own)', () => {
    expect(Object.keys(TERM_CASES).sort()).toEqual(Object.keys(TERMS).sort());
    expect(Object.keys(MAP_CASES).sort()).toEqual(Object.keys(MAPS).sort());
  });

  for (const [kind, cases] of Object.entries(TERM_CASES)) {
    it(`term ${kind}: every case, both metas, every HU set; weighted and image-normalised scalars`, () => {
      for (const term of cases) {
        for (const [norm, weight] of [['none', 1], ['image', 0.35]] as const) {
          const plan = planOf(term, { kind: 'identity' }, norm, weight);
          const fn = compileTable(plan);
          for (const meta of [metaA, metaB]) {
            for (const hu of huSets) {
              const bad = firstDifference(fn(hu, meta), reference(plan, hu, meta));
              expect(bad, `${JSON.stringify(term)} norm ${norm}: first difference at ${bad}`).toBe(-1);
            }
          }
        }
      }
    });
  }

  for (const [kind, cases] of Object.entries(MAP_CASES)) {
    it(`map ${kind}: every case on grey values in and around [0, 1]`, () => {
      const term: WindowTerm = { kind: 'sigmoid', center: 40, width: 400, U: 1.3, eps: 0.05, norm: 'none', weight: 1 };
      const grey = Float32Array.from({ length: 4001 }, (_, i) => i - 2000);
      for (const map of cases) {
        const plan = planOf(term, map);
        const bad = firstDifference(compileTable(plan)(grey, metaA), reference(plan, grey, metaA));
        expect(bad, `${JSON.stringify(map)}: first difference at ${bad}`).toBe(-1);
      }
    });
  }

  for (const strategy of STRATEGIES) {
    it(`${strategy}: the compiled plan equals applyWindowReference`, () => {
      const plan = compileWindow({ strategy });
      const fn = compileTable(plan);
      expect(phantomHu.length).toBeGreaterThan(500);
      for (const meta of [metaA, metaB]) {
        for (const hu of huSets) {
          const bad = firstDifference(fn(hu, meta), reference(plan, hu, meta));
          expect(bad, `first difference at ${bad}`).toBe(-1);
        }
      }
    });
  }

  it('custom channels (three terms, weights, image-normalised sum, mixed maps) equal the reference', () => {
    const plan = compileWindow({
      channels: [
        { name: 'mix', terms: [{ kind: 'clip', center: 40, width: 400 }, { kind: 'sigmoid', center: 100, width: 700, weight: 0.6 }, { kind: 'raw', weight: 0.1 }], norm: 'image', map: { kind: 'gradient', component: 'g' } },
        { name: 'meta', terms: [{ kind: 'metadata' }], map: { kind: 'spread', index: 1 } },
        { name: 'excl', terms: [{ kind: 'clip', center: -600, width: 1500, above: 'floor', norm: 'window' }] },
      ],
    });
    for (const meta of [metaA, metaB]) {
      for (const hu of huSets) expect(firstDifference(compileTable(plan)(hu, meta), reference(plan, hu, meta))).toBe(-1);
    }
  });

  it('remembered sigmoid values (integer HU, across calls) give the same bits as computing them', () => {
    const plan = compileWindow({ strategy: 'sigmoid-gradient-ensemble' });
    const warm = compileTable(plan);
    const ints = Float32Array.from({ length: 4001 }, (_, i) => i - 2000);
    warm(ints, metaA);
    const sets = [
      ints.subarray(1500, 2600),
      Float32Array.from([...ints.subarray(0, 300)].reverse()),
      Float32Array.from([-1000, -999.5, 0, 0.25, 40, 40, 3071, -3024, 2047.75]),
    ];
    for (const x of sets) {
      const fresh = compileTable(plan)(x, metaA); // nothing remembered
      const got = warm(x, metaA); // mostly remembered
      expect(Buffer.from(got.buffer).equals(Buffer.from(fresh.buffer))).toBe(true);
      expect(Buffer.from(got.buffer).equals(Buffer.from(reference(plan, x, metaA).buffer))).toBe(true);
    }
  });

  it('a kind no primitive defines, or a bad argument, is refused by name', () => {
    const plan = compileWindow({ strategy: 'sigmoid-ensemble' });
    const odd = { ...plan, outputs: plan.outputs.map((o) => ({ ...o, map: { kind: 'posterize' } })) } as unknown as WindowPlan;
    expect(planProblem(odd)).toMatch(/output 0: unknown channel map 'posterize' \(known: identity, gradient, spread\)/);
    expect(() => compileTable(odd)).toThrow(/posterize/);
    const badTerm = { ...plan, scalars: [{ terms: [{ kind: 'gamma', weight: 1 }], norm: 'none' }] } as unknown as WindowPlan;
    expect(planProblem(badTerm)).toMatch(/scalar 0 term 0: unknown term kind 'gamma'/);
    const nanWeight = planOf({ kind: 'raw', weight: 1 }, { kind: 'identity' }, 'none', NaN);
    expect(planProblem(nanWeight)).toMatch(/weight NaN is not finite/);
    expect(() => applyWindowReference(odd, tf.zeros([1, 2, 2]) as tf.Tensor3D, [metaA])).toThrow(/posterize/);
  });
});

/** binary16 bits of a float32 value by plain arithmetic (scale by a power of two, round half to even). */
function halfBitsReference(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | 0x7c00;
  const even = (q: number) => {
    const f = Math.floor(q);
    return q - f > 0.5 || (q - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  };
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) return sign | even(a / 2 ** -24); // subnormal (may round up to the smallest normal: same bits)
  const m = even(a / 2 ** (e - 10)); // 1024 … 2048
  const bits = ((e + 15) << 10) + (m - 1024);
  return sign | (bits >= 0x7c00 ? 0x7c00 : bits);
}

describe('the one encoder', () => {
  it('float16 equals plain round-half-to-even arithmetic: every exponent, ties, subnormals, overflow', () => {
    const v: number[] = [0, -0, 1, -1, 0.5, 65504, 65519.99, 65520, 1e6, -1e6, Infinity, -Infinity, 2 ** -14, 2 ** -15, 2 ** -24, 2 ** -25, 2 ** -26, 3 * 2 ** -26];
    for (let e = -26; e <= 16; e++) for (const m of [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -10, 1.5, 2 - 2 ** -11, 2 - 2 ** -12]) v.push(Math.fround(m * 2 ** e));
    let s = 7;
    for (let i = 0; i < 20000; i++) v.push(Math.fround(((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 ** ((i % 40) - 24)));
    for (const x of v) expect(toFloat16Bits(x), `${x}`).toBe(halfBitsReference(Math.fround(x)));
    expect(toFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('uint8 equals tfjs-cpu cast(clip(round(x × 255))) bit for bit, ties, out-of-range and NaN included', async () => {
    const v: number[] = [0, 1, -0, -1e-9, 1.0000001, 2, -3, NaN, Infinity, -Infinity, 0.5 / 255, 1.5 / 255, 2.5 / 255, 254.5 / 255];
    // Every half-level boundary and its float32 neighbours.
    for (let k = 0; k <= 255; k++) {
      const x = (k + 0.5) / 255;
      v.push(x, Math.fround(x) + 2 ** -30, Math.fround(x) - 2 ** -30, k / 255);
    }
    let s = 99;
    for (let i = 0; i < 4000; i++) v.push((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const x = Float32Array.from(v);
    const q = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(tf.mul(tf.tensor1d(x), 255)), 0, 255), 'int32'));
    const want = Uint8Array.from(q.dataSync());
    q.dispose();
    expect([...encodeValues(x, 'uint8')]).toEqual([...want]);
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
