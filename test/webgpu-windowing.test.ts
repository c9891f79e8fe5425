/**
 * Fused WebGPU windowing kernels against the reference tfjs path on the cpu backend, on
 * generated HU slices (no corpus needed). Runs wherever WebGPU has an adapter: a real GPU, or
 * Mesa's software Vulkan (lavapipe, scripts/ci/install-vulkan.sh). Without an adapter the suite
 * fails in CI (CI=true) and is skipped elsewhere with the reason.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { probeWebGpu } from '../src/backend/webgpu.js';
import { initBackend } from '../src/backend/index.js';
import { applyWindow, applyWindowReference, compileWindow, STRATEGIES, type SliceWindowMeta, type WindowPlan } from '../src/windowing/index.js';
import { fusedWindow, fusedWindowPacked, fusedWindowStored, fusedWindowStoredUint8, maxFusedSlices, fusedWindowUint8, unpackUint8 } from '../src/windowing/gpu/index.js';
import { windowBatchesUint8 } from '../src/windowing/gpu/pipeline.js';

const probe = await probeWebGpu().then(
  (adapter) => ({ ok: true as const, adapter, why: '' }),
  (e: Error) => ({ ok: false as const, adapter: undefined, why: e.message }),
);
const IN_CI = process.env.CI === 'true';
if (!probe.ok && !IN_CI) console.warn(`[ctwindow tests] webgpu-windowing skipped: ${probe.why}`);

describe.runIf(IN_CI || probe.ok)('webgpu: adapter present', () => {
  it('has a WebGPU adapter (required in CI: run scripts/ci/install-vulkan.sh)', () => {
    expect(probe.ok, probe.why).toBe(true);
  });
});

/** Deterministic LCG so the fixtures are the same bytes every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** CT-like HU slices: air outside a body disc, soft tissue, lung, bone, integer HU like a scanner's. */
function makeSlices(B: number, H: number, W: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const dy = (i - H / 2) / (H / 2);
        const dx = (j - W / 2) / (W / 2);
        const d = Math.hypot(dx, dy);
        let v = d > 0.9 ? -1000 - 24 * r() : Math.abs(dx) > 0.2 && d < 0.7 ? -850 + 300 * r() : 20 + 60 * r();
        if (r() < 0.02) v = 300 + 1500 * r(); // bone / contrast
        x[(b * H + i) * W + j] = Math.round(v);
      }
    }
  }
  return x;
}

function metas(B: number): SliceWindowMeta[] {
  return Array.from({ length: B }, (_, b) => ({ windowCenter: [40 + 10 * b, 50], windowWidth: [400 - 3 * b, 350], slope: 1, intercept: -1024 }));
}

async function onCpu<T>(f: () => Promise<T> | T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await f();
  } finally {
    await tf.setBackend('webgpu');
  }
}

async function reference(plan: WindowPlan, hu: Float32Array, shape: [number, number, number], meta: SliceWindowMeta[]): Promise<Float32Array> {
  return onCpu(() => {
    const x = tf.tensor3d(hu, shape);
    const out = applyWindowReference(plan, x, meta);
    const d = out.dataSync() as Float32Array;
    x.dispose();
    out.dispose();
    return d;
  });
}

