/**
 * ctwindow as a library. The CLI (`ctwindow …`) is a thin layer over these.
 *
 * @example
 *   import { runPipeline, readRecords } from 'ctwindow';
 *   const { outDir } = await runPipeline('pipelines/demo.yaml', { overrides: ['batch.size=16'] });
 *   for await (const r of readRecords(outDir)) console.log(r.shape, r.labels);
 */
export type * from './types.js';
export { runPipeline, RunError, type RunOptions, type RunSummary, type Progress } from './pipeline/index.js';
export { loadConfig, validateConfig, ConfigError, pipelineSchema, type PipelineConfig, type LoadedConfig } from './config/index.js';
export { readSource, checkCsvHeader, splitOf, partitionOf, type SourceItem, type SourceOptions } from './source/index.js';
export { Balancer, Rng, type BalanceOptions, type BalanceStats } from './sampling/index.js';
export { decodeDicom, decodeDicomSync, readDicomFile, readDicomHeader, huFrame, initCodecs, probeFile, DicomDecodeError } from './dicom/index.js';
export { STRATEGIES, compileWindow, applyWindow, applyWindowReference, windowProblem, type WindowPlan, type SliceWindowMeta } from './windowing/index.js';
export { initBackend, currentBackend, BACKENDS, type BackendName } from './backend/index.js';
export {
  readRecords,
  loadDataset,
  ShardDataset,
  openShardWriter,
  readManifest,
  verifyDataset,
  inspectDataset,
  mergeDatasets,
  type Manifest,
  type ShardInfo,
  type DecodedRecord,
} from './shards/index.js';
export { generateDataset, phantomSlice, writeCtSlice } from './fixtures/index.js';
export { encodeNpy, decodeNpy } from './util/npy.js';
