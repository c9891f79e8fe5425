/**
 * Acceptance against ../shared/corpus/reference.json (pydicom 2.3.1 + GDCM): dimensions,
 * exact stored values and HU for lossless syntaxes, mean within 1 HU and samples within 2 %
 * of the range for lossy ones; every file in corpus/bad ends in a clear reason.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DicomDecodeError, huFrame, initCodecs, readDicomFile, readDicomHeader } from '../src/dicom/index.js';
import { transferSyntax } from '../src/dicom/syntax.js';
import { CORPUS, loadJson } from './helpers/shared.js';
import { readFileSync } from 'node:fs';

interface RefEntry {
  decodable: boolean;
  transferSyntax?: string;
  rows?: number;
  cols?: number;
  frames?: number;
  sopInstanceUID?: string;
  imagePositionPatient?: number[] | null;
  hu?: { min: number; max: number; mean: number };
  samples?: [number, number, number, number][];
}

describe.skipIf(!CORPUS)('decode vs reference.json (pydicom + GDCM)', () => {
  const ref = CORPUS ? loadJson<{ files: Record<string, RefEntry> }>(join(CORPUS, 'reference.json')).files : {};
  const decodable = Object.entries(ref).filter(([, v]) => v.decodable);
  beforeAll(() => initCodecs());

  it('covers every decodable entry and several syntaxes', () => {
    expect(decodable.length).toBeGreaterThan(40);
    expect(new Set(decodable.map(([, v]) => v.transferSyntax)).size).toBeGreaterThanOrEqual(9);
  });

  for (const [rel, r] of decodable) {
    const lossy = transferSyntax(r.transferSyntax ?? '')?.lossy ?? false;
    it(`${rel} (${r.transferSyntax}${lossy ? ', lossy' : ''})`, async () => {
      const img = await readDicomFile(join(CORPUS!, rel));
      expect([img.rows, img.cols]).toEqual([r.rows, r.cols]);
      expect(img.frames).toBe(r.frames ?? 1);
      const hu = huFrame(img, 0, { padding: 'keep' }); // the reference applies no padding
      const samples = r.samples!;
      expect(samples.length).toBeGreaterThan(0);
      if (!lossy) {
        for (const [row, col, s, h] of samples) {
          const i = row * img.cols + col;
          if (img.stored[i] !== s || Math.abs(hu[i] - h) > 1e-3 * Math.max(1, Math.abs(h))) {
            throw new Error(`${rel} [${row},${col}]: stored ${img.stored[i]} HU ${hu[i]}, reference ${s} / ${h}`);
          }
        }
      } else {
        let mean = 0;
        for (let i = 0; i < hu.length; i++) mean += hu[i];
        mean /= hu.length;
        expect(Math.abs(mean - r.hu!.mean)).toBeLessThanOrEqual(1);
        const tol = 0.02 * (r.hu!.max - r.hu!.min);
        for (const [row, col, , h] of samples) expect(Math.abs(hu[row * img.cols + col] - h)).toBeLessThanOrEqual(tol);
      }
    });
  }

  it('readDicomHeader agrees with the reference on UIDs and position', () => {
    for (const [rel, r] of decodable) {
      const h = readDicomHeader(readFileSync(join(CORPUS!, rel)));
      expect(h.sopInstanceUID).toBe(r.sopInstanceUID);
      expect([h.rows, h.cols]).toEqual([r.rows, r.cols]);
      if (r.imagePositionPatient) expect(h.imagePositionPatient).toEqual(r.imagePositionPatient);
    }
  });
});

describe.skipIf(!CORPUS)('corpus/bad ends in clear reasons', () => {
  beforeAll(() => initCodecs());
  const expected: Record<string, RegExp> = {
    'ExplVR_LitEndNoMeta.dcm': /^no Pixel Data \(7FE0,0010\).*no preamble\/meta header/,
    'MR_truncated.dcm': /^pixel data truncated: .*8192 bytes, the file holds 8130/,
    'UN_sequence.dcm': /^no Pixel Data \(7FE0,0010\)/,
    'badVR.dcm': /^NumberOfFrames \(0028,0008\) is '1A', not an integer$/,
  };
  const files = CORPUS ? readdirSync(join(CORPUS, 'bad')).sort() : [];
  for (const f of files) {
    it(f, async () => {
      const p = join(CORPUS!, 'bad', f);
      const err = await readDicomFile(p).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DicomDecodeError);
      const e = err as DicomDecodeError;
      expect(e.message.startsWith(p)).toBe(true);
      expect(e.reason.length).toBeGreaterThan(10);
      if (expected[f]) expect(e.reason).toMatch(expected[f]);
    });
  }
});
