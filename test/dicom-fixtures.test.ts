/**
 * Decoder behaviour on fixtures generated here (no ../shared needed): every uncompressed
 * encoding, RLE/JPEG-LS/JPEG 2000 round trips with several fragments with and without a
 * Basic Offset Table, pixel semantics (BitsStored, sign, MONOCHROME1, padding, Enhanced
 * per-frame rescale, multi-frame) and clear reasons for bad input.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DicomDecodeError,
  decodeDicom,
  decodeDicomSync,
  huFrame,
  initCodecs,
  readDicomHeader,
  splitFrames,
} from '../src/dicom/index.js';
import { ctElements, writeDicom, type WElement } from '../src/dicom/write.js';

const require = createRequire(import.meta.url);
const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const BIG = '1.2.840.10008.1.2.2';
const DEFLATE = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const JLS = '1.2.840.10008.1.2.4.80';
const J2K = '1.2.840.10008.1.2.4.90';

/** Deterministic pseudo-random CT-like values in [-1024, 3071]. */
function ramp(n: number, seed = 1): Int16Array {
  const a = new Int16Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    a[i] = (s % 4096) - 1024;
  }
  return a;
}

/** PackBits encoding with literal runs only (valid RLE, simplest encoder). */
function packBits(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 128) {
    const chunk = bytes.subarray(i, i + 128);
    out.push(chunk.length - 1, ...chunk);
  }
  return Uint8Array.from(out);
}

/** DICOM RLE frame of 16-bit samples: header + MSB plane + LSB plane. */
function rleFrame(v: Int16Array): Uint8Array {
  const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const hi = new Uint8Array(v.length);
  const lo = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    lo[i] = u[2 * i];
    hi[i] = u[2 * i + 1];
  }
  const s0 = packBits(hi);
  const s1 = packBits(lo);
  const pad = (b: Uint8Array) => (b.length % 2 ? Uint8Array.from([...b, 0x80]) : b);
  const a = pad(s0);
  const b = pad(s1);
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, 64 + a.length, true);
  return Uint8Array.from([...header, ...a, ...b]);
}

function split(b: Uint8Array, at: number): Uint8Array[] {
  return [b.slice(0, at), b.slice(at)];
}

const R = 16;
const C = 12;
const N = R * C;

beforeAll(async () => {
  await initCodecs();
});

describe('uncompressed transfer syntaxes', () => {
  const px = ramp(N);
  for (const [name, ts] of [
    ['explicit LE', EXPLICIT],
    ['implicit LE', IMPLICIT],
    ['explicit BE', BIG],
    ['deflated explicit LE', DEFLATE],
  ] as const) {
    it(`${name}: stored values and float HU round-trip`, async () => {
      const bytes = writeDicom({ transferSyntax: ts, elements: ctElements({ rows: R, cols: C, slope: 0.5, intercept: -1024.25 }), pixelData: px });
      const img = await decodeDicom(bytes);
      expect([img.rows, img.cols, img.frames, img.transferSyntax]).toEqual([R, C, 1, ts]);
      expect(Array.from(img.stored)).toEqual(Array.from(px));
      const hu = huFrame(img);
      for (let i = 0; i < N; i++) expect(hu[i]).toBe(Math.fround(px[i] * 0.5 - 1024.25));
    });
  }

  it('explicit LE aligned pixel data is a zero-copy view over the input buffer', async () => {
    const bytes = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: R, cols: C }), pixelData: px });
    const img = decodeDicomSync(bytes);
    expect(img.stored.buffer).toBe(bytes.buffer);
    expect(img.stored).toBeInstanceOf(Int16Array);
  });

  it('headless implicit LE (no preamble, no meta header) decodes', () => {
    const bytes = writeDicom({ transferSyntax: IMPLICIT, elements: ctElements({ rows: R, cols: C }), pixelData: px, headless: true });
    const img = decodeDicomSync(bytes);
    expect(img.transferSyntax).toBe(IMPLICIT);
    expect(Array.from(img.stored)).toEqual(Array.from(px));
  });

  it('meta header without the 128-byte preamble decodes', () => {
    const full = writeDicom({ transferSyntax: BIG, elements: ctElements({ rows: R, cols: C }), pixelData: px });
    const img = decodeDicomSync(full.subarray(128 + 4));
    expect(Array.from(img.stored)).toEqual(Array.from(px));
  });
});

