/**
 * WebGPU for tfjs in Node through Dawn (`webgpu` npm package, prebuilt inside the package).
 * Works on any Vulkan (Linux), Metal (macOS) or D3D12 (Windows) GPU, and on Mesa's software
 * Vulkan driver (lavapipe) in CI. Once selected, windowing plans run as fused kernels
 * (src/windowing/gpu/) through applyWindow's executor hook.
 *
 * @example
 *   const adapter = await initWebGpu({ allowSoftware: true });
 *   adapter.description  // 'llvmpipe: Mesa 25.0.7 …' on software Vulkan
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../types.js';
import { diagnoseVulkan } from './vulkan-diagnosis.js';
import { withNativeStderrSilenced } from './native-stderr.js';

export class WebGpuUnavailableError extends Error {
  constructor(public readonly short: string, detail: string) {
    super(`${short}. ${detail}`);
  }
}

export const WEBGPU_HOWTO =
  'WebGPU needs a GPU driver with Vulkan on Linux: the vendor driver\'s Vulkan ICD plus libvulkan1 ' +
  '(NVIDIA: the proprietary driver, which ships nvidia_icd.json; AMD/Intel: mesa-vulkan-drivers), ' +
  'or for a software GPU in CI lavapipe from Debian bookworm-backports (Mesa >= 24): ' +
  'sudo scripts/ci/install-vulkan.sh. See docs/gpu.md.';

export type AdapterInfo = NonNullable<BackendInfo['adapter']>;

let adapterInfo: AdapterInfo | undefined;
let probed: Promise<GPUAdapter | null> | undefined;

/** Software (CPU) adapters: lavapipe/llvmpipe, SwiftShader, Dawn's fallback adapter. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> | undefined, isFallback = false): boolean {
  return isFallback || info?.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);
}

async function requestAdapter(): Promise<GPUAdapter | null> {
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new WebGpuUnavailableError('webgpu: the Dawn module (npm package "webgpu") could not be loaded', `${(e as Error).message}. ${WEBGPU_HOWTO}`);
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  const gpu = mod.create([]);
  if (!g.navigator || !(g.navigator as { gpu?: GPU }).gpu) {
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator as object), gpu }, configurable: true, writable: true });
  }
  // Dawn writes its adapter-limit warnings straight to stderr: shown only with --verbose.
  return withNativeStderrSilenced(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
}

/** Describe the adapter WebGPU would use, without selecting the backend; throws when there is none. */
export async function probeWebGpu(): Promise<AdapterInfo> {
  probed ??= requestAdapter();
  const adapter = await probed;
  if (!adapter) throw new WebGpuUnavailableError(`webgpu: no GPU adapter (${diagnoseVulkan()})`, WEBGPU_HOWTO);
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const isFallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info?.vendor || undefined,
    architecture: info?.architecture || undefined,
    description: info?.description || undefined,
    device: info?.device || undefined,
    isSoftware: isSoftwareAdapter(info, isFallback),
  };
}

/** "llvmpipe: Mesa 25.0.7 … (mesa, software)" */
export function describeAdapter(a: AdapterInfo): string {
  const extra = [a.vendor, a.architecture].filter(Boolean).join(', ');
  return `${a.description || a.device || 'unnamed adapter'}${extra ? ` (${extra})` : ''}`;
}

/**
 * Make `navigator.gpu` available, request an adapter, register tfjs's webgpu backend and the
 * fused windowing kernels.
 * @param allowSoftware accept a CPU (software) adapter such as llvmpipe/lavapipe
 */
export async function initWebGpu({ allowSoftware }: { allowSoftware: boolean }): Promise<AdapterInfo> {
  if (adapterInfo && tf.getBackend() === 'webgpu' && (allowSoftware || !adapterInfo.isSoftware)) return adapterInfo;
  const described = await probeWebGpu();
  if (described.isSoftware && !allowSoftware) {
    throw new WebGpuUnavailableError(
      `webgpu: only a software adapter (${describeAdapter(described)})`,
      'A software adapter is slower than the CPU backends here; request it with --backend webgpu.',
    );
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) {
    throw new WebGpuUnavailableError('webgpu: the tfjs webgpu backend failed to initialise', WEBGPU_HOWTO);
  }
  const { registerFusedWindowExecutor } = await import('../windowing/gpu/index.js');
  registerFusedWindowExecutor();
  adapterInfo = described;
  return described;
}
