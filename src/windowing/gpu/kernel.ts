/**
 * The fused windowing kernel, registered with tfjs as the custom kernel `CtwFusedWindow` for
 * the 'webgpu' backend. One `runKernel` call runs the range passes (per-slice min/max reduced
 * on the GPU) and the output pass; intermediate buffers are released before it returns, so the
 * only tensor it leaves is its output.
 *
 * Inputs:  hu [B,H,W] float32 (Hounsfield units), sl [B,S] float32 per-slice parameters
 *          (column 0: sign of the rescale slope; then [lo, hi] per metadata window term).
 * Attrs:   layout (FusedLayout from codegen.ts), mode 'float32' | 'uint8'.
 * Output:  float32 [B,H,W,C], or int32 [ceil(B·H·W/4)·C] holding the uint8 [B,H,W,C] bytes.
 *
 * @example
 *   registerFusedWindowKernel();
 *   const out = tf.engine().runKernel(FUSED_WINDOW, { hu, sl }, { layout, mode: 'float32' });
 */
import { getKernel, registerKernel, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { FusedLayout } from './codegen.js';
import { FusedOutputProgram, RangeFinalProgram, RangePartialsProgram } from './programs.js';

export const FUSED_WINDOW = 'CtwFusedWindow';

export interface FusedWindowAttrs {
  layout: FusedLayout;
  mode: 'float32' | 'uint8';
}

function reduceRanges(backend: WebGPUBackend, layout: FusedLayout, which: 'terms' | 'scalars', inputs: TensorInfo[]): TensorInfo {
  const partials = backend.runWebGPUProgram(new RangePartialsProgram(layout, which, inputs[0].shape), inputs, 'float32');
  try {
    return backend.runWebGPUProgram(new RangeFinalProgram(partials.shape), [partials], 'float32');
  } finally {
    backend.disposeData(partials.dataId);
  }
}

function fusedWindowKernel({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const gpu = backend as WebGPUBackend;
  const { hu, sl } = inputs as { hu: TensorInfo; sl: TensorInfo };
  const { layout, mode } = attrs as unknown as FusedWindowAttrs;
  const temps: TensorInfo[] = [];
  try {
    let ra: TensorInfo | undefined;
    let rb: TensorInfo | undefined;
    if (layout.termRanges.length > 0) {
      ra = reduceRanges(gpu, layout, 'terms', [hu, sl]);
      temps.push(ra);
    }
    if (layout.scalarRanges.length > 0) {
      rb = reduceRanges(gpu, layout, 'scalars', ra ? [hu, sl, ra] : [hu, sl]);
      temps.push(rb);
    }
    const program = new FusedOutputProgram(layout, mode, hu.shape);
    const ins = [hu, sl, ...(ra ? [ra] : []), ...(rb ? [rb] : [])];
    return gpu.runWebGPUProgram(program, ins, mode === 'float32' ? 'float32' : 'int32');
  } finally {
    for (const t of temps) gpu.disposeData(t.dataId);
  }
}

export const fusedWindowConfig: KernelConfig = {
  kernelName: FUSED_WINDOW,
  backendName: 'webgpu',
  kernelFunc: fusedWindowKernel as unknown as KernelConfig['kernelFunc'],
};

/** Register the kernel once (idempotent). */
export function registerFusedWindowKernel(): void {
  if (!getKernel(FUSED_WINDOW, 'webgpu')) registerKernel(fusedWindowConfig);
}
