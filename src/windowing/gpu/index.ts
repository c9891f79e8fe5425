/**
 * Fused windowing on tfjs's WebGPU backend: one custom kernel per plan computes
 * HU → windows → per-slice normalisation (min/max reduced on the GPU) → channel maps →
 * float32, or uint8 packed on the GPU four values per u32 so only one byte per channel comes
 * back. Same contract as `applyWindowReference` in ../ (the definition of truth); tests check
 * the two agree on every seed strategy.
 *
 * @example
 *   await initBackend('webgpu');
 *   const plan = compileWindow({ strategy: 'sigmoid-ensemble' });
 *   const out = fusedWindow(plan, hu, meta);          // tf.Tensor4D [B,H,W,3], or undefined
 *   const { data, shape } = (await fusedWindowUint8(plan, hu, meta))!;  // Uint8Array [B,H,W,C]
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWindowExecutor } from '../apply.js';
import { metadataWindow, windowBounds, type ClipTerm, type SliceWindowMeta, type WindowPlan } from '../plan.js';
import { type FusedLayout, fusedLayout } from './codegen.js';
import { FUSED_WINDOW, registerFusedWindowKernel } from './kernel.js';

export { FUSED_WINDOW } from './kernel.js';
export { fusedLayout, type FusedLayout } from './codegen.js';

const layouts = new WeakMap<WindowPlan, FusedLayout | null>();

function layoutOf(plan: WindowPlan): FusedLayout | undefined {
  let l = layouts.get(plan);
  if (l === undefined) {
    l = fusedLayout(plan) ?? null;
    layouts.set(plan, l);
  }
  return l ?? undefined;
}

/** True when the fused path can run this plan now (backend 'webgpu' and a supported plan). */
export function fusedWindowSupported(plan: WindowPlan): boolean {
  return tf.getBackend() === 'webgpu' && layoutOf(plan) !== undefined;
}

function checkHu(hu: tf.Tensor3D): [number, number, number] {
  if (!(hu instanceof tf.Tensor) || hu.rank !== 3) {
    throw new Error(`fusedWindow: hu must be a rank-3 tensor [B,H,W], got ${hu instanceof tf.Tensor ? `shape [${hu.shape}]` : typeof hu}`);
  }
  if (hu.dtype !== 'float32') throw new Error(`fusedWindow: hu must be float32 Hounsfield units, got ${hu.dtype}`);
  return hu.shape as [number, number, number];
}

/** Per-slice parameter table [B, S]: slope sign, slope, intercept, then [lo, hi] of every metadata clip term. */
function sliceParams(l: FusedLayout, B: number, meta: readonly SliceWindowMeta[] | undefined): Float32Array {
  const S = l.sliceColumns;
  const needsMeta = l.terms.some((t) => t.metaColumn !== undefined);
  if (needsMeta && (!meta || meta.length !== B)) {
    throw new Error(`fusedWindow: meta must have one entry per slice (${B}) for plan "${l.plan.name}", got ${meta ? meta.length : 'none'}`);
  }
  const table = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    const m = meta?.[b];
    const slope = m && Number.isFinite(m.slope) ? m.slope : 1;
    table[b * S] = slope < 0 ? -1 : 1;
    table[b * S + 1] = slope;
    table[b * S + 2] = m && Number.isFinite(m.intercept) ? m.intercept : 0;
    for (const slot of l.terms) {
      if (slot.metaColumn === undefined) continue;
      const term = l.plan.scalars[slot.scalar].terms[slot.term] as ClipTerm;
      const w = metadataWindow(term, m as SliceWindowMeta, l.plan.fallback);
      if (typeof w === 'string') throw new Error(`fusedWindow: slice ${b}: ${w}`);
      const [lo, hi] = windowBounds(w.center, w.width);
      table[b * S + slot.metaColumn] = lo;
      table[b * S + slot.metaColumn + 1] = hi;
    }
  }
  return table;
}

/** The device's largest storage buffer binding (WebGPU's default is 128 MiB). */
function maxBinding(): number {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  return device?.limits?.maxStorageBufferBindingSize ?? 134_217_728;
}

/**
 * Bytes one slice needs in the largest buffer a kernel binds (HU in, or the output). A tensor
 * over the device's binding limit cannot be bound by any kernel, so batches are bounded by it.
 */
function bytesPerSlice(H: number, W: number, C: number, mode: 'float32' | 'uint8'): number {
  return Math.max(H * W * 4, mode === 'float32' ? H * W * C * 4 : H * W * C);
}

