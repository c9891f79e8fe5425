/**
 * Typed, validated access to the attributes the decoder and the pipeline need. Every
 * malformed value that matters for decoding (e.g. NumberOfFrames "1A") becomes a
 * DicomDecodeError naming the attribute; descriptive values (window, UIDs) are lenient.
 *
 * @example
 *   const a = readImageAttributes(parseDicomBytes(bytes).dataSet);
 *   a.rows; a.frameRescale?.[3].slope;
 */
import type { DataSet, Element } from 'dicom-parser';
import type { DicomImage } from '../types.js';
import { DicomDecodeError } from './errors.js';

export const TAGS = {
  rows: 'x00280010',
  cols: 'x00280011',
  frames: 'x00280008',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  pixelPaddingValue: 'x00280120',
  pixelPaddingRangeLimit: 'x00280121',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  modality: 'x00080060',
  sopInstanceUID: 'x00080018',
  studyInstanceUID: 'x0020000d',
  seriesInstanceUID: 'x0020000e',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  sliceLocation: 'x00201041',
  sharedGroups: 'x52009229',
  perFrameGroups: 'x52009230',
  pixelValueTransformation: 'x00289145',
  planePosition: 'x00209113',
  planeOrientation: 'x00209116',
} as const;

const NAMES: Record<string, string> = {
  x00280010: 'Rows (0028,0010)',
  x00280011: 'Columns (0028,0011)',
  x00280008: 'NumberOfFrames (0028,0008)',
  x00280002: 'SamplesPerPixel (0028,0002)',
  x00280100: 'BitsAllocated (0028,0100)',
  x00280101: 'BitsStored (0028,0101)',
  x00280102: 'HighBit (0028,0102)',
  x00280103: 'PixelRepresentation (0028,0103)',
  x00281052: 'RescaleIntercept (0028,1052)',
  x00281053: 'RescaleSlope (0028,1053)',
};

