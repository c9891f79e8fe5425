/**
 * Shard record framing and payload encoding (format version 2, see docs/shard-format.md).
 *
 * A shard is a sequence of frames, TFRecord style:
 *
 *   uint64 LE  payload length n
 *   uint32 LE  masked crc32c of the 8 length bytes
 *   n bytes    payload (msgpack map, fixed key order)
 *   uint32 LE  masked crc32c of the payload
 *
 * mask(crc) = (((crc >>> 15) | (crc << 17)) + 0xa282ead8) mod 2^32
 *
 * The framing is a few lines over `@node-rs/crc32`'s crc32c; no npm package writes TFRecord
 * framing without pulling in TensorFlow, so it is written by hand here.
 *
 * @example
 *   const frame = encodeFrame(encodePayload(record));
 *   const { payload } = decodeFrameAt(buf, 0);
 *   const rec = decodePayload(payload);
 */
import { crc32c } from '@node-rs/crc32';
import { Packr } from 'msgpackr';
import type { BatchRecord, OutputDType, Split } from '../types.js';
import { BYTES_PER } from '../batching/dtype.js';
import { crc32cCombine } from './crc32c-combine.js';

/**
 * Version of the index/manifest layout, bumped on any incompatible change. 2: each shard's
 * digest is its CRC-32C (`crc32c`, from the frames' CRCs, no extra pass); `sha256` only with
 * `output.sha256: true`. 1: `sha256` always. Frames and payloads are the same in both.
 */
export const FORMAT_VERSION = 2;
/** Index/manifest versions the readers take. */
export const READABLE_FORMATS: readonly number[] = [1, 2];
/** Version of the record payload (its `v` field): unchanged since format 1. */
export const PAYLOAD_VERSION = 1;
/** Bytes of framing around each payload: 8 (length) + 4 (length crc) + 4 (payload crc). */
export const FRAME_OVERHEAD = 16;
export const SHARD_EXT = '.ctws';
export const INDEX_EXT = '.idx.json';
export const MANIFEST = 'manifest.json';

/** Bytes per element of each dtype (batching/dtype.ts). */
export const DTYPE_BYTES = BYTES_PER;

/** TFRecord's mask of a crc32c. */
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** Masked crc32c as in TFRecord. */
export function maskedCrc32c(data: Uint8Array): number {
  return mask(crc32c(data) >>> 0);
}

/** Frames one payload. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_OVERHEAD + payload.length);
  out.writeBigUInt64LE(BigInt(payload.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(payload, 12);
  out.writeUInt32LE(maskedCrc32c(payload), 12 + payload.length);
  return out;
}

/**
 * Frames a payload given as parts (see encodePayloadParts) without joining them: returns the
 * 12-byte header, the parts themselves, and the 4-byte payload CRC, ready for `writev`. The
 * bytes written equal `encodeFrame(concat(parts))`. `crc` is the CRC-32C of the whole frame
 * (plain, not masked), combined from the CRCs the framing computes anyway (crc32c-combine.ts).
 */
export function encodeFrameParts(parts: Uint8Array[]): { chunks: Uint8Array[]; length: number; crc: number } {
  let n = 0;
  let crc: number | undefined;
  for (const p of parts) {
    n += p.length;
    crc = crc === undefined ? crc32c(p as Buffer) : crc32c(p as Buffer, crc);
  }
  crc = (crc ?? crc32c(Buffer.alloc(0))) >>> 0;
  const head = Buffer.allocUnsafe(12);
  head.writeBigUInt64LE(BigInt(n), 0);
  head.writeUInt32LE(maskedCrc32c(head.subarray(0, 8)), 8);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32LE(mask(crc), 0);
  const frameCrc = crc32cCombine(crc32cCombine(crc32c(head), crc, n), crc32c(tail), 4);
  return { chunks: [head, ...parts, tail], length: FRAME_OVERHEAD + n, crc: frameCrc };
}