/**
 * The most slices of H×W one fused call takes on this device (0 when not on webgpu or the plan
 * is not covered): a batching stage can size its batches with it.
 * @example maxFusedSlices(plan, 512, 512, 'float32') // 41 with 3 channels under WebGPU's default 128 MiB
 */
export function maxFusedSlices(plan: WindowPlan, H: number, W: number, mode: 'float32' | 'uint8'): number {
  const layout = tf.getBackend() === 'webgpu' ? layoutOf(plan) : undefined;
  if (!layout) return 0;
  return Math.floor((maxBinding() - 16) / bytesPerSlice(H, W, layout.channels, mode));
}

function run(plan: WindowPlan, hu: tf.Tensor3D, meta: readonly SliceWindowMeta[] | undefined, mode: 'float32' | 'uint8'): tf.Tensor | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const layout = layoutOf(plan);
  if (!layout) return undefined;
  const [B, H, W] = checkHu(hu);
  const need = B * bytesPerSlice(H, W, layout.channels, mode) + 16;
  if (need > maxBinding()) {
    throw new Error(
      `fusedWindow: batch [${B},${H},${W}] → ${layout.channels} ${mode} channels needs a ${(need / 2 ** 20).toFixed(0)} MiB GPU buffer, ` +
        `over this device's maxStorageBufferBindingSize (${(maxBinding() / 2 ** 20).toFixed(0)} MiB); use at most ` +
        `${maxFusedSlices(plan, H, W, mode)} slices per batch`,
    );
  }
  registerFusedWindowKernel();
  const sl = tf.tensor2d(sliceParams(layout, B, meta), [B, layout.sliceColumns], 'float32');
  try {
    return tf.engine().runKernel(FUSED_WINDOW, { hu, sl }, { layout, mode } as unknown as tf.NamedAttrMap) as tf.Tensor;
  } finally {
    sl.dispose();
  }
}

/** DICOM stored values of a batch, before rescale: what the decoder produced, row-major [B,H,W]. */
export interface StoredBatch {
  stored: Int16Array | Uint16Array;
  shape: [number, number, number];
}

/** Two stored values per int32 word (little endian), padded to whole words; a view when aligned. */
function packStored(stored: Int16Array | Uint16Array): Int32Array {
  if (stored.length % 2 === 0 && stored.byteOffset % 4 === 0) return new Int32Array(stored.buffer, stored.byteOffset, stored.length / 2);
  const copy = new Uint16Array(stored.length + (stored.length % 2));
  copy.set(stored);
  return new Int32Array(copy.buffer);
}

