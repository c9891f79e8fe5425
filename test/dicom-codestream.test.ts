/**
 * Decoding by what the codestream is (issue 21): a baseline JPEG frame under a lossless label and
 * a lossless frame under a baseline label decode as what they are (with a warning naming both),
 * never as another decoder's misreading; HTJ2K (OpenJPH) lossless is exact for 8/12/16-bit,
 * signed and unsigned, and for real CT from ../shared/corpus; a codestream no decoder here reads
 * is refused by name; transfer syntaxes ctwindow does not decode are named; `probe` and `decode`
 * agree on every file of the corpus and of the fixtures.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { decodeDicomSync, huFrame, initCodecs, probeDicom, readDicomHeader, sniffCodestream, syntaxLabel } from '../src/dicom/index.js';
import { CORPUS } from './helpers/shared.js';

const require = createRequire(import.meta.url);
type Enc = { getDecodedBuffer(o: object): Uint8Array; setQuality(...a: unknown[]): void; encode(): void; getEncodedBuffer(): Uint8Array; delete(): void };
let jpegEnc: new () => Enc;
let htj2kEnc: new () => Enc;

beforeAll(async () => {
  await initCodecs();
  const quiet = { print() {}, printErr() {} };
  jpegEnc = (await require('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs')({ ...quiet })).JPEGEncoder;
  htj2kEnc = (await require('@cornerstonejs/codec-openjph/wasmjs')({ ...quiet })).HTJ2KEncoder;
});

/** A smooth phantom with an edge: what a CT slice looks like to a codec. */
function phantom(w: number, h: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(Math.round(lo + ((hi - lo) * ((x + y) % 97)) / 96 + ((x - w / 2) ** 2 + (y - h / 2) ** 2 < (w / 3) ** 2 ? (hi - lo) / 8 : 0)));
  return out.map((v) => Math.min(hi, Math.max(lo, v)));
}

