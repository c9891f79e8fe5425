/**
 * Splits encapsulated Pixel Data into per-frame codestreams: by the Basic Offset Table when
 * present, one fragment per frame when the counts match, else by frame-start markers (JPEG
 * SOI, J2K SOC). A single frame concatenates all its fragments.
 *
 * @example const frameBytes = encapsulatedFrames(dataSet.byteArray, el, frames, 'jpeg2000')[0];
 */
import type { Element } from 'dicom-parser';
import { DicomDecodeError } from './errors.js';
import type { CodecName } from './syntax.js';

interface Frag {
  offset: number;
  position: number;
  length: number;
}

function concat(byteArray: Uint8Array, frags: Frag[]): Uint8Array {
  if (frags.length === 1) return byteArray.subarray(frags[0].position, frags[0].position + frags[0].length);
  const total = frags.reduce((a, f) => a + f.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of frags) {
    out.set(byteArray.subarray(f.position, f.position + f.length), o);
    o += f.length;
  }
  return out;
}

/** Does fragment f begin a codestream (JPEG SOI, JPEG 2000 / HTJ2K SOC, or a JP2 file)? Whatever the label says. */
function startsFrame(b: Uint8Array, f: Frag): boolean {
  const p = f.position;
  if (f.length < 2) return false;
  if (b[p] === 0xff && (b[p + 1] === 0xd8 || b[p + 1] === 0x4f)) return true;
  return f.length >= 8 && b[p + 4] === 0x6a && b[p + 5] === 0x50 && b[p + 6] === 0x20 && b[p + 7] === 0x20;
}

/** Returns a function giving frame i's codestream bytes (a view when it is one fragment). */
export function encapsulatedFrames(byteArray: Uint8Array, el: Element, frames: number, codec: CodecName): (i: number) => Uint8Array {
  const frags = (el.fragments ?? []) as Frag[];
  if (frags.length === 0) throw new DicomDecodeError('encapsulated Pixel Data holds no fragments', { kind: 'truncated' });
  for (const f of frags) {
    if (f.position + f.length > byteArray.length || f.length < 0) {
      throw new DicomDecodeError(
        `pixel data truncated: fragment at byte ${f.position} claims ${f.length} bytes, file ends at ${byteArray.length}`,
        { kind: 'truncated' },
      );
    }
  }
  if (frames === 1) {
    let cached: Uint8Array | undefined;
    return () => (cached ??= concat(byteArray, frags));
  }
  const bot = el.basicOffsetTable ?? [];
  let groups: Frag[][] | undefined;
  if (bot.length === frames) {
    groups = bot.map((start, i) => frags.filter((f) => f.offset >= start && (i + 1 >= bot.length || f.offset < bot[i + 1])));
    if (groups.some((g) => g.length === 0)) {
      throw new DicomDecodeError('Basic Offset Table points at no fragment for some frame', { kind: 'corrupt-codestream' });
    }
  } else if (frags.length === frames) {
    groups = frags.map((f) => [f]);
  } else if (codec !== 'rle') {
    groups = [];
    for (const f of frags) {
      if (groups.length === 0 || startsFrame(byteArray, f)) groups.push([f]);
      else groups[groups.length - 1].push(f);
    }
  }
  if (!groups || groups.length !== frames) {
    throw new DicomDecodeError(
      `cannot split ${frags.length} fragment(s) into ${frames} frames (Basic Offset Table has ${bot.length} entries)`,
      { kind: 'corrupt-codestream' },
    );
  }
  const g = groups;
  return (i) => concat(byteArray, g[i]);
}
