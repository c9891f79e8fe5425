/**
 * Seed parity on real CT: every file of shared/corpus/seed-parity.json × every strategy, against
 * the seed's float64 output (shared/bench/seed_windowing.py). HU comes from pydicom (the seed's own
 * decoder) so this test isolates windowing from our DICOM decoder; the CLI test covers that path.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS, loadJson, PYTHON } from './helpers/shared.js';
import { decodeNpy } from '../src/util/npy.js';
import { applyWindow, applyWindowReference, compileWindow, STRATEGIES, type SliceWindowMeta } from '../src/windowing/index.js';

interface SeedEntry { shape: number[]; channelMean: number[]; channelMin: number[]; channelMax: number[]; samples: [number, number, number[]][] }

const DUMP = `
import sys, json, numpy as np, pydicom
out, paths = sys.argv[1], sys.argv[2:]
meta = []
for i, p in enumerate(paths):
    d = pydicom.dcmread(p)
    x = d.pixel_array.astype(np.float64) * float(d.get('RescaleSlope', 1)) + float(d.get('RescaleIntercept', 0))
    np.save(f'{out}/{i}.npy', x.astype(np.float32))
    wc, ww = d.get('WindowCenter'), d.get('WindowWidth')
    lst = lambda v: [] if v is None else [float(t) for t in (v if isinstance(v, pydicom.multival.MultiValue) else [v])]
    meta.append({'windowCenter': lst(wc), 'windowWidth': lst(ww), 'slope': float(d.get('RescaleSlope', 1)), 'intercept': float(d.get('RescaleIntercept', 0))})
json.dump(meta, open(f'{out}/meta.json', 'w'))
`;

describe.skipIf(!CORPUS)('windowing: seed parity on shared/corpus', () => {
  const seed = CORPUS ? loadJson<{ files: Record<string, Record<string, SeedEntry>> }>(join(CORPUS, 'seed-parity.json')).files : {};
  const files = Object.keys(seed);
  let dir = '';
  let metas: SliceWindowMeta[] = [];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'ctw-parity-'));
    const r = spawnSync(PYTHON, ['-c', DUMP, dir, ...files.map((f) => join(CORPUS!, f))], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pydicom dump failed: ${r.stderr}`);
    metas = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('has the twelve strategies for every file', () => {
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) expect(Object.keys(seed[f]).sort()).toEqual([...STRATEGIES].sort());
  });

  /** Compares one output [1,H,W,C] with the seed's entry; returns [samples within 1e-4, samples]. */
  function compare(f: string, strategy: string, out: tf.Tensor4D, worst: string[]): [number, number] {
    const want = seed[f][strategy];
    const [, H, W, C] = out.shape;
    const v = out.dataSync() as Float32Array;
    expect([H, W, C], `${f} shape`).toEqual(want.shape);
    for (let c = 0; c < C; c++) {
      let sum = 0;
      let mn = Infinity;
      let mx = -Infinity;
      for (let p = c; p < v.length; p += C) {
        sum += v[p];
        if (v[p] < mn) mn = v[p];
        if (v[p] > mx) mx = v[p];
      }
      expect(Math.abs(sum / (H * W) - want.channelMean[c]), `${f} channel ${c} mean`).toBeLessThan(1e-4);
      expect(mn, `${f} channel ${c} min`).toBeCloseTo(want.channelMin[c], 4);
      expect(mx, `${f} channel ${c} max`).toBeCloseTo(want.channelMax[c], 4);
    }
    let within = 0;
    let total = 0;
    for (const [r, col, vals] of want.samples) {
      for (let c = 0; c < C; c++) {
        total++;
        const got = v[(r * W + col) * C + c];
        if (Math.abs(got - vals[c]) <= 1e-4) within++;
        else if (worst.length < 5) worst.push(`${f} (${r},${col}) c${c}: ${got} vs ${vals[c]}`);
      }
    }
    return [within, total];
  }

  function load(i: number): tf.Tensor3D {
    const npy = decodeNpy(readFileSync(join(dir, `${i}.npy`)));
    return tf.tensor3d(npy.data as Float32Array, [1, npy.shape[0], npy.shape[1]]);
  }

  for (const strategy of STRATEGIES) {
    it(`${strategy}: shape, channel means, 99.5 % of samples within 1e-4 (applyWindow, every file)`, () => {
      const plan = compileWindow({ strategy, repeat: false });
      let within = 0;
      let total = 0;
      const worst: string[] = [];
      files.forEach((f, i) => {
        const out = tf.tidy(() => applyWindow(plan, load(i), [metas[i]]));
        const [a, b] = compare(f, strategy, out, worst);
        out.dispose();
        within += a;
        total += b;
      });
      expect(within / total, worst.join('; ')).toBeGreaterThanOrEqual(0.995);
    });
  }

  it('applyWindowReference (plain tfjs ops) matches the seed on one file, every strategy', () => {
    const i = files.indexOf('ct/A046441_axial_19010101-23.dcm');
    expect(i).toBeGreaterThanOrEqual(0);
    for (const strategy of STRATEGIES) {
      const worst: string[] = [];
      const out = tf.tidy(() => applyWindowReference(compileWindow({ strategy, repeat: false }), load(i), [metas[i]]));
      const [within, total] = compare(files[i], strategy, out, worst);
      out.dispose();
      expect(within / total, `${strategy}: ${worst.join('; ')}`).toBeGreaterThanOrEqual(0.995);
    }
  });
});
