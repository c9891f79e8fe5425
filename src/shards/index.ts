/**
 * ctwindow shards: framed msgpack records, per-shard indexes, manifest.json, readers and the
 * distributed partition rule. Format spec: docs/shard-format.md.
 */
export * from './format.js';
export * from './manifest.js';
export * from './shard-index.js';
export { openShardWriter, describeExistingOutput, OutputFolderError, type ShardWriter, type ShardWriterOptions } from './writer.js';
export { verifyDataset, formatProblem, type VerifyProblem } from './verify.js';
export { inspectDataset, formatInspect, type DatasetInspect, type SplitInspect } from './inspect.js';
export { loadDataset, readRecords, ShardFiles, type DecodedRecord, type LoadedSplit, type ReadOptions } from './reader.js';
export * from './partition.js';
export { ShardDataset, type ShardDatasetOptions, type DatasetState, type Sample, type Batch, type SliceMeta, type BatchMeta } from './dataset.js';
export { writeSyntheticDataset, syntheticRecord, type SyntheticDatasetOptions } from './synthetic.js';
export { mergeDatasets, type MergeResult, type MergeOptions } from './merge.js';
export { DatasetFolderError, plainFileName, openInFolder, readInFolder } from './folder.js';
export { openShardFile, markPageAligned, writeGroups, MAX_WRITE_BYTES, DIRECT_ALIGN, DIRECT_BLOCK, type ShardFile, type ShardIo, type OpenFile } from './shard-file.js';
export { checkShardFile, digestFile, digestBytes, digestMismatch, type ShardDigests } from './digest.js';
export { crc32cCombine, crc32cHex } from './crc32c-combine.js';
