/**
 * `ctwindow decode` and `ctwindow probe` through the built CLI (npm test builds first),
 * on fixtures written here; probe also on ../shared/corpus when present.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { decodeNpy } from '../src/util/npy.js';
import { CORPUS, ctwindow } from './helpers/shared.js';

function fixtures() {
  const dir = mkdtempSync(join(tmpdir(), 'ctwindow-dicom-cli-'));
  const px = new Int16Array(6 * 4).map((_, i) => i * 10 - 100);
  writeFileSync(join(dir, 'le.dcm'), writeDicom({ transferSyntax: '1.2.840.10008.1.2.1', elements: ctElements({ rows: 6, cols: 4, slope: 0.5, intercept: -1000 }), pixelData: px }));
  writeFileSync(join(dir, 'be.dcm'), writeDicom({ transferSyntax: '1.2.840.10008.1.2.2', elements: ctElements({ rows: 6, cols: 4, frames: 2, intercept: -1024 }), pixelData: Int16Array.from([...px, ...px.map((v) => v + 1)]) }));
  const good = readFileSync(join(dir, 'le.dcm'));
  writeFileSync(join(dir, 'cut.dcm'), good.subarray(0, good.length - 7));
  writeFileSync(join(dir, 'notes.txt'), 'not a DICOM file');
  return { dir, px };
}

describe('ctwindow decode', () => {
  it('writes float32 HU [H,W] per good file, reports the bad ones, exits 0', () => {
    const { dir, px } = fixtures();
    const out = join(dir, 'out');
    const r = ctwindow(['decode', join(dir, 'le.dcm'), join(dir, 'cut.dcm'), join(dir, 'be.dcm'), '--out', out, '--padding', 'keep']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/FAIL .*cut\.dcm: pixel data truncated/);
    const le = decodeNpy(readFileSync(join(out, 'le.npy')));
    expect(le.descr).toBe('<f4');
    expect(le.shape).toEqual([6, 4]);
    expect(Array.from(le.data)).toEqual(Array.from(px, (v) => v * 0.5 - 1000));
    const be = decodeNpy(readFileSync(join(out, 'be.npy')));
    expect(Array.from(be.data)).toEqual(Array.from(px, (v) => v - 1024)); // first frame
    expect(existsSync(join(out, 'cut.npy'))).toBe(false);
  });

  it('exits non-zero when nothing decoded', () => {
    const { dir } = fixtures();
    const r = ctwindow(['decode', join(dir, 'cut.dcm'), join(dir, 'notes.txt'), '--out', join(dir, 'o2')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/notes\.txt: no DICOM preamble/);
  });
});

describe('ctwindow probe', () => {
  it('summarises a folder by syntax and by reason (--json)', () => {
    const { dir } = fixtures();
    const r = ctwindow(['probe', dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { files, summary } = JSON.parse(r.stdout);
    expect(files).toHaveLength(4);
    expect(summary.total).toBe(4);
    expect(summary.decodable).toBe(2);
    expect(summary.bySyntax['1.2.840.10008.1.2.1 (Explicit VR Little Endian)']).toEqual({ files: 2, decodable: 1 });
    expect(summary.bySyntax['1.2.840.10008.1.2.2 (Explicit VR Big Endian)']).toEqual({ files: 1, decodable: 1 });
    expect(summary.byReason.truncated.files).toBe(1);
    expect(summary.byReason['not-dicom'].files).toBe(1);
    const be = files.find((f: { file: string }) => f.file.endsWith('be.dcm'));
    expect(be).toMatchObject({ decodable: true, frames: 2, rows: 6, cols: 4 });
  });

  it.skipIf(!CORPUS)('text report over the corpus lists every syntax and reason', () => {
    const r = ctwindow(['probe', join(CORPUS!, 'syntax'), join(CORPUS!, 'bad')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/18 file\(s\): 14 decodable, 4 not/);
    for (const uid of ['1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.2']) {
      expect(r.stdout).toContain(uid);
    }
    expect(r.stdout).toMatch(/by reason:\n\s+2\s+no-pixel-data/);
  });
});
