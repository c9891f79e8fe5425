/**
 * Properties of the windowing stage on generated HU images (no corpus needed): outputs in
 * [0,1] and never NaN, batch = slice by slice, LUT path = reference, no tensor leak,
 * the seed's NaN cases guarded, the config rejected with the field named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  applyWindow,
  applyWindowTable,
  applyWindowReference,
  compileWindow,
  STRATEGIES,
  windowProblem,
  windowSchema,
  type SliceWindowMeta,
  type WindowPlan,
} from '../src/windowing/index.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random CT-like HU batch: air, soft tissue, bone, a few outliers, sometimes non-integer. */
function randomBatch(r: () => number, B: number, H: number, W: number, integer: boolean): Float32Array {
  const v = new Float32Array(B * H * W);
  for (let i = 0; i < v.length; i++) {
    const k = r();
    const base = k < 0.3 ? -1000 : k < 0.8 ? 40 : k < 0.97 ? 700 : 3000;
    const x = base + (r() - 0.5) * 400;
    v[i] = integer ? Math.round(x) : x;
  }
  return v;
}

const META: SliceWindowMeta = { windowCenter: [40], windowWidth: [350], slope: 1, intercept: -1024 };

describe('windowing properties (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('every strategy: [0,1], no NaN, C = 3, batch = slices one by one, LUT = reference', () => {
    const r = rng(7);
    for (const strategy of STRATEGIES) {
      const plan = compileWindow({ strategy });
      const B = 1 + Math.floor(r() * 3);
      const H = 1 + Math.floor(r() * 17);
      const W = 1 + Math.floor(r() * 23);
      const data = randomBatch(r, B, H, W, r() < 0.7);
      const metas = Array.from({ length: B }, (_, b) => ({ ...META, windowCenter: [40 + 100 * b], slope: b === 2 ? -1 : 1 }));
      const hu = tf.tensor3d(data, [B, H, W]);
      const ref = applyWindowReference(plan, hu, metas);
      const lut = applyWindowTable(tf, plan, hu, metas)!;
      const viaApply = applyWindow(plan, hu, metas);
      expect(ref.shape, strategy).toEqual([B, H, W, 3]);
      const rv = ref.dataSync();
      for (const x of rv) {
        expect(Number.isNaN(x), strategy).toBe(false);
        expect(x >= 0 && x <= 1, `${strategy}: ${x}`).toBe(true);
      }
      expect(Array.from(lut.dataSync()), `${strategy} lut`).toEqual(Array.from(rv));
      expect(Array.from(viaApply.dataSync()), `${strategy} applyWindow`).toEqual(Array.from(rv));
      for (let b = 0; b < B; b++) {
        const one = tf.tidy(() => applyWindowReference(plan, tf.slice(hu, [b, 0, 0], [1, H, W]) as tf.Tensor3D, [metas[b]]));
        const part = Array.from(rv.subarray(b * H * W * 3, (b + 1) * H * W * 3));
        expect(Array.from(one.dataSync()), `${strategy} slice ${b}`).toEqual(part);
        one.dispose();
      }
      tf.dispose([hu, ref, lut, viaApply]);
    }
  });

  it('LUT path = reference also for a wide integer span and for non-integer HU', () => {
    const r = rng(9);
    const wide = new Float32Array(64).map(() => Math.round((r() - 0.5) * 4e6));
    const frac = new Float32Array(64).map(() => (r() - 0.5) * 3000);
    for (const strategy of STRATEGIES) {
      const plan = compileWindow({ strategy });
      for (const v of [wide, frac]) {
        const hu = tf.tensor3d(v, [1, 8, 8]);
        const a = applyWindowTable(tf, plan, hu, [META])!;
        const b = applyWindowReference(plan, hu, [META]);
        expect(Array.from(a.dataSync()), strategy).toEqual(Array.from(b.dataSync()));
        tf.dispose([hu, a, b]);
      }
    }
  });

  it('none: min–max of stored values, also for a negative slope', () => {
    const plan = compileWindow({ strategy: 'none', repeat: false });
    const stored = [0, 10, 20, 40];
    for (const slope of [2, -2]) {
      const hu = tf.tensor3d(stored.map((s) => s * slope + 5), [1, 2, 2]);
      const out = applyWindow(plan, hu, [{ ...META, slope, intercept: 5 }]);
      expect(Array.from(out.dataSync())).toEqual(stored.map((s) => s / 40));
      tf.dispose([hu, out]);
    }
  });

  it('a constant image gives zeros (the seed gives NaN)', () => {
    for (const strategy of STRATEGIES) {
      const plan = compileWindow({ strategy });
      const hu = tf.fill([2, 4, 5], 37) as tf.Tensor3D;
      const out = applyWindowReference(plan, hu, [META, META]);
      const v = out.dataSync();
      expect(v.every((x) => !Number.isNaN(x) && x >= 0 && x <= 1), strategy).toBe(true);
      if (strategy !== 'metadata') expect(v.every((x) => x === 0), strategy).toBe(true);
      tf.dispose([hu, out]);
    }
  });

  it('exclusive: values above the window drop to its floor; metadata is normalised by the window', () => {
    const hu = tf.tensor3d([-100, 0, 40, 80, 81, 500], [1, 2, 3]);
    const ex = compileWindow({ strategy: 'exclusive', params: { windows: [{ center: 40, width: 80 }, { center: 40, width: 80 }, { center: 40, width: 80 }] } });
    const out = applyWindow(ex, hu, [META]);
    // window [0, 80]: -100 → 0, 0, 40, 80, 81 → 0, 500 → 0; image range 0..80
    expect(Array.from(out.dataSync()).filter((_, i) => i % 3 === 0)).toEqual([0, 0, 0.5, 1, 0, 0]);
    const md = compileWindow({ strategy: 'metadata', repeat: false });
    // tags 40/350 → [-135, 215] (int(), floor division as the seed)
    const m = applyWindow(md, hu, [{ ...META, windowCenter: [40.9], windowWidth: [351] }]);
    expect(Array.from(m.dataSync())).toEqual([35, 135, 175, 215, 216, 350].map((x) => Math.fround(Math.min(x, 350) / 350)));
    tf.dispose([hu, out, m]);
  });

  it('metadata without window tags: quarantine reason, or the configured fallback', () => {
    const noTags: SliceWindowMeta = { windowCenter: [], windowWidth: [], slope: 1, intercept: 0 };
    const plan = compileWindow({ strategy: 'metadata' });
    expect(windowProblem(plan, noTags)).toMatch(/no WindowCenter\/WindowWidth tags.*window\.fallback/);
    expect(windowProblem(plan, META)).toBeUndefined();
    expect(windowProblem(compileWindow({ strategy: 'lung' }), noTags)).toBeUndefined();
    expect(windowProblem(compileWindow({ strategy: 'lung' }), { ...META, slope: 0 })).toMatch(/slope 0/);
    const hu = tf.tensor3d([0, 100, 200, 300], [1, 2, 2]);
    expect(() => applyWindow(plan, hu, [noTags])).toThrow(/slice 0: metadata window/);
    const fb = compileWindow({ strategy: 'metadata', fallback: { center: 150, width: 200 }, repeat: false });
    expect(windowProblem(fb, noTags)).toBeUndefined();
    const out = applyWindow(fb, hu, [noTags]);
    expect(Array.from(out.dataSync())).toEqual([0, 0.25, 0.75, 1].map((x) => x * 1));
    tf.dispose([hu, out]);
  });

  it('no tensor leak over 100 batches', () => {
    const plans: WindowPlan[] = STRATEGIES.map((strategy) => compileWindow({ strategy }));
    const r = rng(3);
    const hu = tf.tensor3d(randomBatch(r, 2, 8, 8, true), [2, 8, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const plan = plans[i % plans.length];
      const a = applyWindow(plan, hu, [META, META]);
      const b = applyWindowReference(plan, hu, [META, META]);
      tf.dispose([a, b]);
    }
    expect(tf.memory().numTensors).toBe(before);
    hu.dispose();
  });
});