describe('pixel semantics', () => {
  it('BitsStored 12 signed: garbage high bits are masked and the sign extended', () => {
    const want = Int16Array.from([-2048, -1, 0, 1, 2047, -5]);
    const raw = new Uint16Array(want.length);
    want.forEach((v, i) => (raw[i] = (v & 0x0fff) | 0xa000)); // overlay garbage in bits 13..15
    const bytes = writeDicom({
      transferSyntax: EXPLICIT,
      elements: ctElements({ rows: 2, cols: 3, bitsStored: 12, pixelRepresentation: 1 }),
      pixelData: raw,
    });
    expect(Array.from(decodeDicomSync(bytes).stored)).toEqual(Array.from(want));
  });

  it('BitsStored 12 unsigned: high bits masked off', () => {
    const raw = Uint16Array.from([0xf000, 0x0fff, 0x1234, 7]);
    const bytes = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: 2, cols: 2, bitsStored: 12, pixelRepresentation: 0 }), pixelData: raw });
    expect(Array.from(decodeDicomSync(bytes).stored)).toEqual([0, 0xfff, 0x234, 7]);
  });

  it('MONOCHROME1 is inverted within the stored range before rescale', () => {
    const raw = Uint16Array.from([0, 100, 4095, 2000]);
    const bytes = writeDicom({
      transferSyntax: EXPLICIT,
      elements: ctElements({ rows: 2, cols: 2, bitsStored: 12, pixelRepresentation: 0, photometric: 'MONOCHROME1', intercept: -1024 }),
      pixelData: raw,
    });
    expect(Array.from(huFrame(decodeDicomSync(bytes)))).toEqual([4095 - 1024, 3995 - 1024, -1024, 2095 - 1024]);
  });

  it("PixelPaddingValue: 'air' sets −1000 HU (with range limit), 'keep' leaves the rescaled value", () => {
    const raw = Int16Array.from([-2000, -1990, -1980, 40]);
    const bytes = writeDicom({
      transferSyntax: EXPLICIT,
      elements: ctElements({
        rows: 2,
        cols: 2,
        intercept: -1024,
        extra: [
          { tag: 0x00280120, vr: 'SS', value: -2000 },
          { tag: 0x00280121, vr: 'SS', value: -1990 },
        ],
      }),
      pixelData: raw,
    });
    const img = decodeDicomSync(bytes);
    expect(img.pixelPaddingValue).toBe(-2000);
    expect(Array.from(huFrame(img, 0, { padding: 'air' }))).toEqual([-1000, -1000, -3004, -984]);
    expect(Array.from(huFrame(img, 0, { padding: 'keep' }))).toEqual([-3024, -3014, -3004, -984]);
  });

  it('multi-frame: all frames, one chosen frame, and split into slices', () => {
    const px = ramp(N * 3, 7);
    const bytes = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: R, cols: C, frames: 3 }), pixelData: px });
    const all = decodeDicomSync(bytes);
    expect(all.frames).toBe(3);
    const f2 = decodeDicomSync(bytes, { frame: 2 });
    expect(f2.frames).toBe(1);
    expect(Array.from(f2.stored)).toEqual(Array.from(px.subarray(2 * N)));
    const slices = splitFrames(all);
    expect(Array.from(slices[1].stored)).toEqual(Array.from(px.subarray(N, 2 * N)));
    expect(Array.from(huFrame(all, 2))).toEqual(Array.from(huFrame(f2, 0)));
    expect(() => decodeDicomSync(bytes, { frame: 3 })).toThrow(/frame 3 requested, file has 3 frame/);
  });

  it('Enhanced CT: per-frame rescale from the functional groups overrides shared and top-level', () => {
    const pvt = (slope: string, intercept: string): WElement => ({
      tag: 0x00289145,
      vr: 'SQ',
      value: [[{ tag: 0x00281053, vr: 'DS', value: slope }, { tag: 0x00281052, vr: 'DS', value: intercept }]],
    });
    const px = Int16Array.from([10, 20, 10, 20]);
    for (const ts of [EXPLICIT, IMPLICIT]) {
      const bytes = writeDicom({
        transferSyntax: ts,
        elements: ctElements({
          rows: 1,
          cols: 2,
          frames: 2,
          extra: [
            { tag: 0x52009229, vr: 'SQ', value: [[pvt('1', '-1000')]] },
            { tag: 0x52009230, vr: 'SQ', value: [[pvt('2', '-1024')], []] },
          ],
        }),
        pixelData: px,
      });
      const img = decodeDicomSync(bytes);
      expect(img.frameRescale).toEqual([{ slope: 2, intercept: -1024 }, { slope: 1, intercept: -1000 }]);
      expect(Array.from(huFrame(img, 0))).toEqual([-1004, -984]);
      expect(Array.from(huFrame(img, 1))).toEqual([-990, -980]);
    }
  });
});