function runStored(plan: WindowPlan, batch: StoredBatch, meta: readonly SliceWindowMeta[], mode: 'float32' | 'uint8'): tf.Tensor | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const layout = layoutOf(plan);
  if (!layout) return undefined;
  const { stored, shape } = batch ?? ({} as StoredBatch);
  if (!(stored instanceof Int16Array || stored instanceof Uint16Array)) {
    throw new Error(`fusedWindowStored: batch.stored must be an Int16Array or Uint16Array, got ${(stored as unknown as object)?.constructor?.name ?? typeof stored}`);
  }
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`fusedWindowStored: batch.shape must be [B,H,W] positive integers, got ${JSON.stringify(shape)}`);
  }
  const [B, H, W] = shape;
  if (stored.length !== B * H * W) throw new Error(`fusedWindowStored: batch.stored has ${stored.length} values for shape [${shape}] (${B * H * W})`);
  if (!Array.isArray(meta) || meta.length !== B) throw new Error(`fusedWindowStored: meta must have one entry per slice (${B}), got ${Array.isArray(meta) ? meta.length : typeof meta}`);
  meta.forEach((m, i) => {
    if (!Number.isFinite(m?.slope) || m.slope === 0 || !Number.isFinite(m?.intercept)) {
      throw new Error(`fusedWindowStored: meta[${i}] needs a finite non-zero slope and a finite intercept, got ${m?.slope}/${m?.intercept}`);
    }
  });
  const need = B * bytesPerSlice(H, W, layout.channels, mode) + 16;
  if (need > maxBinding()) {
    throw new Error(`fusedWindowStored: batch [${B},${H},${W}] needs a ${(need / 2 ** 20).toFixed(0)} MiB GPU buffer, over maxStorageBufferBindingSize; use at most ${maxFusedSlices(plan, H, W, mode)} slices per batch`);
  }
  registerFusedWindowKernel();
  const input = stored instanceof Int16Array ? 'int16' : 'uint16';
  const words = packStored(stored);
  const hu = tf.tensor1d(words, 'int32');
  const sl = tf.tensor2d(sliceParams(layout, B, meta), [B, layout.sliceColumns], 'float32');
  try {
    return tf.engine().runKernel(FUSED_WINDOW, { hu, sl }, { layout, mode, input, shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  } finally {
    tf.dispose([hu, sl]);
  }
}

/**
 * fusedWindow from DICOM stored values: uploads 2 bytes per pixel instead of 4, and converts to
 * HU on the GPU as stored·slope + intercept (float32) with each slice's `meta` rescale. Same
 * result as fusedWindow on huFrame's output with padding 'keep'. Undefined when the fused path
 * does not apply.
 * @example fusedWindowStored(plan, { stored: img.stored as Int16Array, shape: [1, img.rows, img.cols] }, [meta])
 */
export function fusedWindowStored(plan: WindowPlan, batch: StoredBatch, meta: readonly SliceWindowMeta[]): tf.Tensor4D | undefined {
  return runStored(plan, batch, meta, 'float32') as tf.Tensor4D | undefined;
}

/** fusedWindowStored with uint8 output packed on the GPU; resolves to the [B,H,W,C] bytes. */
export async function fusedWindowStoredUint8(
  plan: WindowPlan,
  batch: StoredBatch,
  meta: readonly SliceWindowMeta[],
): Promise<{ data: Uint8Array; shape: [number, number, number, number] } | undefined> {
  const packed = runStored(plan, batch, meta, 'uint8') as tf.Tensor1D | undefined;
  if (!packed) return undefined;
  const shape: [number, number, number, number] = [...batch.shape, plan.outputs.length];
  return { data: await unpackUint8(packed, shape), shape };
}

/**
 * Window a batch with the fused WebGPU kernel. Returns float32 [B,H,W,C] in [0,1], or
 * undefined when the backend is not 'webgpu' or the plan is outside what the fused path
 * covers (the caller then uses the tfjs-ops path).
 * @param meta per-slice window tags and rescale (needed by metadata windows and raw terms)
 */
export function fusedWindow(plan: WindowPlan, hu: tf.Tensor3D, meta?: readonly SliceWindowMeta[]): tf.Tensor4D | undefined {
  return run(plan, hu, meta, 'float32') as tf.Tensor4D | undefined;
}

/**
 * Like fusedWindow with uint8 output quantised and packed on the GPU: returns an int32 tensor
 * whose bytes (little endian) are the uint8 [B,H,W,C] values, padded to whole words. Keep it
 * to overlap the download with the next batch's kernels; read it with `unpackUint8`.
 * Quantisation: round-half-to-even(clamp(v,0,1)·255), as `tf.round` on the CPU backend.
 */
export function fusedWindowPacked(plan: WindowPlan, hu: tf.Tensor3D, meta?: readonly SliceWindowMeta[]): tf.Tensor1D | undefined {
  return run(plan, hu, meta, 'uint8') as tf.Tensor1D | undefined;
}

/** Download a packed tensor from fusedWindowPacked (and dispose it) as uint8 [B,H,W,C] bytes. */
export async function unpackUint8(packed: tf.Tensor1D, shape: readonly [number, number, number, number]): Promise<Uint8Array> {
  try {
    const words = (await packed.data()) as Int32Array;
    const n = shape[0] * shape[1] * shape[2] * shape[3];
    if (words.byteLength < n) throw new Error(`unpackUint8: ${words.byteLength} bytes for shape [${shape}] (${n} needed)`);
    return new Uint8Array(words.buffer, words.byteOffset, n);
  } finally {
    packed.dispose();
  }
}

/**
 * Window a batch on the GPU and download it as uint8 [B,H,W,C] (1 byte per channel crosses
 * the bus). Undefined when the fused path does not apply (see fusedWindow).
 */
export async function fusedWindowUint8(
  plan: WindowPlan,
  hu: tf.Tensor3D,
  meta?: readonly SliceWindowMeta[],
): Promise<{ data: Uint8Array; shape: [number, number, number, number] } | undefined> {
  const packed = fusedWindowPacked(plan, hu, meta);
  if (!packed) return undefined;
  const [B, H, W] = hu.shape;
  const shape: [number, number, number, number] = [B, H, W, plan.outputs.length];
  return { data: await unpackUint8(packed, shape), shape };
}

let executorRegistered = false;

/**
 * Make `applyWindow` run plans through the fused kernels while the backend is 'webgpu'
 * (idempotent; plans the fused path does not cover still go to applyWindowReference).
 * initWebGpu (src/backend/webgpu.ts) calls it.
 */
export function registerFusedWindowExecutor(): void {
  if (executorRegistered) return;
  registerFusedWindowKernel();
  setWindowExecutor('webgpu', (plan, hu, meta) => fusedWindow(plan, hu, meta));
  executorRegistered = true;
}
