import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { buildModel, loadModelSpec, parseModelSpec } from '../src/ab/model.js';
import { predict, trainModel, type Dataset } from '../src/ab/train.js';
import { makeRng } from '../src/ab/bootstrap.js';
import { rocAuc } from '../src/ab/metrics.js';
import { conv2dFilterGrad } from '../src/ab/conv-grad.js';

/** Brute-force dW[i,j,c,o] = Σ_b,y,x xpad[b, y·s+i, x·s+j, c] · dy[b,y,x,o] (tfjs 'same' padding rule). */
function refFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number, pad: 'same' | 'valid'): Float32Array {
  const [B, H, W, C] = x.shape;
  const [, Ho, Wo, O] = dy.shape;
  const xv = x.dataSync();
  const dv = dy.dataSync();
  const top = pad === 'same' ? Math.floor(Math.max((Ho - 1) * s + k - H, 0) / 2) : 0;
  const left = pad === 'same' ? Math.floor(Math.max((Wo - 1) * s + k - W, 0) / 2) : 0;
  const out = new Float32Array(k * k * C * O);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let b = 0; b < B; b++) for (let yy = 0; yy < Ho; yy++) for (let xx = 0; xx < Wo; xx++) {
      const r = yy * s + i - top;
      const q = xx * s + j - left;
      if (r < 0 || r >= H || q < 0 || q >= W) continue;
      acc += xv[((b * H + r) * W + q) * C + c] * dv[((b * Ho + yy) * Wo + xx) * O + o];
    }
    out[((i * k + j) * C + c) * O + o] = acc;
  }
  return out;
}

/**
 * Tiny synthetic task: 16×16×2 slices; positives carry a faint 3×3 square in channel
 * `signal`, the other channel is noise only. 4 slices per exam.
 */
function synthetic(n: number, seed: string, signal: 0 | 1): Dataset {
  const rng = makeRng(seed);
  const S = 16;
  const x = new Float32Array(n * S * S * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let p = 0; p < S * S * 2; p++) x[i * S * S * 2 + p] = 0.3 * rng();
    if (y[i]) {
      const r0 = 2 + Math.floor(rng() * 10);
      const c0 = 2 + Math.floor(rng() * 10);
      for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) x[((i * S + r) * S + c) * 2 + signal] += 0.5;
    }
  }
  return {
    x: tf.tensor4d(x, [n, S, S, 2]),
    y,
    exams: Array.from({ length: n }, (_, i) => `exam${Math.floor(i / 4)}`),
    ids: Array.from({ length: n }, (_, i) => `sop${i}`),
    channels: ['a', 'b'],
  };
}

const spec = parseModelSpec({ name: 'tiny', input: { size: 16 }, conv: [{ filters: 4, kernel: 3, stride: 2, pool: false }, { filters: 8, kernel: 3 }], dense: 8 });

async function run(seed: number, train: Dataset, val: Dataset): Promise<Float32Array> {
  const model = buildModel(spec, { channels: 2, seed });
  await trainModel(model, train, { epochs: 6, batchSize: 16, learningRate: 0.01, seed });
  const p = await predict(model, val.x);
  model.dispose();
  return p;
}

describe('ab model + training (synthetic, cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('learns the signal channel; same seed gives bit-identical scores; another seed differs', async () => {
    const train = synthetic(128, 'train', 0);
    const val = synthetic(64, 'val', 0);
    const a = await run(1, train, val);
    const b = await run(1, train, val);
    const c = await run(2, train, val);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    expect(rocAuc(a, val.y)).toBeGreaterThan(0.85);
  });

  it('the fast Conv2D filter gradient equals a brute-force sum (stride 1/2, same/valid, odd sizes)', () => {
    for (const [s, pad, k] of [[1, 'same', 3], [2, 'same', 3], [2, 'valid', 3], [1, 'valid', 5], [2, 'same', 5]] as const) {
      const x = tf.randomUniform([2, 9, 7, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const f = tf.zeros([k, k, 3, 4]) as tf.Tensor4D;
      const y = tf.conv2d(x, f, s, pad);
      const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 6) as tf.Tensor4D;
      const got = conv2dFilterGrad(x, dy, [k, k, 3, 4], s, pad)!;
      expect(got.shape).toEqual([k, k, 3, 4]);
      const want = refFilterGrad(x, dy, k, s, pad);
      const g = got.dataSync();
      for (let i = 0; i < want.length; i++) expect(g[i]).toBeCloseTo(want[i], 4);
      tf.dispose([x, f, y, dy, got]);
    }
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(conv2dFilterGrad(x, x, [1, 1, 1, 1], 1, 0)).toBeUndefined();
    expect(conv2dFilterGrad(x, x, [1, 1, 1, 1], 1, 'same', 2)).toBeUndefined();
  });

  it('the shipped small-cnn spec parses and builds', () => {
    const s = loadModelSpec('configs/models/small-cnn.yaml');
    const m = buildModel(s, { channels: 3, seed: 0 });
    expect(m.inputs[0].shape).toEqual([null, s.input.size, s.input.size, 3]);
    expect(m.outputs[0].shape).toEqual([null, 1]);
    m.dispose();
  });

  it('rejects bad specs with the field named', () => {
    expect(() => parseModelSpec({ conv: [] })).toThrow(/conv/);
    expect(() => parseModelSpec({ conv: [{ filters: 4, kernel: 3 }], head: 'mean' })).toThrow(/head/);
    expect(() => parseModelSpec({ conv: [{ filters: 4, kernel: 3 }], extra: 1 })).toThrow(/extra|unrecognized/i);
    expect(() => loadModelSpec('configs/models/nope.yaml')).toThrow(/nope\.yaml: cannot read/);
  });
});

describe('ab training on the wasm backend (XNNPACK kernels + the matMul filter gradient)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('trains (wasm has no Conv2DBackpropFilter kernel of its own), learns, and is bit-identical for the same seed', async () => {
    const train = synthetic(128, 'train', 1);
    const val = synthetic(64, 'val', 1);
    const a = await run(3, train, val);
    const b = await run(3, train, val);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(rocAuc(a, val.y)).toBeGreaterThan(0.85);
  });
});