/** clamp, ·255 in float32, then round half to even (tf.round on the cpu backend, WGSL round). */
function q8(v: number): number {
  const y = Math.fround(Math.min(1, Math.max(0, Math.fround(v))) * 255);
  const f = Math.floor(y);
  const d = y - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

describe.skipIf(!probe.ok)('webgpu: fused windowing kernels vs the reference on cpu', () => {
  // Odd sizes: B·H·W = 9045 is not a multiple of 4, so the uint8 packing's tail is exercised.
  const shape: [number, number, number] = [3, 67, 45];
  const hu = makeSlices(...shape, 7);
  const meta = metas(shape[0]);

  beforeAll(async () => {
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
    expect(info.adapter?.description ?? info.adapter?.device).toBeTruthy();
  });

  for (const strategy of STRATEGIES) {
    it(`${strategy}: float32 within 1e-5 of the reference, uint8 within one level`, async () => {
      const plan = compileWindow({ strategy });
      const want = await reference(plan, hu, shape, meta);
      const x = tf.tensor3d(hu, shape);
      const out = fusedWindow(plan, x, meta)!;
      expect(out, 'the fused path covers every seed strategy').toBeDefined();
      expect(out.shape).toEqual([...shape, plan.outputs.length]);
      const got = (await out.data()) as Float32Array;
      let far = 0;
      let maxDiff = 0;
      let outside = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        if (!(d <= 1e-5)) far++;
        if (d > maxDiff) maxDiff = d;
        if (!(got[i] >= 0 && got[i] <= 1)) outside++; // also catches NaN
      }
      expect(outside, 'values outside [0,1] or NaN').toBe(0);
      // only the gradient's thresholds may flip (a value exactly at the floor or at 1)
      expect(far / got.length, `max |diff| ${maxDiff}`).toBeLessThanOrEqual(1e-4);

      const u8 = (await fusedWindowUint8(plan, x, meta))!;
      expect(u8.shape).toEqual([...shape, plan.outputs.length]);
      expect(u8.data.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        // packed on the GPU = the GPU's own float32 quantised, exactly
        if (u8.data[i] !== q8(got[i])) expect.fail(`uint8 byte ${i}: ${u8.data[i]}, its float32 ${got[i]} quantises to ${q8(got[i])}`);
        // against the reference: one level at most, and only where the value sits on a rounding threshold
        const d = Math.abs(u8.data[i] - q8(want[i]));
        const y = Math.min(1, Math.max(0, want[i])) * 255;
        if (d > 1 || (d === 1 && Math.abs(y - Math.floor(y) - 0.5) > 3e-3)) {
          expect.fail(`uint8 byte ${i}: ${u8.data[i]} vs ${q8(want[i])} from the reference value ${want[i]}`);
        }
      }
      x.dispose();
      out.dispose();
    });
  }

  it('a batch gives the same values as its slices one by one', async () => {
    const plan = compileWindow({ strategy: 'sigmoid-gradient-ensemble' });
    const x = tf.tensor3d(hu, shape);
    const whole = fusedWindow(plan, x, meta)!;
    const all = (await whole.data()) as Float32Array;
    const per = shape[1] * shape[2] * 3;
    for (let b = 0; b < shape[0]; b++) {
      const xs = tf.tensor3d(hu.subarray(b * shape[1] * shape[2], (b + 1) * shape[1] * shape[2]), [1, shape[1], shape[2]]);
      const one = fusedWindow(plan, xs, [meta[b]])!;
      expect(Array.from(await one.data())).toEqual(Array.from(all.subarray(b * per, (b + 1) * per)));
      xs.dispose();
      one.dispose();
    }
    x.dispose();
    whole.dispose();
  });

  it('a constant slice gives zeros, not NaN', async () => {
    const x = tf.fill([2, 8, 8], 40, 'float32') as tf.Tensor3D;
    for (const strategy of ['none', 'lung', 'sigmoid', 'multi-window'] as const) {
      const out = fusedWindow(compileWindow({ strategy }), x, metas(2))!;
      const d = await out.data();
      expect(d.every((v) => v === 0)).toBe(true);
      out.dispose();
    }
    x.dispose();
  });

  it('metadata: a slice without window tags fails naming the slice, or uses the configured fallback', async () => {
    const x = tf.tensor3d(hu, shape);
    const m = metas(3);
    m[1] = { ...m[1], windowCenter: [], windowWidth: [] };
    expect(() => fusedWindow(compileWindow({ strategy: 'metadata' }), x, m)).toThrow(/slice 1: metadata window: no WindowCenter/);
    const plan = compileWindow({ strategy: 'metadata', fallback: { center: 40, width: 400 } });
    const got = (await fusedWindow(plan, x, m)!.data()) as Float32Array;
    const want = await reference(plan, hu, shape, m);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    x.dispose();
  });

  it('applyWindow runs the fused kernel on webgpu, and the reference for plans the kernel does not cover', async () => {
    const x = tf.tensor3d(hu, shape);
    const plan = compileWindow({ strategy: 'gradient-ensemble' });
    const a = applyWindow(plan, x, meta);
    const f = fusedWindow(plan, x, meta)!;
    expect(Array.from(await a.data())).toEqual(Array.from(await f.data()));
    // seven image-normalised windows: more per-slice ranges than one reduction pass holds
    const wide: WindowPlan = {
      ...plan,
      name: 'custom',
      scalars: Array.from({ length: 7 }, (_, i) => ({
        terms: [{ kind: 'clip' as const, center: -700 + 200 * i, width: 300, source: 'fixed' as const, above: 'clamp' as const, norm: 'image' as const, weight: 1 }],
        norm: 'none' as const,
      })),
      outputs: Array.from({ length: 7 }, (_, i) => ({ name: `w${i}`, scalar: i, map: { kind: 'identity' as const } })),
      channels: Array.from({ length: 7 }, (_, i) => `w${i}`),
    };
    expect(fusedWindow(wide, x, meta)).toBeUndefined();
    const viaApply = (await applyWindow(wide, x, meta).data()) as Float32Array;
    const want = await reference(wide, hu, shape, meta);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(viaApply[i] - want[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, a, f]);
  });

  it('500 batches leave GPU memory and the tensor count flat', async () => {
    const plan = compileWindow({ strategy: 'sigmoid-gradient-ensemble' });
    const small: [number, number, number] = [2, 32, 32];
    const data = makeSlices(...small, 11);
    const m = metas(2);
    const step = async (i: number) => {
      const x = tf.tensor3d(data, small);
      if (i % 2 === 0) {
        const out = fusedWindow(plan, x, m)!;
        await out.data();
        out.dispose();
      } else {
        const packed = fusedWindowPacked(plan, x, m)!;
        await unpackUint8(packed, [...small, 3]);
      }
      x.dispose();
    };
    for (let i = 0; i < 10; i++) await step(i);
    const before = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesInGPUAllocated?: number };
    for (let i = 0; i < 500; i++) await step(i);
    const after = tf.memory() as typeof before;
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
    expect(after.numBytesInGPUAllocated ?? 0).toBeLessThanOrEqual(before.numBytesInGPUAllocated ?? 0);
  });

  it('overlapped batches (upload n+1 while n downloads) come out in order, equal to one-at-a-time, memory flat', async () => {
    const plan = compileWindow({ strategy: 'channelwise' });
    const small: [number, number, number] = [2, 24, 40];
    const inputs = Array.from({ length: 60 }, (_, i) => ({ hu: makeSlices(...small, 100 + i), shape: small, meta: metas(2), i }));
    const want: Uint8Array[] = [];
    for (const b of inputs) {
      const x = tf.tensor3d(b.hu, small);
      want.push((await fusedWindowUint8(plan, x, b.meta))!.data.slice());
      x.dispose();
    }
    const before = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    async function* source() {
      for (const b of inputs) yield b; // an async source, like a decode stage
    }
    const seen: number[] = [];
    for await (const r of windowBatchesUint8(plan, source(), { inFlight: 3 })) {
      expect(r.shape).toEqual([...small, 3]);
      expect(Buffer.from(r.data).equals(Buffer.from(want[r.batch.i])), `batch ${r.batch.i}`).toBe(true);
      seen.push(r.batch.i);
    }
    expect(seen).toEqual(inputs.map((b) => b.i));
    const after = tf.memory() as typeof before;
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
    // a consumer that stops early leaves nothing behind
    for await (const r of windowBatchesUint8(plan, inputs, { inFlight: 2 })) if (r.batch.i === 3) break;
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('a batch over the device buffer limit fails naming the limit and the batch size that fits', () => {
    const plan = compileWindow({ strategy: 'multi-window' });
    const fit = maxFusedSlices(plan, 512, 512, 'float32');
    const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBufferBindingSize;
    expect(fit).toBe(Math.floor((limit - 16) / (512 * 512 * 3 * 4)));
    expect(maxFusedSlices(plan, 512, 512, 'uint8')).toBe(Math.floor((limit - 16) / (512 * 512 * 4)));
    const x = tf.zeros([fit + 1, 512, 512], 'float32') as tf.Tensor3D;
    expect(() => fusedWindow(plan, x, metas(fit + 1))).toThrow(new RegExp(`maxStorageBufferBindingSize .*use at most ${fit} slices per batch`));
    x.dispose();
  });

  it('stored values (int16 and uint16, odd pixel count) converted to HU on the GPU give the HU path\'s result', async () => {
    // 3×67×45 = 9045 pixels: odd, so the last int32 word holds one value
    const slopes = [1, 2, 0.5];
    const intercepts = [-1024, -1000, 0];
    const m = metas(3).map((x, b) => ({ ...x, slope: slopes[b], intercept: intercepts[b] }));
    const n = shape[1] * shape[2];
    for (const kind of ['int16', 'uint16'] as const) {
      const stored = kind === 'int16' ? new Int16Array(hu.length) : new Uint16Array(hu.length);
      const huOf = new Float32Array(hu.length);
      for (let i = 0; i < hu.length; i++) {
        const b = Math.floor(i / n);
        const v = Math.round((hu[i] - intercepts[b]) / slopes[b]) + (kind === 'uint16' ? 1100 : 0);
        stored[i] = v;
        huOf[i] = Math.fround(stored[i] * slopes[b] + intercepts[b]);
      }
      for (const strategy of ['none', 'metadata', 'sigmoid-gradient-ensemble', 'exclusive'] as const) {
        const plan = compileWindow({ strategy });
        const x = tf.tensor3d(huOf, shape);
        const want = (await fusedWindow(plan, x, m)!.data()) as Float32Array;
        const got = (await fusedWindowStored(plan, { stored, shape }, m)!.data()) as Float32Array;
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
        expect(maxDiff, `${kind} ${strategy}`).toBeLessThanOrEqual(1e-6);
        const u8 = (await fusedWindowStoredUint8(plan, { stored, shape }, m))!;
        expect(u8.shape).toEqual([...shape, plan.outputs.length]);
        for (let i = 0; i < got.length; i++) if (u8.data[i] !== q8(got[i])) expect.fail(`${kind} ${strategy} byte ${i}`);
        x.dispose();
      }
    }
    expect(() => fusedWindowStored(compileWindow({ strategy: 'lung' }), { stored: new Int16Array(10), shape }, m)).toThrow(/has 10 values for shape/);
    expect(() => fusedWindowStored(compileWindow({ strategy: 'lung' }), { stored: new Int16Array(hu.length), shape }, m.slice(1))).toThrow(/one entry per slice \(3\)/);
  });
});
