#!/usr/bin/env node
/**
 * WebGPU windowing benchmark: slices/s per strategy with the fused WebGPU kernels
 * (src/windowing/gpu/, through applyWindow on the 'webgpu' backend) beside tfjs's cpu backend
 * (applyWindow = the reference tfjs ops), on the same 512×512 phantom CT batch in the same run.
 * Each side includes its upload and download: float32 [B,H,W,C] back to JS, and for webgpu also
 * the uint8 output packed on the GPU (1 byte per channel crosses the bus), one batch at a time
 * and overlapped (windowBatchesUint8, 2 batches in flight). Times are medians.
 * On a machine without a GPU, WebGPU runs on Mesa's software Vulkan (lavapipe): the rows then
 * measure a CPU emulating a GPU, not a GPU. `npm run bench` calls benchWebgpu().
 *
 *   node scripts/bench/webgpu.mjs [--quick] [--json]      # needs `npm run build`
 *
 * @example
 *   import { benchWebgpu } from './scripts/bench/webgpu.mjs';
 *   const r = await benchWebgpu({ quick: true });
 *   // { adapter: {...}, batch: [8,512,512], rows: [{ strategy, webgpu_slices_per_s, webgpu_uint8_slices_per_s,
 *   //   webgpu_uint8_overlapped_slices_per_s, cpu_slices_per_s, speedup }, …] }
 *   // or { skipped: 'webgpu: no GPU adapter (…)' }
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(pathToFileURL(join(REPO, 'dist', p)).href);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * @param {{ quick?: boolean, batch?: number, size?: number, reps?: number, strategies?: string[] }} [opts]
 */
export async function benchWebgpu(opts = {}) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const { probeWebGpu, initWebGpu } = await dist('backend/webgpu.js');
  let adapter;
  try {
    adapter = await probeWebGpu();
  } catch (e) {
    return { skipped: e.message.split('. ')[0] };
  }
  const { compileWindow, applyWindow, STRATEGIES } = await dist('windowing/index.js');
  const { fusedWindowUint8 } = await dist('windowing/gpu/index.js');
  const { windowBatchesUint8 } = await dist('windowing/gpu/pipeline.js');
  const { phantomSlice } = await dist('fixtures/phantom.js');
  const B = opts.batch ?? 8;
  const N = opts.size ?? 512;
  const reps = opts.reps ?? (opts.quick ? 3 : 7);
  const strategies = opts.strategies ?? STRATEGIES;
  const hu = new Float32Array(B * N * N);
  for (let b = 0; b < B; b++) hu.set(phantomSlice({ rows: N, cols: N, z: (b + 0.5) / B, positive: b % 2 === 0, seed: 11 + b }), b * N * N);
  const meta = Array.from({ length: B }, () => ({ windowCenter: [40], windowWidth: [400], slope: 1, intercept: -1024 }));
  const previous = tf.getBackend() ?? 'cpu';

  /** seconds per batch: upload, window, download */
  async function time(fn) {
    await fn(); // warm-up: shader compilation, buffer pools
    const s = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await fn();
      s.push((performance.now() - t0) / 1000);
    }
    return median(s);
  }
  const floatRun = (plan) => async () => {
    const x = tf.tensor3d(hu, [B, N, N]);
    const out = applyWindow(plan, x, meta);
    await out.data();
    tf.dispose([x, out]);
  };

  const rows = [];
  try {
    for (const strategy of strategies) {
      const plan = compileWindow({ strategy });
      await tf.setBackend('cpu');
      const cpu = await time(floatRun(plan));
      await initWebGpu({ allowSoftware: true });
      const gpu = await time(floatRun(plan));
      const gpu8 = await time(async () => {
        const x = tf.tensor3d(hu, [B, N, N]);
        await fusedWindowUint8(plan, x, meta);
        x.dispose();
      });
      // overlapped: uploads/kernels of batch n+1 queued while batch n downloads (2 in flight)
      const stream = Array.from({ length: 2 * reps }, () => ({ hu, shape: [B, N, N], meta }));
      let t0 = performance.now();
      for await (const _ of windowBatchesUint8(plan, stream.slice(0, 2), { inFlight: 2 })); // warm-up
      t0 = performance.now();
      for await (const _ of windowBatchesUint8(plan, stream, { inFlight: 2 }));
      const piped = (performance.now() - t0) / 1000 / stream.length;
      rows.push({
        strategy,
        webgpu_uint8_overlapped_slices_per_s: +(B / piped).toFixed(1),
        webgpu_slices_per_s: +(B / gpu).toFixed(1),
        webgpu_uint8_slices_per_s: +(B / gpu8).toFixed(1),
        cpu_slices_per_s: +(B / cpu).toFixed(1),
        speedup: +(cpu / gpu).toFixed(2),
      });
    }
  } finally {
    await tf.setBackend(previous);
  }
  return { adapter, software: !!adapter.isSoftware, batch: [B, N, N], repetitions: reps, rows };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchWebgpu({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json') || r.skipped) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`webgpu: ${r.adapter.description ?? r.adapter.device} (${r.adapter.vendor ?? '?'}, ${r.adapter.architecture ?? '?'})${r.software ? ' — software Vulkan, not a GPU' : ''}; batch ${r.batch.join('×')}, median of ${r.repetitions}`);
    console.log(`${'strategy'.padEnd(28)}${'webgpu/s'.padStart(10)}${'uint8/s'.padStart(10)}${'overlap/s'.padStart(11)}${'cpu/s'.padStart(10)}${'speedup'.padStart(9)}`);
    for (const x of r.rows) {
      console.log(
        `${x.strategy.padEnd(28)}${String(x.webgpu_slices_per_s).padStart(10)}${String(x.webgpu_uint8_slices_per_s).padStart(10)}` +
          `${String(x.webgpu_uint8_overlapped_slices_per_s).padStart(11)}${String(x.cpu_slices_per_s).padStart(10)}${(x.speedup + '×').padStart(9)}`,
      );
    }
  }
}
