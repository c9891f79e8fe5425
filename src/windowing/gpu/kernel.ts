/**
 * The fused windowing kernel, registered with tfjs as the custom kernel `CtwFusedWindow` for
 * the 'webgpu' backend. One `runKernel` call runs the range passes (per-slice min/max reduced
 * on the GPU) and the output pass; intermediate buffers are released before it returns, so the
 * only tensor it leaves is its output.
 *
 * Inputs:  hu [B,H,W] float32 (Hounsfield units), or int32 [ceil(B·H·W/2)] holding the DICOM
 *          stored values two per word (attrs.input 'int16' | 'uint16', attrs.shape [B,H,W]);
 *          sl [B,S] float32 per-slice parameters (slope sign, slope, intercept, then [lo, hi]
 *          per metadata window term).
 * Attrs:   layout (FusedLayout from codegen.ts), mode 'float32' | 'uint8', input, shape.
 * Output:  float32 [B,H,W,C], or int32 [ceil(B·H·W/4)·C] holding the uint8 [B,H,W,C] bytes.
 *
 * @example
 *   registerFusedWindowKernel();
 *   const out = tf.engine().runKernel(FUSED_WINDOW, { hu, sl }, { layout, mode: 'float32' });
 */
import { getKernel, registerKernel, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { FusedInput, FusedLayout } from './codegen.js';
import { FusedOutputProgram, RangeFinalProgram, RangePartialsProgram } from './programs.js';

export const FUSED_WINDOW = 'CtwFusedWindow';

export interface FusedWindowAttrs {
  layout: FusedLayout;
  mode: 'float32' | 'uint8';
  /** 'float32': hu is [B,H,W] HU. 'int16' | 'uint16': hu is int32 [ceil(B·H·W/2)], two stored values per word. */
  input?: FusedInput;
  /** [B,H,W]; needed when hu holds packed stored values */
  shape?: [number, number, number];
}

type ProgramUniforms = { type: string; data: number[] }[];

function reduceRanges(
  backend: WebGPUBackend,
  layout: FusedLayout,
  which: 'terms' | 'scalars',
  inputs: TensorInfo[],
  shape: number[],
  input: FusedInput,
  uniforms: ProgramUniforms | undefined,
): TensorInfo {
  const partials = backend.runWebGPUProgram(new RangePartialsProgram(layout, which, shape, input), inputs, 'float32', uniforms);
  try {
    return backend.runWebGPUProgram(new RangeFinalProgram(partials.shape), [partials], 'float32');
  } finally {
    backend.disposeData(partials.dataId);
  }
}

function fusedWindowKernel({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const gpu = backend as WebGPUBackend;
  const { hu, sl } = inputs as { hu: TensorInfo; sl: TensorInfo };
  const { layout, mode, input = 'float32', shape = hu.shape } = attrs as unknown as FusedWindowAttrs;
  const [B, H, W] = shape;
  const uniforms: ProgramUniforms | undefined =
    input === 'float32' ? undefined : [{ type: 'int32', data: [B] }, { type: 'int32', data: [H * W] }];
  const temps: TensorInfo[] = [];
  try {
    let ra: TensorInfo | undefined;
    let rb: TensorInfo | undefined;
    if (layout.termRanges.length > 0) {
      ra = reduceRanges(gpu, layout, 'terms', [hu, sl], shape, input, uniforms);
      temps.push(ra);
    }
    if (layout.scalarRanges.length > 0) {
      rb = reduceRanges(gpu, layout, 'scalars', ra ? [hu, sl, ra] : [hu, sl], shape, input, uniforms);
      temps.push(rb);
    }
    const program = new FusedOutputProgram(layout, mode, shape, input);
    const ins = [hu, sl, ...(ra ? [ra] : []), ...(rb ? [rb] : [])];
    return gpu.runWebGPUProgram(program, ins, mode === 'float32' ? 'float32' : 'int32', uniforms);
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
