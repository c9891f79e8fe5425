/**
 * tfjs backend selection at run time.
 *
 *   cpu        pure-JS kernels (@tensorflow/tfjs-backend-cpu), always available
 *   wasm       XNNPACK/SIMD kernels (@tensorflow/tfjs-backend-wasm), shipped in the npm package
 *   tensorflow libtensorflow through @tensorflow/tfjs-node-gpu (optionalDependency: its binary is
 *              fetched by an install script, which many machines cannot run)
 *   webgpu     tfjs's WebGPU backend on Dawn (`webgpu` npm package): Vulkan, Metal or D3D12, with
 *              the fused windowing kernels (src/windowing/gpu/); a software adapter (lavapipe) is
 *              accepted when asked for by name; no adapter fails with what is missing (docs/gpu.md)
 *   auto       a hardware GPU when one is usable (WebGPU adapter that is not a software one, then
 *              tfjs-node-gpu), else cpu; the choice and the reason are reported in one line and
 *              recorded in BackendInfo (adapter vendor/architecture/description)
 *
 * @example
 *   const info = await initBackend('auto');
 *   console.log(`backend: ${info.name} (${info.reason})`);
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { BackendInfo } from '../types.js';
import { describeAdapter, initWebGpu, WebGpuUnavailableError } from './webgpu.js';

import { BACKENDS, type BackendName } from './names.js';

export { BACKENDS, type BackendName } from './names.js';

const require = createRequire(import.meta.url);

/** Thrown when an explicitly requested backend cannot start. Never silently replaced. */
export class BackendUnavailableError extends Error {
  constructor(public readonly backend: string, message: string) {
    super(`backend "${backend}" is not available: ${message}`);
  }
}

let current: BackendInfo | undefined;

/** The backend chosen by the last initBackend call, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

async function initTensorflow(): Promise<void> {
  try {
    // Registers the 'tensorflow' backend as a side effect.
    await import('@tensorflow/tfjs-node-gpu' as string);
  } catch (e) {
    throw new BackendUnavailableError(
      'tensorflow',
      `@tensorflow/tfjs-node-gpu could not be loaded (${(e as Error).message.split('\n')[0]}). ` +
        'It is an optional dependency whose install script downloads libtensorflow + CUDA; run ' +
        '`npm install @tensorflow/tfjs-node-gpu --foreground-scripts` on a machine with network access and CUDA, ' +
        'or use --backend webgpu | wasm | cpu.',
    );
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new BackendUnavailableError('tensorflow', 'tfjs-node-gpu loaded but its backend failed to initialise');
  }
}

async function initWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dir + '/');
  if (!(await tf.setBackend('wasm'))) {
    throw new BackendUnavailableError('wasm', 'the wasm backend failed to initialise');
  }
}

async function initCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('cpu', 'cpu backend failed to initialise');
}

/**
 * Initialise and select a tfjs backend. Explicit names fail loudly with the reason;
 * `auto` tries a hardware GPU first and reports why it fell back.
 */
export async function initBackend(requested: BackendName = 'auto', log: (line: string) => void = () => {}): Promise<BackendInfo> {
  // Prod mode: no debug-mode NaN checks, no console chatter from the kernels.
  tf.enableProdMode();
  if (!(BACKENDS as readonly string[]).includes(requested)) {
    throw new Error(`backend: expected one of ${BACKENDS.join(' | ')}, got "${requested}"`);
  }
  let info: BackendInfo;
  switch (requested) {
    case 'tensorflow':
      await initTensorflow();
      info = { name: 'tensorflow', requested, reason: 'requested' };
      break;
    case 'wasm':
      await initWasm();
      info = { name: 'wasm', requested, reason: 'requested' };
      break;
    case 'cpu':
      await initCpu();
      info = { name: 'cpu', requested, reason: 'requested' };
      break;
    case 'webgpu': {
      // Explicit: a software adapter is accepted (CI), a missing one fails with the reason.
      const adapter = await initWebGpu({ allowSoftware: true });
      info = { name: 'webgpu', requested, reason: `requested; adapter ${describeAdapter(adapter)}`, adapter };
      break;
    }
    case 'auto': {
      // A hardware GPU first (the fused WebGPU kernels, then tfjs-node-gpu), else the CPU.
      const why: string[] = [];
      try {
        const adapter = await initWebGpu({ allowSoftware: false });
        info = { name: 'webgpu', requested, reason: `auto: hardware GPU adapter ${describeAdapter(adapter)}`, adapter };
        log(`backend: auto chose webgpu (${describeAdapter(adapter)})`);
        break;
      } catch (e) {
        why.push(e instanceof WebGpuUnavailableError ? e.short : `webgpu: ${(e as Error).message.split('\n')[0]}`);
      }
      try {
        await initTensorflow();
        info = { name: 'tensorflow', requested, reason: 'auto: tfjs-node-gpu installed' };
        log('backend: auto chose tensorflow (tfjs-node-gpu)');
        break;
      } catch (e) {
        const m = (e as Error).message;
        why.push(/could not be loaded/.test(m) ? 'tfjs-node-gpu not installed' : `tensorflow: ${m.split('\n')[0]}`);
      }
      await initCpu();
      info = { name: 'cpu', requested, reason: `auto: ${why.join('; ')}; using cpu` };
      log(`backend: auto fell back to cpu (${why.join('; ')})`);
      break;
    }
  }
  current = info;
  return info;
}