const tagName = (tag: string) => NAMES[tag] ?? `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;

function el(ds: DataSet | undefined, tag: string): Element | undefined {
  const e = ds?.elements[tag];
  return e && e.length > 0 ? e : undefined;
}

/** Trimmed string value, or undefined when absent/empty. */
export function str(ds: DataSet | undefined, tag: string): string | undefined {
  if (!el(ds, tag)) return undefined;
  let s: string | undefined;
  try {
    s = ds!.string(tag);
  } catch {
    return undefined;
  }
  s = s?.replace(/\0/g, '').trim();
  return s ? s : undefined;
}

/** Unsigned short (US), validated to exist when `required`. */
export function us(ds: DataSet, tag: string, required: true): number;
export function us(ds: DataSet, tag: string, required?: false): number | undefined;
export function us(ds: DataSet, tag: string, required = false): number | undefined {
  const e = el(ds, tag);
  if (!e) {
    if (required) throw new DicomDecodeError(`missing ${tagName(tag)}`, { kind: 'missing-attribute' });
    return undefined;
  }
  if (e.length < 2) throw new DicomDecodeError(`${tagName(tag)} holds ${e.length} byte(s), expected 2`, { kind: 'bad-attribute' });
  return ds.uint16(tag) as number;
}

/** Decimal string values (DS), NaN-free; throws naming the attribute when `strict`. */
export function ds(ds_: DataSet | undefined, tag: string, strict = false): number[] | undefined {
  const s = str(ds_, tag);
  if (s === undefined) return undefined;
  const parts = s.split('\\').map((p) => p.trim());
  const vals = parts.map((p) => (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(p) ? Number(p) : NaN));
  if (vals.some((v) => !Number.isFinite(v))) {
    if (strict) throw new DicomDecodeError(`${tagName(tag)} is '${s}', not a decimal number`, { kind: 'bad-attribute' });
    const ok = vals.filter((v) => Number.isFinite(v));
    return ok.length ? ok : undefined;
  }
  return vals;
}

/** Integer string (IS); throws naming the attribute when `strict` and malformed. */
export function is(ds_: DataSet | undefined, tag: string, strict = false): number | undefined {
  const s = str(ds_, tag)?.split('\\')[0]?.trim();
  if (s === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(s)) {
    if (strict) throw new DicomDecodeError(`${tagName(tag)} is '${s}', not an integer`, { kind: 'bad-attribute' });
    return undefined;
  }
  return Number(s);
}

function firstItem(ds_: DataSet | undefined, tag: string): DataSet | undefined {
  return ds_?.elements[tag]?.items?.[0]?.dataSet;
}

/** The Image Pixel module (+ rescale, window, padding): DicomImage's own fields, plus two the decoders need. */
export type ImageAttributes = Pick<
  DicomImage,
  | 'rows' | 'cols' | 'frames' | 'samplesPerPixel' | 'photometric' | 'bitsAllocated' | 'bitsStored' | 'pixelRepresentation'
  | 'slope' | 'intercept' | 'frameRescale' | 'windowCenter' | 'windowWidth' | 'pixelPaddingValue' | 'pixelPaddingRangeLimit'
> & {
  planarConfiguration: number;
  highBit: number;
};

/** Reads and validates the Image Pixel module (+ rescale, window, padding). */
export function readImageAttributes(d: DataSet): ImageAttributes {
  const rows = us(d, TAGS.rows, true);
  const cols = us(d, TAGS.cols, true);
  if (rows === 0 || cols === 0) throw new DicomDecodeError(`image is ${rows}×${cols}: Rows and Columns must be > 0`, { kind: 'bad-attribute' });
  const frames = is(d, TAGS.frames, true) ?? 1;
  if (frames < 1) throw new DicomDecodeError(`NumberOfFrames (0028,0008) is ${frames}, must be ≥ 1`, { kind: 'bad-attribute' });
  const samplesPerPixel = us(d, TAGS.samplesPerPixel) ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new DicomDecodeError(`SamplesPerPixel (0028,0002) is ${samplesPerPixel}, expected 1 or 3`, { kind: 'bad-attribute' });
  }
  const bitsAllocated = us(d, TAGS.bitsAllocated, true);
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new DicomDecodeError(`BitsAllocated (0028,0100) is ${bitsAllocated}, expected 1, 8, 16 or 32`, { kind: 'unsupported-pixels' });
  }
  if (bitsAllocated === 1) throw new DicomDecodeError('BitsAllocated 1 (bit-packed pixels) is not supported for CT', { kind: 'unsupported-pixels' });
  const bitsStored = us(d, TAGS.bitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new DicomDecodeError(`BitsStored (0028,0101) is ${bitsStored}, must be 1..BitsAllocated (${bitsAllocated})`, { kind: 'bad-attribute' });
  }
  const highBit = us(d, TAGS.highBit) ?? bitsStored - 1;
  const pr = us(d, TAGS.pixelRepresentation) ?? 0;
  if (pr !== 0 && pr !== 1) throw new DicomDecodeError(`PixelRepresentation (0028,0103) is ${pr}, expected 0 or 1`, { kind: 'bad-attribute' });
  const photometric = str(d, TAGS.photometric) ?? 'MONOCHROME2';
  const slope = ds(d, TAGS.rescaleSlope, true)?.[0] ?? 1;
  const intercept = ds(d, TAGS.rescaleIntercept, true)?.[0] ?? 0;
  const attrs: ImageAttributes = {
    rows,
    cols,
    frames,
    samplesPerPixel,
    photometric,
    planarConfiguration: us(d, TAGS.planarConfiguration) ?? 0,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pr as 0 | 1,
    slope,
    intercept,
    windowCenter: ds(d, TAGS.windowCenter) ?? [],
    windowWidth: ds(d, TAGS.windowWidth) ?? [],
  };
  const ppv = paddingValue(d, TAGS.pixelPaddingValue, pr);
  if (ppv !== undefined) attrs.pixelPaddingValue = ppv;
  const pprl = paddingValue(d, TAGS.pixelPaddingRangeLimit, pr);
  if (pprl !== undefined) attrs.pixelPaddingRangeLimit = pprl;
  checkFramesFit(d, attrs);
  const fr = perFrameRescale(d, frames, slope, intercept);
  if (fr) attrs.frameRescale = fr;
  return attrs;
}

/**
 * A header is data: NumberOfFrames is believed only as far as the Pixel Data present can hold
 * (native: a whole frame of bytes each; encapsulated: at least one 8-byte item each), so no
 * loop or allocation is ever sized by a number the file cannot back (NumberOfFrames
 * 400,000,000 in a 500 KB file is refused here, before the per-frame rescale is read).
 */
function checkFramesFit(d: DataSet, a: ImageAttributes): void {
  const pix = d.elements['x7fe00010'];
  if (!pix || a.frames === 1) return;
  const encapsulated = !!(pix.encapsulatedPixelData || pix.hadUndefinedLength);
  const present = Math.max(0, Math.min(encapsulated ? Infinity : pix.length, d.byteArray.length - pix.dataOffset));
  const perFrame = encapsulated ? 8 : a.rows * a.cols * a.samplesPerPixel * (a.bitsAllocated / 8);
  if (a.frames * perFrame > present) {
    throw new DicomDecodeError(
      `NumberOfFrames (0028,0008) is ${a.frames}, but the ${present} bytes of Pixel Data hold at most ${Math.floor(present / perFrame)} frame(s) of ${encapsulated ? 'encapsulated items' : `${perFrame} bytes`}`,
      { kind: 'bad-attribute' },
    );
  }
}

/** US or SS depending on PixelRepresentation (implicit VR files do not say which). */
function paddingValue(d: DataSet, tag: string, pr: number): number | undefined {
  const e = el(d, tag);
  if (!e || e.length < 2) return undefined;
  return pr === 1 ? (d.int16(tag) as number) : (d.uint16(tag) as number);
}

/**
 * Enhanced CT/MR: RescaleSlope/Intercept live in the Pixel Value Transformation Sequence
 * (0028,9145) of the per-frame (5200,9230) or shared (5200,9229) functional groups.
 */
function perFrameRescale(d: DataSet, frames: number, slope: number, intercept: number) {
  const shared = firstItem(firstItem(d, TAGS.sharedGroups), TAGS.pixelValueTransformation);
  const perFrame = d.elements[TAGS.perFrameGroups]?.items;
  if (!shared && !perFrame) return undefined;
  const read = (item: DataSet | undefined) =>
    item ? { slope: ds(item, TAGS.rescaleSlope, true)?.[0], intercept: ds(item, TAGS.rescaleIntercept, true)?.[0] } : {};
  const s = read(shared);
  const out: { slope: number; intercept: number }[] = [];
  let any = s.slope !== undefined || s.intercept !== undefined;
  for (let f = 0; f < frames; f++) {
    const p = read(firstItem(perFrame?.[f]?.dataSet, TAGS.pixelValueTransformation));
    if (p.slope !== undefined || p.intercept !== undefined) any = true;
    out.push({ slope: p.slope ?? s.slope ?? slope, intercept: p.intercept ?? s.intercept ?? intercept });
  }
  return any ? out : undefined;
}

/** Geometry for ordering: top level, else frame 0's functional groups (Enhanced). */
/** Modality, the three UIDs and InstanceNumber: only the ones present. */
export type Identity = Partial<Pick<DicomImage, 'modality' | 'studyInstanceUID' | 'seriesInstanceUID' | 'sopInstanceUID' | 'instanceNumber'>>;

export function readIdentity(d: DataSet): Identity {
  const all: Identity = {
    modality: str(d, TAGS.modality),
    studyInstanceUID: str(d, TAGS.studyInstanceUID),
    seriesInstanceUID: str(d, TAGS.seriesInstanceUID),
    sopInstanceUID: str(d, TAGS.sopInstanceUID),
    instanceNumber: is(d, TAGS.instanceNumber),
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Identity;
}

export function readGeometry(d: DataSet): { imagePositionPatient?: number[]; imageOrientationPatient?: number[]; sliceLocation?: number } {
  const groups = [d, firstItem(d, TAGS.perFrameGroups), firstItem(d, TAGS.sharedGroups)];
  const find = (seq: string, tag: string, n: number) => {
    const top = ds(d, tag);
    if (top && top.length === n) return top;
    for (const g of groups.slice(1)) {
      const v = ds(firstItem(g, seq), tag);
      if (v && v.length === n) return v;
    }
    return undefined;
  };
  const out: { imagePositionPatient?: number[]; imageOrientationPatient?: number[]; sliceLocation?: number } = {};
  const ipp = find(TAGS.planePosition, TAGS.imagePositionPatient, 3);
  if (ipp) out.imagePositionPatient = ipp;
  const iop = find(TAGS.planeOrientation, TAGS.imageOrientationPatient, 6);
  if (iop) out.imageOrientationPatient = iop;
  const sl = ds(d, TAGS.sliceLocation)?.[0];
  if (sl !== undefined) out.sliceLocation = sl;
  return out;
}
