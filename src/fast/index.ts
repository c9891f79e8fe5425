/**
 * The fast CPU path: lookup-table windowing on worker threads, byte-identical to the
 * reference processor. See processor.ts.
 *
 * @example
 *   import { createFastProcessor } from './fast/index.js';
 *   await runPipeline('pipelines/demo.yaml', { processor: createFastProcessor });
 */
export { createFastProcessor, FastProcessor, workerCount, type FastConfig, type FastOptions } from './processor.js';
export { WorkerPool } from './pool.js';
export { SlabPool, workerSlabCap, SLAB_MIN_BYTES, SLOT_ALIGN, WORKER_SLAB_CAP, FIRST_SLAB_CAP, type SlabLoc, type SlabGrant } from './slab-pool.js';
export { processChunk } from './slices.js';
export { storedIndex, pixelSlots, type StoredIndex } from './stored-index.js';
export { windowLut, type LutSlice } from './window-lut.js';
export { workerScript, WorkerScriptMissingError } from './worker-url.js';
