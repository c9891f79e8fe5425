/**
 * `ctwindow run` with `backend: webgpu` against `backend: cpu` on generated phantom data: the
 * uint8 shards hold the same slices, and every byte is equal or one level apart (a value on a
 * rounding threshold, where float32 results of the two backends may differ in the last bit).
 * The manifest records the backend and its adapter. Needs a WebGPU adapter (software Vulkan in
 * CI); without one it fails in CI (CI=true) and is skipped elsewhere with the reason.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { probeWebGpu } from '../src/backend/webgpu.js';
import { generateDataset } from '../src/fixtures/index.js';
import { runPipeline } from '../src/pipeline/index.js';
import { allRecords, tempDir, writePipeline } from './helpers/pipeline.js';
import { REPO } from './helpers/shared.js';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const probe = await probeWebGpu().then(
  (a) => ({ ok: true, why: '', software: !!a.isSoftware }),
  (e: Error) => ({ ok: false, why: e.message, software: false }),
);
const IN_CI = process.env.CI === 'true';
if (!probe.ok && !IN_CI) console.warn(`[ctwindow tests] webgpu-run skipped: ${probe.why}`);

describe.runIf(IN_CI)('webgpu run: adapter present', () => {
  it('has a WebGPU adapter (required in CI: run scripts/ci/install-vulkan.sh)', () => {
    expect(probe.ok, probe.why).toBe(true);
  });
});

describe.skipIf(!probe.ok)('webgpu run: shards equal to the cpu backend', () => {
  let root = '';
  const config = (backend: string, strategy: string) => ({
    source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
    split: { val: 0.25 },
    window: { strategy },
    resize: [48, 48],
    balance: { mode: 'none' },
    batch: { size: 8 },
    output: { dir: `out/${strategy}-${backend}`, dtype: 'uint8' },
    seed: 5,
    backend,
    workers: 0,
  });
  beforeAll(async () => {
    root = await tempDir('ctw-wgrun-');
    await generateDataset(join(root, 'data'), { exams: 4, slicesPerExam: 6, rows: 40, cols: 40, seed: 21, otherSizeEvery: 3, otherSize: [52, 44] });
  });

  for (const strategy of ['sigmoid-gradient-ensemble', 'channelwise', 'metadata'] as const) {
    it(`${strategy}: same slices, bytes equal or one level apart at rounding thresholds`, async () => {
      const cpu = await runPipeline(await writePipeline(root, config('cpu', strategy), `${strategy}-cpu.yaml`));
      const gpu = await runPipeline(await writePipeline(root, config('webgpu', strategy), `${strategy}-webgpu.yaml`));
      expect(gpu.manifest.backend.name).toBe('webgpu');
      expect(gpu.manifest.backend.adapter?.description ?? gpu.manifest.backend.adapter?.device).toBeTruthy();
      let bytes = 0;
      let differ = 0;
      for (const split of ['train', 'val'] as const) {
        const a = await allRecords(cpu.outDir, split);
        const b = await allRecords(gpu.outDir, split);
        expect(b.map((r) => r.sop)).toEqual(a.map((r) => r.sop));
        a.forEach((ra, k) => {
          const rb = b[k];
          expect(rb.shape).toEqual(ra.shape);
          for (let i = 0; i < ra.pixels.length; i++) {
            const d = Math.abs(ra.pixels[i] - rb.pixels[i]);
            if (d > 1) expect.fail(`${split} batch ${k} byte ${i}: cpu ${ra.pixels[i]} vs webgpu ${rb.pixels[i]}`);
            if (d === 1) differ++;
          }
          bytes += ra.pixels.length;
        });
      }
      if (process.env.CTW_DEBUG) console.log(`${strategy}: ${differ} of ${bytes} bytes one level apart`);
      expect(bytes).toBeGreaterThan(0);
      // one-level differences only where a value sits on a threshold: a small fraction
      expect(differ / bytes).toBeLessThan(1e-3);
    });
  }
});

describe.skipIf(!probe.ok)('webgpu: what native code prints', () => {
  it('`-q` run prints nothing, Dawn\'s adapter warnings included; --verbose shows what Dawn prints', async () => {
    const root = await tempDir('ctw-wgquiet-');
    await generateDataset(join(root, 'data'), { exams: 2, slicesPerExam: 4, rows: 24, cols: 24, seed: 2 });
    const yaml = await writePipeline(root, {
      source: { csv: 'data/train.csv', dicomRoot: 'data/train' }, split: { val: 0 }, window: { strategy: 'lung' }, resize: [16, 16],
      balance: { mode: 'none' }, batch: { size: 4 }, output: { dir: 'out/q' }, backend: 'webgpu', workers: 0,
    });
    // stderr to a file, as a shell redirect or a terminal gives it (Node's own spawn pipes are
    // sockets, which a process cannot reopen to silence its native code for a moment).
    const run = (args: string[], name: string) => {
      const errPath = join(root, `${name}.err`);
      const fd = openSync(errPath, 'w');
      const r = spawnSync(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), ...args], { stdio: ['ignore', 'pipe', fd], encoding: 'utf8' });
      closeSync(fd);
      return { status: r.status, stdout: r.stdout, stderr: readFileSync(errPath, 'utf8') };
    };
    const quiet = run(['run', yaml, '-q'], 'quiet');
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
    const loud = run(['--verbose', 'run', yaml, '--set', 'output.dir=' + join(root, 'out', 'v')], 'loud');
    expect(loud.status, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/backend: webgpu/);
    // On a software Vulkan adapter Dawn warns about clamped limits; with --verbose it reaches the terminal.
    if (probe.software) expect(loud.stderr).toMatch(/artificially reduced/);
  }, 120_000);
});
