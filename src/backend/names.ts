/**
 * The backend names, apart from backend/index.ts so that the config schema can name them
 * without loading tfjs.
 */
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
