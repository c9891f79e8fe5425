/**
 * WebGPU for tfjs in Node through Dawn (`webgpu` npm package, prebuilt inside the package).
 * Works on any Vulkan (Linux), Metal (macOS) or D3D12 (Windows) GPU, and on Mesa's software
 * Vulkan driver (lavapipe) in CI.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../types.js';

export class WebGpuUnavailableError extends Error {
  constructor(public readonly short: string, detail: string) {
    super(`${short}. ${detail}`);
  }
}

const HOWTO =
  'WebGPU needs a Vulkan driver on Linux: install the GPU vendor\'s driver with its Vulkan ICD and libvulkan1 ' +
  '(NVIDIA: nvidia driver + libvulkan1; AMD/Intel: mesa-vulkan-drivers), or for a software GPU in CI ' +
  'Debian bookworm-backports\' mesa-vulkan-drivers (lavapipe, Mesa >= 24). See docs/gpu.md.';

let adapterInfo: BackendInfo['adapter'] | undefined;

/**
 * Make `navigator.gpu` available, request an adapter and register tfjs's webgpu backend.
 * @param allowSoftware accept a CPU (software) adapter such as llvmpipe/lavapipe
 */
export async function initWebGpu({ allowSoftware }: { allowSoftware: boolean }): Promise<NonNullable<BackendInfo['adapter']>> {
  if (adapterInfo && tf.getBackend() === 'webgpu') return adapterInfo;
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new WebGpuUnavailableError('webgpu: the Dawn module (npm package "webgpu") could not be loaded', `${(e as Error).message}. ${HOWTO}`);
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  const gpu = mod.create([]);
  if (!g.navigator || !(g.navigator as { gpu?: GPU }).gpu) {
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator as object), gpu }, configurable: true, writable: true });
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError('webgpu: no GPU adapter (no Vulkan driver or ICD found)', HOWTO);
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const description = info?.description ?? '';
  const isSoftware =
    /llvmpipe|lavapipe|swiftshader|software/i.test(`${description} ${info?.device ?? ''} ${info?.architecture ?? ''}`) ||
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const described = { vendor: info?.vendor, architecture: info?.architecture, description, device: info?.device, isSoftware };
  if (isSoftware && !allowSoftware) {
    throw new WebGpuUnavailableError(`webgpu: only a software adapter (${description || 'CPU'})`, 'A software adapter is slower than the CPU backends for this work.');
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) {
    throw new WebGpuUnavailableError('webgpu: the tfjs webgpu backend failed to initialise', HOWTO);
  }
  adapterInfo = described;
  return described;
}
