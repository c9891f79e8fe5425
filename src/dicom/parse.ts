/**
 * Byte-level parsing of a DICOM file into a dicom-parser DataSet. dicom-parser does the
 * element walking (explicit/implicit VR, big endian, sequences, encapsulated fragments);
 * this module adds what it leaves to the caller: files without the 128-byte preamble or
 * meta header, deflate through node:zlib with an output cap, and errors as
 * DicomDecodeError instead of thrown strings.
 *
 * @example
 *   const { dataSet, syntaxUid } = parseDicomBytes(bytes);
 *   dataSet.uint16('x00280010'); // Rows
 */
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { DicomDecodeError, asDecodeError } from './errors.js';

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const PIXEL_DATA = 'x7fe00010';

/** Deflated data sets are capped so a small hostile file cannot inflate into gigabytes. */
const MAX_INFLATED = 1 << 30;

export interface ParsedDicom {
  dataSet: DataSet;
  /** Transfer syntax UID from the meta header, or the one the headless data was read as. */
  syntaxUid: string;
  /** True when the file had no preamble + meta header. */
  headless: boolean;
  /** The byte array the data set's offsets refer to (inflated for deflate). */
  byteArray: Uint8Array;
}

export interface ParseOptions {
  /** Stop before this tag (e.g. 'x7fe00010' for a header-only parse). */
  untilTag?: string;
}

const VRS = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

function hasPreamble(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

function inflater(arr: Uint8Array, position: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    throw new DicomDecodeError(`deflated data set does not inflate: ${(e as Error).message}`, { kind: 'corrupt-deflate' });
  }
  const out = new Uint8Array(position + inflated.length);
  out.set(arr.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

/** Parses a Part 10 file, or headless data read as little endian. Throws DicomDecodeError. */
export function parseDicomBytes(bytes: Uint8Array, opts: ParseOptions = {}): ParsedDicom {
  if (!(bytes instanceof Uint8Array)) throw new DicomDecodeError('input is not a Uint8Array', { kind: 'invalid-input' });
  if (bytes.length < 8) throw new DicomDecodeError(`file holds ${bytes.length} bytes, too short for DICOM`, { kind: 'not-dicom' });
  let b = bytes;
  // Meta header without the 128-byte preamble: group 0002 at offset 0 in explicit VR LE.
  if (!hasPreamble(b) && b[0] === 0x02 && b[1] === 0x00 && VRS.has(String.fromCharCode(b[4], b[5]))) {
    const withPreamble = new Uint8Array(132 + b.length);
    withPreamble.set([0x44, 0x49, 0x43, 0x4d], 128);
    withPreamble.set(b, 132);
    b = withPreamble;
  }
  if (hasPreamble(b)) {
    let byteArray: Uint8Array = b;
    let dataSet: DataSet;
    try {
      dataSet = dicomParser.parseDicom(b, {
        untilTag: opts.untilTag,
        inflater: ((arr: Uint8Array, pos: number) => (byteArray = inflater(arr, pos))) as never,
      });
    } catch (e) {
      throw parserError(e, b);
    }
    const syntaxUid = dataSet.string('x00020010')?.replace(/\0/g, '').trim();
    if (!syntaxUid) throw new DicomDecodeError('meta header has no Transfer Syntax UID (0002,0010)', { kind: 'parse' });
    return { dataSet, syntaxUid, headless: false, byteArray: dataSet.byteArray as Uint8Array ?? byteArray };
  }
  return parseHeadless(b, opts);
}

/**
 * No preamble, no meta header: the data set starts at byte 0. DICOM says such data is
 * implicit VR little endian; some writers used explicit VR, which we detect by a valid
 * VR in bytes 4..5 (as pydicom and GDCM do).
 */
function parseHeadless(b: Uint8Array, opts: ParseOptions): ParsedDicom {
  const group = b[0] | (b[1] << 8);
  // A data set starts with its lowest group: 0008 (identifying) in practice, at most 0028.
  if (group < 0x0004 || group > 0x0028 || (group & 1) === 1) {
    throw new DicomDecodeError(
      `no DICOM preamble ("DICM" at byte 128) and the data does not start with a plausible element tag (group 0x${group.toString(16).padStart(4, '0')})`,
      { kind: 'not-dicom' },
    );
  }
  const explicit = VRS.has(String.fromCharCode(b[4], b[5]));
  const syntaxUid = explicit ? EXPLICIT_LE : IMPLICIT_LE;
  const parser = dicomParser.littleEndianByteArrayParser;
  const DataSetCtor = (dicomParser as unknown as { DataSet: new (p: unknown, a: Uint8Array, e: object) => DataSet }).DataSet;
  const dataSet = new DataSetCtor(parser, b, {});
  const stream = new dicomParser.ByteStream(parser, b, 0);
  try {
    if (explicit) dicomParser.parseDicomDataSetExplicit(dataSet, stream, b.length, { untilTag: opts.untilTag as string });
    else dicomParser.parseDicomDataSetImplicit(dataSet, stream, b.length, { untilTag: opts.untilTag as string });
  } catch (e) {
    const pe = parserError(e, b);
    if (pe.kind === 'truncated') throw pe;
    throw asDecodeError(
      pe.reason,
      `no DICOM preamble/meta header, and the data does not read as ${explicit ? 'explicit' : 'implicit'} VR little endian`,
      'not-dicom',
    );
  }
  if (Object.keys(dataSet.elements).length === 0) {
    throw new DicomDecodeError('no DICOM preamble/meta header and no readable elements', { kind: 'not-dicom' });
  }
  return { dataSet, syntaxUid, headless: true, byteArray: b };
}

/**
 * dicom-parser throws strings, or `{ exception, dataSet }` with what it read so far. Turn
 * an overrun into a precise "truncated" reason naming the element that runs past the end.
 */
export function parserError(e: unknown, bytes: Uint8Array): DicomDecodeError {
  if (e instanceof DicomDecodeError) return e;
  const obj = e as { exception?: string; dataSet?: DataSet };
  if (obj && typeof obj === 'object' && typeof obj.exception === 'string') {
    const els = obj.dataSet ? Object.values(obj.dataSet.elements) : [];
    const len = (obj.dataSet?.byteArray as Uint8Array | undefined)?.length ?? bytes.length;
    const over = els.find((el) => el.length > 0 && el.dataOffset + el.length > len);
    if (over) {
      const tag = `(${over.tag.slice(1, 5).toUpperCase()},${over.tag.slice(5).toUpperCase()})`;
      const have = Math.max(0, len - over.dataOffset);
      const what = over.tag === PIXEL_DATA ? 'pixel data truncated: Pixel Data (7FE0,0010)' : `file truncated: element ${tag}`;
      return new DicomDecodeError(`${what} declares ${over.length} bytes, the file holds ${have}`, { kind: 'truncated', cause: e });
    }
    const kind = /overrun|overread|end of buffer/i.test(obj.exception) ? 'truncated' : 'parse';
    return new DicomDecodeError(`DICOM parse failed: ${obj.exception.replace(/^dicomParser[.:]\w*:\s*/, '')}`, { kind, cause: e });
  }
  return asDecodeError(e, 'DICOM parse failed', 'parse');
}
