/**
 * `ctwindow window` and `ctwindow preview` end to end through the built CLI (`npm run build`
 * first), on generated phantom DICOM (works from a fresh clone) and, when ../shared is there,
 * on real CT against the seed's output.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadImage } from '@napi-rs/canvas';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phantomSlice, writeCtSlice } from '../src/fixtures/index.js';
import { decodeNpy } from '../src/util/npy.js';
import { applyWindowReference, compileWindow, STRATEGIES } from '../src/windowing/index.js';
import { CORPUS, ctwindow, loadJson } from './helpers/shared.js';

const R = 40;
const C = 48;
let dir: string;
let hu: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'ctw-wincli-'));
  const raw = phantomSlice({ rows: R, cols: C, z: 0.5, positive: true, seed: 11 });
  // What the file will hold: stored = round(hu + 1024), so HU = stored − 1024.
  hu = raw.map((x) => Math.max(-32768, Math.min(32767, Math.round(x + 1024))) - 1024);
  const common = { rows: R, cols: C, study: '1.2.3', series: '1.2.3.4', instance: 1, z: 0 };
  writeFileSync(join(dir, 'tags.dcm'), writeCtSlice({ ...common, hu: raw, sop: '1.2.3.4.1', windowCenter: 40, windowWidth: 350 }));
  writeFileSync(join(dir, 'notags.dcm'), writeCtSlice({ ...common, hu: raw, sop: '1.2.3.4.2', noWindowTags: true }));
});

describe('ctwindow window (generated DICOM)', () => {
  it('writes <basename>.npy float32 [H,W,C] equal to applyWindowReference on the file’s HU', () => {
    for (const strategy of ['sigmoid-gradient-ensemble', 'metadata'] as const) {
      const out = join(dir, `out-${strategy}`);
      const r = ctwindow(['window', join(dir, 'tags.dcm'), '--strategy', strategy, '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      const npy = decodeNpy(readFileSync(join(out, 'tags.npy')));
      expect(npy.descr).toBe('<f4');
      expect(npy.shape).toEqual([R, C, 3]);
      const want = tf.tidy(() =>
        applyWindowReference(compileWindow({ strategy }), tf.tensor3d(hu, [1, R, C]), [{ windowCenter: [40], windowWidth: [350], slope: 1, intercept: -1024 }]).dataSync(),
      );
      expect(Array.from(npy.data)).toEqual(Array.from(want));
    }
  });

  it('--param overrides; repeat=false gives one channel; bad parameters are named', () => {
    const out = join(dir, 'out-param');
    const r = ctwindow(['window', join(dir, 'tags.dcm'), '--strategy', 'lung', '--param', 'windows=[{center: -600, width: 1500}]', '--param', 'repeat=false', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const npy = decodeNpy(readFileSync(join(out, 'tags.npy')));
    expect(npy.shape).toEqual([R, C, 1]);
    const lung = Array.from(npy.data);
    const mn = Math.max(-1350, Math.min(...hu));
    const mx = Math.min(150, Math.max(...hu));
    expect(lung[0]).toBeCloseTo((Math.min(150, Math.max(-1350, hu[0])) - mn) / (mx - mn), 6);
    const bad = ctwindow(['window', join(dir, 'tags.dcm'), '--strategy', 'lung', '--param', 'eps=0.1', '--out', out]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/window\.params\.eps: expected one of the parameters of lung/);
    const unknown = ctwindow(['window', join(dir, 'tags.dcm'), '--strategy', 'rainbow', '--out', out]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/window\.strategy/);
  });

  it('metadata without window tags: the file fails with the reason, the fallback fixes it', () => {
    const out = join(dir, 'out-notags');
    const r = ctwindow(['window', join(dir, 'notags.dcm'), join(dir, 'tags.dcm'), '--strategy', 'metadata', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/FAIL .*notags\.dcm: metadata window: no WindowCenter\/WindowWidth tags/);
    expect(r.stdout).toMatch(/windowed 1 of 2 file\(s\), 1 failed/);
    const fb = ctwindow(['window', join(dir, 'notags.dcm'), '--strategy', 'metadata', '--param', 'fallback={center: 40, width: 350}', '--out', out]);
    expect(fb.status, fb.stderr).toBe(0);
    expect(readFileSync(join(out, 'notags.npy'))).toEqual(readFileSync(join(dir, 'out-metadata', 'tags.npy')));
  });
});

describe('ctwindow preview (generated DICOM)', () => {
  it('writes a contact sheet and a histogram that decode as PNGs of the expected size', async () => {
    const sheet = join(dir, 'prev', 'sheet.png');
    const hist = join(dir, 'prev', 'hist.png');
    const r = ctwindow(['preview', dir, '--strategies', 'lung,gradient,channelwise', '--cell', '64', '--out', sheet, '--histogram', hist]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 slice\(s\) × 3 strategies/);
    const img = await loadImage(readFileSync(sheet));
    // layout: 150 px label column + per strategy (cell + 4) + 4; per slice (cell + 18 title + 4) + 4
    expect([img.width, img.height]).toEqual([150 + 3 * 68 + 4, 2 * 86 + 4]);
    const all = join(dir, 'prev', 'all.png');
    expect(ctwindow(['preview', join(dir, 'tags.dcm'), '--strategies', 'all', '--cell', '64', '--out', all]).status).toBe(0);
    const img2 = await loadImage(readFileSync(all));
    expect([img2.width, img2.height]).toEqual([150 + STRATEGIES.length * 68 + 4, 86 + 4]);
    const h = await loadImage(readFileSync(hist));
    expect([h.width, h.height]).toEqual([800, 400]);
    const bad = ctwindow(['preview', dir, '--strategies', 'lung,nope', '--out', sheet]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--strategies: unknown strategy 'nope'/);
  });
});

describe.skipIf(!CORPUS)('ctwindow window on real CT matches the seed', () => {
  it('two files × three strategies: seed samples within 1e-4', () => {
    const seed = loadJson(join(CORPUS!, 'seed-parity.json')).files;
    const files = ['ct/A046441_axial_19010101-23.dcm', 'syntax/693_J2KR.dcm'];
    for (const strategy of ['metadata', 'sigmoid-ensemble', 'gradient-ensemble']) {
      const out = join(dir, `corpus-${strategy}`);
      const r = ctwindow(['window', ...files.map((f) => join(CORPUS!, f)), '--strategy', strategy, '--padding', 'keep', '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      for (const f of files) {
        const npy = decodeNpy(readFileSync(join(out, f.split('/')[1].replace('.dcm', '.npy'))));
        const [, W, Ch] = npy.shape;
        let within = 0;
        let total = 0;
        for (const [row, col, vals] of seed[f][strategy].samples as [number, number, number[]][]) {
          vals.forEach((v, c) => {
            total++;
            if (Math.abs(npy.data[(row * W + col) * Ch + c] - v) <= 1e-4) within++;
          });
        }
        expect(within / total, `${f} ${strategy}`).toBeGreaterThanOrEqual(0.995);
      }
    }
  });
});
