/**
 * A tiny DICOM Part 10 writer for fixtures and round-trip tests (implicit/explicit VR,
 * little/big endian, deflated, headless, sequences, encapsulated fragments with or
 * without a Basic Offset Table). Written by hand: dcmjs can write, but not big endian,
 * headless or hand-chosen fragmentation, which is exactly what the decoder tests need.
 *
 * @example
 *   const bytes = writeDicom({ transferSyntax: '1.2.840.10008.1.2.1', elements: [
 *     { tag: 0x00280010, vr: 'US', value: 2 }, … ], pixelData: new Int16Array([1, 2, 3, 4]) });
 */
import { deflateRawSync } from 'node:zlib';

export interface WElement {
  /** (group << 16) | element */
  tag: number;
  vr: string;
  /** Strings for text VRs; numbers for US/SS/UL/SL/FL/FD; bytes for OB/OW/UN; items for SQ. */
  value: string | number | number[] | Uint8Array | Int16Array | Uint16Array | WElement[][];
}

export interface WriteOptions {
  transferSyntax: string;
  elements: WElement[];
  /** Native pixel data (typed array, written in the syntax's byte order) or encapsulated fragments. */
  pixelData?: Uint8Array | Int8Array | Int16Array | Uint16Array | { fragments: Uint8Array[]; offsets?: number[] };
  /** Omit preamble and meta header (headless). Default false. */
  headless?: boolean;
  sopClassUID?: string;
  sopInstanceUID?: string;
}

const LONG_VR = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV', 'SV', 'UV']);

class Out {
  parts: number[] = [];
  constructor(public le: boolean) {}
  u8(...b: number[]) {
    for (const x of b) this.parts.push(x & 0xff);
  }
  u16(v: number) {
    if (this.le) this.u8(v, v >> 8);
    else this.u8(v >> 8, v);
  }
  u32(v: number) {
    if (this.le) this.u8(v, v >> 8, v >> 16, v >>> 24);
    else this.u8(v >>> 24, v >> 16, v >> 8, v);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
  }
  get length() {
    return this.parts.length;
  }
  done() {
    return Uint8Array.from(this.parts);
  }
}

function valueBytes(e: WElement, le: boolean, explicit: boolean): Uint8Array {
  const v = e.value;
  const o = new Out(le);
  switch (e.vr) {
    case 'US':
    case 'SS':
      for (const x of ([] as number[]).concat(v as number)) o.u16(x);
      return o.done();
    case 'UL':
    case 'SL':
      for (const x of ([] as number[]).concat(v as number)) o.u32(x);
      return o.done();
    case 'FL':
    case 'FD': {
      const arr = ([] as number[]).concat(v as number);
      const size = e.vr === 'FL' ? 4 : 8;
      const b = new Uint8Array(arr.length * size);
      const dv = new DataView(b.buffer);
      arr.forEach((x, i) => (size === 4 ? dv.setFloat32(i * 4, x, le) : dv.setFloat64(i * 8, x, le)));
      return b;
    }
    case 'SQ': {
      for (const item of v as WElement[][]) {
        const body = encodeElements(item, le, explicit);
        o.u16(0xfffe);
        o.u16(0xe000);
        o.u32(0xffffffff);
        o.bytes(body);
        o.u16(0xfffe);
        o.u16(0xe00d);
        o.u32(0);
      }
      return o.done();
    }
    default: {
      if (typeof v === 'string') {
        const b = Buffer.from(v, 'latin1');
        const pad = b.length % 2 ? Buffer.from([e.vr === 'UI' ? 0 : 0x20]) : Buffer.alloc(0);
        return new Uint8Array(Buffer.concat([b, pad]));
      }
      const t = v as Uint8Array | Int16Array | Uint16Array;
      const b = new Uint8Array(t.buffer.slice(t.byteOffset, t.byteOffset + t.byteLength));
      if (!le && t.BYTES_PER_ELEMENT === 2) Buffer.from(b.buffer).swap16();
      if (b.length % 2) return Uint8Array.from([...b, 0]);
      return b;
    }
  }
}

function header(o: Out, tag: number, vr: string, len: number, explicit: boolean) {
  o.u16(tag >>> 16);
  o.u16(tag & 0xffff);
  if (!explicit) {
    o.u32(len);
    return;
  }
  o.u8(vr.charCodeAt(0), vr.charCodeAt(1));
  if (LONG_VR.has(vr)) {
    o.u16(0);
    o.u32(len);
  } else o.u16(len);
}