describe('windowing config', () => {
  const issues = (cfg: unknown) => {
    try {
      compileWindow(cfg as never);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  it('compiles names, repetition, order, overrides', () => {
    expect(compileWindow({ strategy: 'lung' }).channels).toEqual(['lung', 'lung', 'lung']);
    expect(compileWindow({ strategy: 'lung', repeat: false }).channels).toEqual(['lung']);
    expect(compileWindow({ strategy: 'channelwise' }).channels).toEqual(['lung', 'pe', 'mediastinal']);
    expect(compileWindow({ strategy: 'channelwise', params: { order: [2, 1, 0] } }).channels).toEqual(['mediastinal', 'pe', 'lung']);
    const g = compileWindow({ strategy: 'gradient' });
    expect(g.scalars.length).toBe(1); // the three gradient components share one grey image
    const s = compileWindow({ strategy: 'sigmoid-gradient-ensemble', params: { weights: [1, 0, 0], eps: 0.01, floor: 0.2 } });
    expect(s.scalars[0].terms.map((t) => t.weight)).toEqual([1, 0, 0]);
    expect(s.outputs[0].map).toEqual({ kind: 'gradient', component: 'r', floor: 0.2 });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // plain, serialisable
  });

  it('custom channels list composed from primitives', () => {
    const plan = compileWindow({
      channels: [
        { name: 'lung', terms: [{ kind: 'clip', center: -600, width: 1500 }] },
        { name: 'ens', terms: [{ kind: 'sigmoid', center: 40, width: 80, weight: 0.5 }, { kind: 'clip', center: 40, width: 400, above: 'floor', weight: 0.5 }], norm: 'image' },
        { name: 'tags', terms: [{ kind: 'metadata' }], map: { kind: 'spread', index: 1 } },
      ],
      fallback: { center: 40, width: 400 },
    });
    expect(plan.name).toBe('custom');
    expect(plan.channels).toEqual(['lung', 'ens', 'tags']);
    expect(plan.needsMetadata).toBe(true);
    const hu = tf.tensor3d([-1000, -500, 0, 40, 100, 2000], [1, 2, 3]);
    const out = applyWindow(plan, hu, [META]);
    const v = out.dataSync();
    expect(v.every((x) => x >= 0 && x <= 1)).toBe(true);
    // channel 0 = clip(-1350..150) normalised by the image: (-1000+1350)/(150+1350) at x=-1000 → image min is -1000
    expect(v[0]).toBe(0);
    expect(v[5 * 3]).toBe(1);
    tf.dispose([hu, out]);
  });

  it('rejects unknown names, keys and bad parameters naming the field', () => {
    expect(issues({ strategy: 'rainbow' })).toMatch(/^window\.strategy: .*expected one of/);
    expect(issues({ strategy: 'lung', colour: 1 })).toMatch(/^window: Unrecognized key: "colour"/);
    expect(issues({ strategy: 'lung', params: { U: 2 } })).toMatch(/window\.params\.U: expected one of the parameters of lung \(windows\), got U/);
    expect(issues({ strategy: 'multi-window', params: { windows: [{ center: 1, width: 2 }] } })).toMatch(/window\.params\.windows: expected 3 window\(s\) for multi-window, got 1/);
    expect(issues({ strategy: 'lung', params: { windows: [{ center: 1, width: -2 }] } })).toMatch(/window\.params\.windows\[0\]\.width: /);
    expect(issues({ strategy: 'sigmoid', params: { eps: 2 } })).toMatch(/window\.params\.eps: expected eps < U \(1\), got 2/);
    expect(issues({ strategy: 'channelwise', params: { order: [0, 0, 1] } })).toMatch(/window\.params\.order: expected a permutation/);
    expect(issues({})).toMatch(/window\.strategy: expected a strategy/);
    expect(issues({ strategy: 'lung', channels: [] })).toMatch(/window\.channels/);
    expect(issues({ channels: [{ terms: [{ kind: 'blur' }] }] })).toMatch(/window\.channels\[0\]\.terms\[0\]\.kind/);
    expect(windowSchema.safeParse({ strategy: 'lung' }).success).toBe(true);
  });
});