function encode(Ctor: new () => Enc, px: Uint8Array | Uint16Array | Int16Array, w: number, h: number, bits: number, signed: boolean, quality: unknown[]): Uint8Array {
  const e = new Ctor();
  try {
    e.getDecodedBuffer({ width: w, height: h, bitsPerSample: bits, componentCount: 1, isSigned: signed, isUsingColorTransform: false }).set(new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
    if (Ctor === jpegEnc) {
      (e as unknown as { setProgressive(p: boolean): void }).setProgressive(false);
      e.setQuality(quality[1]);
    } else e.setQuality(...quality);
    e.encode();
    return e.getEncodedBuffer().slice();
  } finally {
    e.delete();
  }
}

const file = (ts: string, code: Uint8Array, o: Parameters<typeof ctElements>[0]) => writeDicom({ transferSyntax: ts, elements: ctElements(o), pixelData: { fragments: [code] } });

describe('a frame is decoded by what its codestream is', () => {
  it('baseline JPEG under a JPEG Lossless SV1 label: decoded as baseline, with a warning naming both', () => {
    const [w, h] = [64, 48];
    const px = Uint8Array.from(phantom(w, h, 20, 230));
    const code = encode(jpegEnc, px, w, h, 8, false, [false, 95]);
    expect(sniffCodestream(code)).toMatchObject({ codec: 'jpeg-baseline', bits: 8 });
    const geometry = { rows: h, cols: w, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 as const };
    const honest = decodeDicomSync(file('1.2.840.10008.1.2.4.50', code, geometry));
    const mislabelled = decodeDicomSync(file('1.2.840.10008.1.2.4.70', code, geometry));
    expect(honest.warnings).toBeUndefined();
    expect(Array.from(mislabelled.stored)).toEqual(Array.from(honest.stored));
    expect(mislabelled.warnings![0]).toBe('the frames are baseline DCT JPEG (SOF0, 8-bit), the transfer syntax says 1.2.840.10008.1.2.4.70 (JPEG Lossless SV1): decoded as baseline DCT JPEG (SOF0, 8-bit)');
    // And it is the image, not noise: within the lossy coder's error of what was encoded.
    const err = Array.from(honest.stored).reduce((a, v, i) => a + Math.abs(v - px[i]), 0) / px.length;
    expect(err).toBeLessThan(3);
  });

  it.skipIf(!CORPUS)('lossless JPEG under a baseline label: decoded as lossless, equal to the honest file', () => {
    const bytes = new Uint8Array(readFileSync(join(CORPUS!, 'syntax', 'JPEG-LL.dcm')));
    const honest = decodeDicomSync(bytes);
    expect(readDicomHeader(bytes).transferSyntax).toBe('1.2.840.10008.1.2.4.70');
    // The same file with its transfer syntax UID rewritten in place (…4.70 → …4.50, same length).
    const relabelled = Buffer.from(bytes);
    const at = relabelled.indexOf('1.2.840.10008.1.2.4.70');
    relabelled.write('1.2.840.10008.1.2.4.50', at, 'latin1');
    expect(readDicomHeader(relabelled).transferSyntax).toBe('1.2.840.10008.1.2.4.50');
    const got = decodeDicomSync(new Uint8Array(relabelled));
    expect(got.warnings![0]).toMatch(/^the frames are lossless JPEG \(SOF3, \d+-bit\), the transfer syntax says 1\.2\.840\.10008\.1\.2\.4\.50 \(JPEG Baseline \(8-bit\)\)/);
    expect(Buffer.from(got.stored.buffer, got.stored.byteOffset, got.stored.byteLength).equals(Buffer.from(honest.stored.buffer, honest.stored.byteOffset, honest.stored.byteLength))).toBe(true);
  });

  it('a codestream no decoder here reads is refused by name (hierarchical JPEG, SOF5)', () => {
    const code = Uint8Array.from([0xff, 0xd8, 0xff, 0xc5, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
    expect(() => decodeDicomSync(file('1.2.840.10008.1.2.4.50', code, { rows: 16, cols: 16, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 })))
      .toThrow('frame 0 is hierarchical DCT JPEG (SOF5, 8-bit), which ctwindow cannot decode (transfer syntax 1.2.840.10008.1.2.4.50 (JPEG Baseline (8-bit)))');
  });
});

describe('HTJ2K (OpenJPH)', () => {
  const cases = [
    { bits: 16, signed: true, lo: -1024, hi: 3071 },
    { bits: 16, signed: false, lo: 0, hi: 65535 },
    { bits: 12, signed: false, lo: 0, hi: 4095 },
    { bits: 8, signed: false, lo: 0, hi: 255 },
  ];
  for (const c of cases) {
    it(`lossless ${c.bits}-bit ${c.signed ? 'signed' : 'unsigned'} decodes exactly (.201, and .203 lossy within tolerance)`, () => {
      const [w, h] = [40, 36];
      const vals = phantom(w, h, c.lo, c.hi);
      const px = c.bits === 8 ? Uint8Array.from(vals) : c.signed ? Int16Array.from(vals) : Uint16Array.from(vals);
      const code = encode(htj2kEnc, px, w, h, c.bits, c.signed, [true, 0]);
      expect(sniffCodestream(code)?.codec).toBe('htj2k');
      const geometry = { rows: h, cols: w, bitsAllocated: c.bits === 8 ? 8 : 16, bitsStored: c.bits, pixelRepresentation: (c.signed ? 1 : 0) as 0 | 1 };
      const img = decodeDicomSync(file('1.2.840.10008.1.2.4.201', code, geometry));
      expect(img.warnings).toBeUndefined();
      const diff = vals.map((v, i) => [i, v, img.stored[i]]).filter(([, v, g]) => v !== g);
      expect(diff.slice(0, 5), `${diff.length} values differ`).toEqual([]);
      const lossy = decodeDicomSync(file('1.2.840.10008.1.2.4.203', encode(htj2kEnc, px, w, h, c.bits, c.signed, [false, 0.001]), geometry));
      const range = c.hi - c.lo;
      const err = Array.from(lossy.stored).reduce((a, v, i) => a + Math.abs(v - vals[i]), 0) / vals.length;
      expect(err).toBeLessThan(range * 0.02);
    });
  }

  it.skipIf(!CORPUS)('real CT from ../shared/corpus, encoded lossless: the same stored values and HU', () => {
    const dir = join(CORPUS!, 'ct');
    const names = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().slice(0, 4);
    for (const n of names) {
      const src = decodeDicomSync(new Uint8Array(readFileSync(join(dir, n))));
      const signed = src.pixelRepresentation === 1;
      const code = encode(htj2kEnc, src.stored as Int16Array | Uint16Array, src.cols, src.rows, 16, signed, [true, 0]);
      const img = decodeDicomSync(file('1.2.840.10008.1.2.4.201', code, { rows: src.rows, cols: src.cols, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: src.pixelRepresentation, slope: src.slope, intercept: src.intercept }));
      expect(Buffer.from(img.stored.buffer, img.stored.byteOffset, img.stored.byteLength).equals(Buffer.from(src.stored.buffer, src.stored.byteOffset, src.stored.byteLength)), n).toBe(true);
      // HU as decoded (padding kept: the HTJ2K file carries no PixelPaddingValue), compared as bytes.
      const hu = (i: typeof img) => Buffer.from(huFrame(i, 0, { padding: 'keep' }).buffer);
      expect(hu(img).equals(hu(src)), n).toBe(true);
    }
  });
});

describe('transfer syntaxes are named', () => {
  it('supported, known but not decoded, and unknown', () => {
    expect(syntaxLabel('1.2.840.10008.1.2.4.202')).toBe('1.2.840.10008.1.2.4.202 (HTJ2K Lossless RPCL)');
    expect(syntaxLabel('1.2.840.10008.1.2.4.55')).toBe('1.2.840.10008.1.2.4.55 (JPEG Full Progression, Non-Hierarchical, Processes 10 & 12 (retired), not supported)');
    expect(syntaxLabel('1.2.840.10008.1.2.4.53')).toMatch(/JPEG Spectral Selection.*not supported/);
    expect(syntaxLabel('1.2.3.4')).toBe('1.2.3.4 (unknown transfer syntax)');
    const bytes = writeDicom({ transferSyntax: '1.2.840.10008.1.2.4.55', elements: ctElements({ rows: 4, cols: 4 }), pixelData: { fragments: [new Uint8Array(16)] } });
    expect(() => decodeDicomSync(bytes)).toThrow(/1\.2\.840\.10008\.1\.2\.4\.55 \(JPEG Full Progression, Non-Hierarchical, Processes 10 & 12 \(retired\), not supported\)/);
    expect(probeDicom(bytes).syntaxName).toBe('JPEG Full Progression, Non-Hierarchical, Processes 10 & 12 (retired)');
  });
});

describe('probe and decode agree on every file', () => {
  /** What `ctwindow decode` takes: a decode to Hounsfield units. */
  const decodes = (bytes: Uint8Array): boolean => {
    try {
      huFrame(decodeDicomSync(bytes));
      return true;
    } catch {
      return false;
    }
  };
  const check = (name: string, bytes: Uint8Array) => {
    const p = probeDicom(bytes, name);
    expect(p.decodable, `${name}: probe says ${p.decodable ? 'decodable' : p.reason}`).toBe(decodes(bytes));
    if (!p.decodable) expect(p.reason, name).toBeTruthy();
    return p.decodable;
  };

  it('the fixtures: grayscale, colour (RGB), a mislabelled JPEG, HTJ2K, a truncated file', () => {
    const gray = writeDicom({ transferSyntax: '1.2.840.10008.1.2.1', elements: ctElements({ rows: 8, cols: 8 }), pixelData: new Int16Array(64) });
    const rgb = writeDicom({
      transferSyntax: '1.2.840.10008.1.2.1',
      elements: ctElements({ rows: 8, cols: 8, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, photometric: 'RGB' }).map((e) => (e.tag === 0x00280002 ? { ...e, value: 3 } : e)),
      pixelData: new Uint8Array(8 * 8 * 3),
    });
    const code = encode(jpegEnc, Uint8Array.from(phantom(64, 48, 0, 255)), 64, 48, 8, false, [false, 90]);
    const mislabelled = file('1.2.840.10008.1.2.4.70', code, { rows: 48, cols: 64, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 });
    const ht = file('1.2.840.10008.1.2.4.201', encode(htj2kEnc, Int16Array.from(phantom(16, 16, -1000, 1000)), 16, 16, 16, true, [true, 0]), { rows: 16, cols: 16 });
    expect(check('gray', gray)).toBe(true);
    expect(check('rgb', rgb)).toBe(false);
    expect(probeDicom(rgb).reason).toBe('3 samples per pixel (RGB): CT slices are monochrome, one sample per pixel');
    expect(check('mislabelled', mislabelled)).toBe(true);
    expect(probeDicom(mislabelled).warnings?.[0]).toMatch(/^the frames are baseline DCT JPEG/);
    expect(check('htj2k', ht)).toBe(true);
    expect(check('truncated', gray.subarray(0, gray.length - 20))).toBe(false);
  });

  it.skipIf(!CORPUS)('every file of ../shared/corpus', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (!n.endsWith('.json')) files.push(p);
      }
    };
    walk(CORPUS!);
    let decodable = 0;
    for (const f of files) if (check(f, new Uint8Array(readFileSync(f)))) decodable++;
    expect(files.length).toBeGreaterThan(40);
    expect(decodable).toBeGreaterThan(files.length / 2);
  });
});