export function encodeElements(els: WElement[], le: boolean, explicit: boolean): Uint8Array {
  const o = new Out(le);
  for (const e of [...els].sort((a, b) => a.tag - b.tag)) {
    const body = valueBytes(e, le, explicit);
    header(o, e.tag, e.vr, e.vr === 'SQ' ? 0xffffffff : body.length, explicit);
    o.bytes(body);
    if (e.vr === 'SQ') {
      o.u16(0xfffe);
      o.u16(0xe0dd);
      o.u32(0);
    }
  }
  return o.done();
}

function encapsulated(frags: Uint8Array[], offsets: number[] | undefined, explicit: boolean): Uint8Array {
  const o = new Out(true);
  header(o, 0x7fe00010, 'OB', 0xffffffff, explicit);
  o.u16(0xfffe);
  o.u16(0xe000);
  o.u32((offsets?.length ?? 0) * 4);
  for (const x of offsets ?? []) o.u32(x);
  for (const f of frags) {
    const even = f.length % 2 ? Uint8Array.from([...f, 0]) : f;
    o.u16(0xfffe);
    o.u16(0xe000);
    o.u32(even.length);
    o.bytes(even);
  }
  o.u16(0xfffe);
  o.u16(0xe0dd);
  o.u32(0);
  return o.done();
}

export function writeDicom(opts: WriteOptions): Uint8Array {
  const ts = opts.transferSyntax;
  const le = ts !== '1.2.840.10008.1.2.2';
  const explicit = ts !== '1.2.840.10008.1.2';
  let body = encodeElements(opts.elements, le, explicit);
  const px = opts.pixelData;
  if (px) {
    let pix: Uint8Array;
    if ('fragments' in px) pix = encapsulated(px.fragments, px.offsets, explicit);
    else {
      const o = new Out(le);
      const vb = valueBytes({ tag: 0x7fe00010, vr: 'OW', value: px as Uint8Array }, le, explicit);
      header(o, 0x7fe00010, px.BYTES_PER_ELEMENT === 1 ? 'OB' : 'OW', vb.length, explicit);
      o.bytes(vb);
      pix = o.done();
    }
    body = Uint8Array.from([...body, ...pix]);
  }
  if (ts === '1.2.840.10008.1.2.1.99') body = new Uint8Array(deflateRawSync(body));
  if (opts.headless) return body;
  const metaEls: WElement[] = [
    { tag: 0x00020001, vr: 'OB', value: Uint8Array.from([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: opts.sopClassUID ?? '1.2.840.10008.5.1.4.1.1.2' },
    { tag: 0x00020003, vr: 'UI', value: opts.sopInstanceUID ?? '1.2.3.4.5.6.7' },
    { tag: 0x00020010, vr: 'UI', value: ts },
  ];
  const meta = encodeElements(metaEls, true, true);
  const group = new Out(true);
  header(group, 0x00020000, 'UL', 4, true);
  group.u32(meta.length);
  const out = new Uint8Array(132 + group.length + meta.length + body.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(group.done(), 132);
  out.set(meta, 132 + group.length);
  out.set(body, 132 + group.length + meta.length);
  return out;
}

/** Standard image elements for a grayscale CT fixture. */
export function ctElements(o: {
  rows: number;
  cols: number;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  frames?: number;
  slope?: number;
  intercept?: number;
  photometric?: string;
  extra?: WElement[];
}): WElement[] {
  const ba = o.bitsAllocated ?? 16;
  const bs = o.bitsStored ?? ba;
  const els: WElement[] = [
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: o.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: o.rows },
    { tag: 0x00280011, vr: 'US', value: o.cols },
    { tag: 0x00280100, vr: 'US', value: ba },
    { tag: 0x00280101, vr: 'US', value: bs },
    { tag: 0x00280102, vr: 'US', value: bs - 1 },
    { tag: 0x00280103, vr: 'US', value: o.pixelRepresentation ?? 1 },
  ];
  if (o.frames !== undefined) els.push({ tag: 0x00280008, vr: 'IS', value: String(o.frames) });
  if (o.slope !== undefined) els.push({ tag: 0x00281053, vr: 'DS', value: String(o.slope) });
  if (o.intercept !== undefined) els.push({ tag: 0x00281052, vr: 'DS', value: String(o.intercept) });
  return [...els, ...(o.extra ?? [])];
}