describe('encapsulated pixel data', () => {
  const px = ramp(N, 3);

  it('RLE: one frame in two fragments, no Basic Offset Table', () => {
    const bytes = writeDicom({ transferSyntax: RLE, elements: ctElements({ rows: R, cols: C }), pixelData: { fragments: split(rleFrame(px), 100) } });
    expect(Array.from(decodeDicomSync(bytes).stored)).toEqual(Array.from(px));
  });

  it('RLE: three frames in five fragments located by the Basic Offset Table', () => {
    const frames = [ramp(N, 1), ramp(N, 2), ramp(N, 3)];
    const enc = frames.map(rleFrame);
    const f0 = split(enc[0], 64);
    const f2 = split(enc[2], 80);
    const item = (b: Uint8Array) => 8 + b.length + (b.length % 2);
    const offsets = [0, item(f0[0]) + item(f0[1]), item(f0[0]) + item(f0[1]) + item(enc[1])];
    const bytes = writeDicom({
      transferSyntax: RLE,
      elements: ctElements({ rows: R, cols: C, frames: 3 }),
      pixelData: { fragments: [...f0, enc[1], ...f2], offsets },
    });
    const img = decodeDicomSync(bytes);
    expect(Array.from(img.stored)).toEqual([...frames[0], ...frames[1], ...frames[2]]);
    expect(Array.from(decodeDicomSync(bytes, { frame: 1 }).stored)).toEqual(Array.from(frames[1]));
  });

  it('RLE: frames that cannot be located give a reason', () => {
    const enc = [rleFrame(ramp(N, 1)), rleFrame(ramp(N, 2))];
    const bytes = writeDicom({ transferSyntax: RLE, elements: ctElements({ rows: R, cols: C, frames: 2 }), pixelData: { fragments: [...split(enc[0], 70), enc[1]] } });
    expect(() => decodeDicomSync(bytes)).toThrow(/cannot split 3 fragment\(s\) into 2 frames/);
  });

  it('JPEG-LS round trip (CharLS encoder), signed 16-bit', async () => {
    const CharLS = await require('@cornerstonejs/codec-charls/wasmjs')();
    const e = new CharLS.JpegLSEncoder();
    const buf = e.getDecodedBuffer({ width: C, height: R, bitsPerSample: 16, componentCount: 1, isSigned: true });
    new Int16Array(buf.buffer, buf.byteOffset, N).set(px);
    e.encode();
    const enc = e.getEncodedBuffer().slice();
    e.delete();
    const bytes = writeDicom({ transferSyntax: JLS, elements: ctElements({ rows: R, cols: C }), pixelData: { fragments: split(enc, 40) } });
    const img = decodeDicomSync(bytes);
    expect(Array.from(img.stored)).toEqual(Array.from(px));
  });

  it('JPEG 2000 round trip (OpenJPEG encoder): two frames, each in two fragments, no BOT (split by SOC markers)', async () => {
    const OJ = await require('@cornerstonejs/codec-openjpeg/wasmjs')();
    const encode = (v: Int16Array) => {
      const e = new OJ.J2KEncoder();
      e.setDecompositions(1);
      const buf = e.getDecodedBuffer({ width: C, height: R, bitsPerSample: 16, componentCount: 1, isSigned: true, isUsingColorTransform: false });
      new Int16Array(buf.buffer, buf.byteOffset, N).set(v);
      e.encode();
      const out = e.getEncodedBuffer().slice();
      e.delete();
      return out;
    };
    const frames = [ramp(N, 11), ramp(N, 12)];
    const enc = frames.map(encode);
    const bytes = writeDicom({
      transferSyntax: J2K,
      elements: ctElements({ rows: R, cols: C, frames: 2 }),
      pixelData: { fragments: [...split(enc[0], 30), ...split(enc[1], 50)] },
    });
    const img = decodeDicomSync(bytes);
    expect(Array.from(img.stored)).toEqual([...frames[0], ...frames[1]]);
  });
});