/** Thrown by decodeFrameAt; `what` says which part of the frame is damaged. */
export class FrameError extends Error {
  constructor(
    public readonly what: 'truncated' | 'length-crc' | 'payload-crc' | 'length',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the frame starting at `offset` of `buf`, checking both CRCs unless `check` is false.
 * Returns the payload (a view into buf) and the offset just past the frame.
 */
export function decodeFrameAt(buf: Buffer, offset: number, check = true): { payload: Buffer; next: number } {
  if (offset + 12 > buf.length) {
    throw new FrameError('truncated', `frame at byte ${offset}: only ${buf.length - offset} bytes left, header needs 12`);
  }
  const lenBig = buf.readBigUInt64LE(offset);
  if (check && buf.readUInt32LE(offset + 8) !== maskedCrc32c(buf.subarray(offset, offset + 8))) {
    throw new FrameError('length-crc', `frame at byte ${offset}: length CRC mismatch (length bytes damaged)`);
  }
  if (lenBig > BigInt(buf.length)) {
    throw new FrameError('length', `frame at byte ${offset}: length ${lenBig} exceeds the shard size ${buf.length}`);
  }
  const n = Number(lenBig);
  const end = offset + 12 + n + 4;
  if (end > buf.length) {
    throw new FrameError('truncated', `frame at byte ${offset}: needs ${end - offset} bytes, only ${buf.length - offset} left (truncated)`);
  }
  const payload = buf.subarray(offset + 12, offset + 12 + n);
  if (check && buf.readUInt32LE(offset + 12 + n) !== maskedCrc32c(payload)) {
    throw new FrameError('payload-crc', `frame at byte ${offset}: payload CRC mismatch (payload damaged)`);
  }
  return { payload, next: end };
}

// Plain maps (no msgpackr record extension), binary as msgpack bin, no string bundling:
// a Python reader with only `msgpack` decodes it, and equal objects give equal bytes.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, bundleStrings: false });

/** The decoded payload: a BatchRecord plus the format version. */
export interface RecordPayload extends BatchRecord {
  v: number;
  images: Uint8Array;
}

/**
 * Image alignment: a record whose images hold at least ALIGN_MIN_IMAGE_BYTES carries a `pad`
 * (zero bytes, before `images`) that puts its first image byte at a multiple of IMAGE_ALIGN in
 * the shard file. Costs < 0.02 % of a 32 × 512² × 3 record; in return the writer can hand
 * slice buffers to O_DIRECT without copying them (shard-file.ts), and readers get aligned
 * images (mmap, np.frombuffer of float32).
 */
export const IMAGE_ALIGN = 4096;
export const ALIGN_MIN_IMAGE_BYTES = 256 << 10;

/** Length of a msgpack bin header for n bytes. */
const binHeaderLength = (n: number) => (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

/** Frame header, map header, "v" and its value, the "pad" key and the "images" key: the bytes before images, less the pad value and the images' bin header. */
const PREFIX_BEFORE_IMAGES = 12 + 1 + packr.pack('v').length + packr.pack(PAYLOAD_VERSION).length + packr.pack('pad').length + packr.pack('images').length;

/**
 * Number of pad bytes for a record whose frame starts at byte `at` of its shard, or undefined
 * (no `pad` key: `at` not given, or images under ALIGN_MIN_IMAGE_BYTES).
 */
export function alignPad(r: BatchRecord, at: number | undefined): number | undefined {
  const n = imageBytes(r);
  if (at === undefined || n < ALIGN_MIN_IMAGE_BYTES) return undefined;
  const fixed = PREFIX_BEFORE_IMAGES + binHeaderLength(n);
  const t = (IMAGE_ALIGN - ((at + fixed) % IMAGE_ALIGN)) % IMAGE_ALIGN;
  for (let k = 0; ; k++) if ((k + binHeaderLength(k)) % IMAGE_ALIGN === t) return k;
}

/**
 * Encodes a record as the msgpack payload, keys in the documented order. `at`: the byte of
 * the shard where its frame will start (aligns the images, see alignPad).
 */
export function encodePayload(r: BatchRecord, at?: number): Buffer {
  validateRecord(r);
  const pad = alignPad(r, at);
  const obj: Record<string, unknown> = {
    v: PAYLOAD_VERSION,
    ...(pad === undefined ? {} : { pad: Buffer.alloc(pad) }),
    images: Buffer.concat(imageParts(r)),
    shape: [...r.shape],
    dtype: r.dtype,
    labels: [...r.labels],
    study: [...r.study],
    series: [...r.series],
    sop: [...r.sop],
    strategy: r.strategy,
    channels: [...r.channels],
    split: r.split,
    index: r.index,
  };
  if (r.extra !== undefined) obj.extra = r.extra;
  return packr.pack(obj);
}

/** The image bytes of a record as a list of parts. */
function imageParts(r: BatchRecord): Uint8Array[] {
  return Array.isArray(r.images) ? r.images : [r.images];
}

function imageBytes(r: BatchRecord): number {
  return imageParts(r).reduce((n, p) => n + p.byteLength, 0);
}

/** msgpack bin header (bin8/16/32, the smallest that fits, as msgpackr writes it; binHeaderLength). */
function binHeader(n: number): Buffer {
  if (n < 0x100) return Buffer.from([0xc4, n]);
  if (n < 0x10000) return Buffer.from([0xc5, n >>> 8, n & 0xff]);
  const h = Buffer.allocUnsafe(5);
  h[0] = 0xc6;
  h.writeUInt32BE(n, 1);
  return h;
}

/**
 * The payload of `encodePayload(r)` as a list of buffers whose concatenation is byte-identical
 * to it, with the image bytes passed through uncopied (a batch of 32 × 512×512×3 is 25 MB: it
 * is copied by neither msgpack nor framing). Written by hand around msgpackr because msgpackr
 * always copies binary values into its own output buffer. Keys as in encodePayload; each key
 * and value is encoded by the same Packr, so the bytes agree (tested).
 */
export function encodePayloadParts(r: BatchRecord, at?: number): Uint8Array[] {
  validateRecord(r);
  const pad = alignPad(r, at);
  const entries: [string, unknown][] = [
    ['v', PAYLOAD_VERSION],
    ...(pad === undefined ? [] : [['pad', Buffer.alloc(pad)] as [string, unknown]]),
    ['images', undefined],
    ['shape', [...r.shape]],
    ['dtype', r.dtype],
    ['labels', [...r.labels]],
    ['study', [...r.study]],
    ['series', [...r.series]],
    ['sop', [...r.sop]],
    ['strategy', r.strategy],
    ['channels', [...r.channels]],
    ['split', r.split],
    ['index', r.index],
  ];
  if (r.extra !== undefined) entries.push(['extra', r.extra]);
  const before: Uint8Array[] = [Buffer.from([0x80 | entries.length])]; // fixmap: at most 15 keys (13 + pad + extra)
  const after: Uint8Array[] = [];
  let seenImages = false;
  for (const [k, v] of entries) {
    const out = seenImages ? after : before;
    out.push(packr.pack(k));
    if (k === 'images') {
      before.push(binHeader(imageBytes(r)));
      seenImages = true;
    } else out.push(packr.pack(v));
  }
  return [Buffer.concat(before), ...imageParts(r), Buffer.concat(after)];
}

/** Decodes a payload; validates the fields a reader relies on. `where` prefixes error messages. */
export function decodePayload(payload: Uint8Array, where = 'record'): RecordPayload {
  let obj: any;
  try {
    obj = packr.unpack(payload);
  } catch (e) {
    throw new Error(`${where}: payload is not valid msgpack (${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object') throw new Error(`${where}: payload is not a msgpack map`);
  if (obj.v !== PAYLOAD_VERSION) throw new Error(`${where}: record format version ${obj.v}, this reader supports ${PAYLOAD_VERSION}`);
  delete obj.pad; // alignment only (alignPad)
  const rec = obj as RecordPayload;
  try {
    validateRecord(rec);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return rec;
}

/** Checks that a record's fields agree with each other (shape vs bytes vs labels vs UIDs). */
export function validateRecord(r: BatchRecord): void {
  const parts = Array.isArray(r.images) ? r.images : [r.images];
  if (!parts.every((p) => p instanceof Uint8Array)) throw new Error('images must be a Uint8Array (or a list of them) of raw tensor bytes');
  if (!Array.isArray(r.shape) || r.shape.length !== 4 || !r.shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`shape must be 4 positive integers [B,H,W,C], got ${JSON.stringify(r.shape)}`);
  }
  const bytes = DTYPE_BYTES[r.dtype];
  if (!bytes) throw new Error(`dtype must be uint8, float16 or float32, got ${JSON.stringify(r.dtype)}`);
  const [B, H, W, C] = r.shape;
  if (imageBytes(r) !== B * H * W * C * bytes) {
    throw new Error(`images holds ${imageBytes(r)} bytes, shape [${r.shape}] of ${r.dtype} needs ${B * H * W * C * bytes}`);
  }
  for (const k of ['labels', 'study', 'series', 'sop'] as const) {
    if (!Array.isArray(r[k]) || r[k].length !== B) throw new Error(`${k} must have B=${B} entries, has ${Array.isArray(r[k]) ? r[k].length : typeof r[k]}`);
  }
  if (!Array.isArray(r.channels) || r.channels.length !== C) throw new Error(`channels must have C=${C} names, has ${r.channels?.length}`);
  if (r.split !== 'train' && r.split !== 'val') throw new Error(`split must be 'train' or 'val', got ${JSON.stringify(r.split)}`);
  if (!Number.isInteger(r.index) || r.index < 0) throw new Error(`index must be a non-negative integer, got ${r.index}`);
}

/** `train-00003.ctws`: shard file name of shard number `n` of a split. */
export function shardName(split: Split, n: number): string {
  return `${split}-${String(n).padStart(5, '0')}${SHARD_EXT}`;
}

/** `train-00003.idx.json`: index file of a shard file. */
export function indexNameFor(shardFile: string): string {
  return shardFile.slice(0, -SHARD_EXT.length) + INDEX_EXT;
}

/** Float16 bits → number (Node 20 has no Float16Array). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Raw image bytes → typed array: Uint8Array for uint8, Float32Array for float32 and for float16
 * (widened exactly). Copies, so the result is aligned and owns its memory.
 */
export function decodeImages(images: Uint8Array, dtype: OutputDType): Uint8Array | Float32Array {
  if (dtype === 'uint8') return new Uint8Array(images);
  const dv = new DataView(images.buffer, images.byteOffset, images.byteLength);
  if (dtype === 'float32') {
    const out = new Float32Array(images.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  if (dtype === 'float16') {
    const out = new Float32Array(images.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
    return out;
  }
  throw new Error(`decodeImages: unknown dtype ${JSON.stringify(dtype)}`);
}
