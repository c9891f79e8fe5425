/**
 * Seed parity on WebGPU, end to end: `ctwindow window <CT files> --strategy <s> --backend webgpu`
 * against the seed's float64 output (shared/corpus/seed-parity.json) for all twelve strategies,
 * with the seed-parity tolerances: shape equal (single-channel strategies as 1 or 3 identical
 * channels), per-channel means within 1e-4, at least 99.5 % of the sampled values within 1e-4.
 * Needs ../shared and a WebGPU adapter (software Vulkan in CI: scripts/ci/install-vulkan.sh);
 * without an adapter it fails in CI (CI=true) and is skipped elsewhere with the reason.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { probeWebGpu } from '../src/backend/webgpu.js';
import { decodeNpy } from '../src/util/npy.js';
import { STRATEGIES } from '../src/windowing/config.js';
import { CORPUS, ctwindow, loadJson } from './helpers/shared.js';

interface SeedEntry { shape: number[]; channelMean: number[]; samples: [number, number, number[]][] }

const probe = await probeWebGpu().then(
  () => ({ ok: true, why: '' }),
  (e: Error) => ({ ok: false, why: e.message }),
);
const IN_CI = process.env.CI === 'true';
if (!probe.ok && !IN_CI) console.warn(`[ctwindow tests] webgpu-parity skipped: ${probe.why}`);

describe.runIf(IN_CI && !!CORPUS)('webgpu parity: adapter present', () => {
  it('has a WebGPU adapter (required in CI: run scripts/ci/install-vulkan.sh)', () => {
    expect(probe.ok, probe.why).toBe(true);
  });
});

describe.skipIf(!CORPUS || !probe.ok)('webgpu parity: ctwindow window --backend webgpu vs the seed on shared/corpus', () => {
  const seed = CORPUS ? loadJson<{ files: Record<string, Record<string, SeedEntry>> }>(join(CORPUS, 'seed-parity.json')).files : {};
  // one CT file per patient, orientations in turn (axial, coronal, sagittal): 6 files, 12 CLI runs
  const ORIENT = ['axial', 'coronal', 'sagittal'];
  const byPatient = new Map<string, string>();
  for (const f of Object.keys(seed).sort()) {
    const [patient, orient] = basename(f).split('_');
    if (!f.startsWith('ct/') || byPatient.has(patient) || orient !== ORIENT[byPatient.size % 3]) continue;
    byPatient.set(patient, f);
  }
  const files = [...byPatient.values()];
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctw-wgparity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('covers several patients and orientations', () => {
    expect(files.length).toBe(6);
    expect(new Set(files.map((f) => basename(f).split('_')[1]))).toEqual(new Set(ORIENT));
  });

  for (const strategy of STRATEGIES) {
    it(`${strategy}: shape, channel means, 99.5 % of samples within 1e-4`, () => {
      const out = join(dir, strategy);
      const r = ctwindow(['window', ...files.map((f) => join(CORPUS!, f)), '--strategy', strategy, '--backend', 'webgpu', '--padding', 'keep', '--out', out], { timeout: 90_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/backend: webgpu/);
      let within = 0;
      let total = 0;
      const worst: string[] = [];
      for (const f of files) {
        const want = seed[f][strategy];
        const npy = decodeNpy(readFileSync(join(out, `${basename(f, '.dcm')}.npy`)));
        const [H, W, C] = npy.shape;
        const data = npy.data as Float32Array;
        const Cs = want.shape[2];
        expect([H, W]).toEqual(want.shape.slice(0, 2));
        expect(Cs === 1 ? [1, 3] : [Cs]).toContain(C);
        for (let c = 0; c < Cs; c++) {
          let sum = 0;
          for (let p = 0; p < H * W; p++) sum += data[p * C + c];
          const mean = sum / (H * W);
          if (Math.abs(mean - want.channelMean[c]) > 1e-4) worst.push(`${f} channel ${c}: mean ${mean} vs seed ${want.channelMean[c]}`);
        }
        if (Cs === 1 && C === 3) {
          for (let p = 0; p < H * W; p += 97) expect(data[p * 3 + 1]).toBe(data[p * 3]), expect(data[p * 3 + 2]).toBe(data[p * 3]);
        }
        for (const [row, col, vs] of want.samples) {
          vs.forEach((v, c) => {
            total++;
            if (Math.abs(data[(row * W + col) * C + c] - v) <= 1e-4) within++;
            else if (worst.length < 5) worst.push(`${f} (${row},${col},${c}): ${data[(row * W + col) * C + c]} vs seed ${v}`);
          });
        }
      }
      expect(worst.filter((w) => w.includes('mean')), worst.join('\n')).toEqual([]);
      expect(within / total, worst.join('\n')).toBeGreaterThanOrEqual(0.995);
    });
  }
});