describe('header and reasons', () => {
  it('readDicomHeader reads ordering attributes and stops before pixel data', () => {
    const bytes = writeDicom({
      transferSyntax: EXPLICIT,
      elements: ctElements({
        rows: R,
        cols: C,
        extra: [
          { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
          { tag: 0x0020000e, vr: 'UI', value: '1.2.3.4' },
          { tag: 0x00200013, vr: 'IS', value: '42' },
          { tag: 0x00200032, vr: 'DS', value: '-10.5\\20\\-300.25' },
          { tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\1\\0' },
          { tag: 0x00201041, vr: 'DS', value: '-300.25' },
        ],
      }),
      pixelData: ramp(N),
    });
    const truncated = bytes.subarray(0, bytes.length - 100); // header parse must not care
    const h = readDicomHeader(truncated);
    expect(h).toMatchObject({
      transferSyntax: EXPLICIT,
      rows: R,
      cols: C,
      frames: 1,
      studyInstanceUID: '1.2.3',
      seriesInstanceUID: '1.2.3.4',
      sopInstanceUID: '1.2.3.4.5.6.7',
      instanceNumber: 42,
      imagePositionPatient: [-10.5, 20, -300.25],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      sliceLocation: -300.25,
      hasPixelData: true,
    });
    expect(() => decodeDicomSync(truncated)).toThrow(DicomDecodeError);
  });

  const reason = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(DicomDecodeError);
      return (e as DicomDecodeError).reason;
    }
    throw new Error('expected a DicomDecodeError');
  };

  it('bad inputs end in specific reasons, and the file name is in the message', () => {
    const px = ramp(N);
    const good = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: R, cols: C }), pixelData: px });
    expect(reason(() => decodeDicomSync(good.subarray(0, good.length - 10)))).toMatch(/truncated/);
    const noRows = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: R, cols: C }).filter((e) => e.tag !== 0x00280010), pixelData: px });
    expect(reason(() => decodeDicomSync(noRows))).toBe('missing Rows (0028,0010)');
    const noPixels = writeDicom({ transferSyntax: EXPLICIT, elements: ctElements({ rows: R, cols: C }) });
    expect(reason(() => decodeDicomSync(noPixels))).toMatch(/^no Pixel Data \(7FE0,0010\)/);
    const odd = writeDicom({ transferSyntax: '1.2.840.10008.1.2.4.100', elements: ctElements({ rows: R, cols: C }), pixelData: px });
    expect(reason(() => decodeDicomSync(odd))).toMatch(/unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100/);
    expect(reason(() => decodeDicomSync(new TextEncoder().encode('hello, this is not DICOM at all')))).toMatch(/no DICOM preamble/);
    expect(() => decodeDicomSync(noRows, { file: '/x/y.dcm' })).toThrow(/^\/x\/y\.dcm: missing Rows/);
    const badFrames = writeDicom({ transferSyntax: EXPLICIT, elements: [...ctElements({ rows: R, cols: C }), { tag: 0x00280008, vr: 'IS', value: '1A' }], pixelData: px });
    expect(reason(() => decodeDicomSync(badFrames))).toBe("NumberOfFrames (0028,0008) is '1A', not an integer");
  });
});

