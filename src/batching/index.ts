export { InProcessProcessor, decodeSlice, windowGroup, fail, type BatchProcessor, type ProcessorOptions, type SliceResult, type SliceOk, type SliceFail, type DecodedSlice } from './processor.js';
export { readSliceBytes } from './slice.js';
export { assembleRecord, type RecordContext } from './record.js';
export { encodeValues, tensorBytes, toFloat16Bits, uint8Of, BYTES_PER } from './quantize.js';
