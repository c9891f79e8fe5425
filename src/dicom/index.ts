/**
 * ctwindow's DICOM stage: bytes → DicomImage (stored values + rescale + geometry) → HU.
 *
 * @example
 *   import { readDicomFile, huFrame } from './dicom/index.js';
 *   const img = await readDicomFile('slice.dcm');
 *   const hu = huFrame(img);   // Float32Array [rows*cols]
 */
export { DicomDecodeError } from './errors.js';
export { decodeDicom, decodeDicomSync, readDicomFile, splitFrames, initCodecs, MAX_FRAME_BYTES } from './decode.js';
export type { DecodeOptions } from './decode.js';
export { readRegularFileSync, InputFileError, MAX_INPUT_BYTES } from './read-file.js';
export { huFrame, huProblem, AIR_HU, DEFAULT_PADDING, paddingMode } from './hu.js';
export type { PaddingMode } from './hu.js';
export { readDicomHeader } from './header.js';
export type { DicomHeader } from './header.js';
export { TRANSFER_SYNTAXES, UNSUPPORTED_SYNTAXES, transferSyntax, syntaxLabel } from './syntax.js';
export { sniffCodestream, type Codestream } from './codestream.js';
export type { TransferSyntaxInfo } from './syntax.js';
export { probeDicom, probeFile } from './probe.js';
export type { ProbeResult } from './probe.js';