describe('lossy and mismatched codestreams', () => {
  const R2 = 32;
  const C2 = 32;
  const smooth = (lo: number, hi: number) => {
    const a = new Int16Array(R2 * C2);
    for (let y = 0; y < R2; y++) for (let x = 0; x < C2; x++) a[y * C2 + x] = Math.round(lo + ((hi - lo) * (x + y)) / (R2 + C2 - 2));
    return a;
  };

  it('JPEG baseline 8-bit (.4.50, libjpeg-turbo encoder): HU within 2 % of the range', async () => {
    const LJ = await require('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs')();
    const src = smooth(0, 255);
    const e = new LJ.JPEGEncoder();
    e.setQuality(95);
    const buf = e.getDecodedBuffer({ width: C2, height: R2, bitsPerSample: 8, componentCount: 1, isSigned: false });
    buf.set(Uint8Array.from(src));
    e.encode();
    const enc = e.getEncodedBuffer().slice();
    e.delete();
    const bytes = writeDicom({
      transferSyntax: '1.2.840.10008.1.2.4.50',
      elements: ctElements({ rows: R2, cols: C2, bitsAllocated: 8, pixelRepresentation: 0, slope: 4, intercept: -1024 }),
      pixelData: { fragments: [enc] },
    });
    const img = decodeDicomSync(bytes);
    expect(img.stored).toBeInstanceOf(Uint8Array);
    const hu = huFrame(img);
    const tol = 0.02 * 255 * 4;
    for (let i = 0; i < src.length; i++) expect(Math.abs(hu[i] - (src[i] * 4 - 1024))).toBeLessThanOrEqual(tol);
  });

  it('JPEG-LS near-lossless (.4.81): every sample within NEAR', async () => {
    const CharLS = await require('@cornerstonejs/codec-charls/wasmjs')();
    const src = ramp(R2 * C2, 5);
    const e = new CharLS.JpegLSEncoder();
    const buf = e.getDecodedBuffer({ width: C2, height: R2, bitsPerSample: 16, componentCount: 1, isSigned: true });
    new Int16Array(buf.buffer, buf.byteOffset, src.length).set(src);
    e.setNearLossless(3);
    e.encode();
    const enc = e.getEncodedBuffer().slice();
    e.delete();
    const bytes = writeDicom({ transferSyntax: '1.2.840.10008.1.2.4.81', elements: ctElements({ rows: R2, cols: C2 }), pixelData: { fragments: [enc] } });
    const got = decodeDicomSync(bytes).stored;
    let maxErr = 0;
    for (let i = 0; i < src.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - src[i]));
    expect(maxErr).toBeLessThanOrEqual(3);
  });

  it('J2K codestream says unsigned, header says PixelRepresentation 1: stored values follow the header', async () => {
    const OJ = await require('@cornerstonejs/codec-openjpeg/wasmjs')();
    const want = ramp(R2 * C2, 9).map((v) => v - 1000); // negative values present
    const e = new OJ.J2KEncoder();
    e.setDecompositions(1);
    const buf = e.getDecodedBuffer({ width: C2, height: R2, bitsPerSample: 16, componentCount: 1, isSigned: false, isUsingColorTransform: false });
    new Int16Array(buf.buffer, buf.byteOffset, want.length).set(want); // same bits, declared unsigned
    e.encode();
    const enc = e.getEncodedBuffer().slice();
    e.delete();
    const bytes = writeDicom({ transferSyntax: J2K, elements: ctElements({ rows: R2, cols: C2, pixelRepresentation: 1 }), pixelData: { fragments: [enc] } });
    const img = decodeDicomSync(bytes);
    expect(img.stored).toBeInstanceOf(Int16Array);
    expect(Array.from(img.stored)).toEqual(Array.from(want));
  });
});
