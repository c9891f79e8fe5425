/**
 * Header-only parse: stops before Pixel Data, so ordering a series reads a few KiB per file.
 *
 * @example
 *   const h = readDicomHeader(await readFile(p));
 *   h.imagePositionPatient // [x, y, z]
 */
import { PIXEL_DATA, parseDicomBytes } from './parse.js';
import { TAGS, is, readGeometry, readIdentity, str, us } from './attributes.js';
import { DicomDecodeError } from './errors.js';

export interface DicomHeader {
  transferSyntax: string;
  /** The file had no preamble/meta header (read as little endian). */
  headless: boolean;
  rows?: number;
  cols?: number;
  frames: number;
  modality?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  instanceNumber?: number;
  imagePositionPatient?: number[];
  imageOrientationPatient?: number[];
  sliceLocation?: number;
  bitsAllocated?: number;
  photometric?: string;
  /** A Pixel Data (7FE0,0010) element was reached. */
  hasPixelData: boolean;
}

export function readDicomHeader(bytes: Uint8Array): DicomHeader {
  const { dataSet: d, syntaxUid, headless } = parseDicomBytes(bytes, { untilTag: PIXEL_DATA });
  const h: DicomHeader = {
    transferSyntax: syntaxUid,
    headless,
    frames: is(d, TAGS.frames) ?? 1,
    hasPixelData: d.elements[PIXEL_DATA] !== undefined,
    ...readGeometry(d),
    ...readIdentity(d),
  };
  const set = <K extends keyof DicomHeader>(k: K, v: DicomHeader[K] | undefined) => {
    if (v !== undefined) h[k] = v;
  };
  try {
    set('rows', us(d, TAGS.rows));
    set('cols', us(d, TAGS.cols));
    set('bitsAllocated', us(d, TAGS.bitsAllocated));
  } catch (e) {
    if (!(e instanceof DicomDecodeError)) throw e;
  }
  set('photometric', str(d, TAGS.photometric));
  return h;
}
