export { readSource, checkCsvHeader, rowToItem, SourceError, type SourceItem, type SourceOptions } from './csv.js';
export { fnv1a32, unitHash, splitOf, partitionOf } from './hash.js';
export { countSource, type SourceCounts, type SplitCounts } from './count.js';
