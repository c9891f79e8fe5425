export { InProcessProcessor, readSlice, decodeSlice, windowGroup, windowMeta, fail, type BatchProcessor, type ProcessorOptions, type SliceResult, type SliceOk, type SliceFail, type DecodedSlice } from './processor.js';
export { assembleRecord, type RecordContext } from './record.js';
export { encodeValues, tensorBytes, toFloat16Bits, BYTES_PER } from './quantize.js';
