/**
 * Issue 5, acceptance 2: a run killed (SIGKILL) at random moments and rerun with --resume
 * ends with exactly the output of an uninterrupted run. Also: partitions merged hold exactly
 * the single run's slices (acceptance 4).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import { Rng } from '../src/sampling/index.js';
import { REPO, ctwindow } from './helpers/shared.js';
import { allRecords, shardBytes, tempDir, writePipeline } from './helpers/pipeline.js';

const BIN = join(REPO, 'bin', 'ctwindow.js');
let dir: string;
let missing = 0;

const config = (out: string) => ({
  source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
  split: { val: 0.3 },
  window: { strategy: 'sigmoid-ensemble' },
  resize: [64, 64],
  balance: { mode: 'oversample', positiveFraction: 0.5 },
  batch: { size: 4 },
  output: { dir: out, dtype: 'uint8', shardBytes: 60_000 },
  seed: 5,
  backend: 'cpu',
  workers: 0,
  quarantine: { maxFraction: 0.5 },
});

/** Manifest without the one field that names the output folder. */
async function manifestSansDir(out: string): Promise<unknown> {
  const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  delete m.config.output.dir;
  return m;
}

function runUntilKilled(yaml: string, afterMs: number, extra: string[] = []): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', yaml, '-q', ...extra], { stdio: 'ignore' });
    const t = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

beforeAll(async () => {
  dir = await tempDir('ctw-resume-');
  const ds = await generateDataset(join(dir, 'data'), { exams: 6, slicesPerExam: 14, rows: 64, cols: 64, seed: 21 });
  // Some files missing, so a resume must replay failures (and their replacements) exactly.
  const gone = ds.slices.filter((_, i) => i % 9 === 4);
  gone.forEach((s) => unlinkSync(s.path));
  missing = gone.length;
  expect(existsSync(join(REPO, 'dist', 'cli', 'main.js')), 'run `npm run build` first (npm test does)').toBe(true);
});

describe('crash-safe resume', () => {
  it('SIGKILL at 5 random moments, then --resume: output equals an uninterrupted run', async () => {
    const refYaml = await writePipeline(dir, config('out/ref'), 'ref.yaml');
    const t0 = Date.now();
    const ref = ctwindow(['run', refYaml, '-q']);
    expect(ref.status, ref.stderr).toBe(0);
    const fullMs = Date.now() - t0;
    const want = await shardBytes(join(dir, 'out/ref'));
    const wantManifest = await manifestSansDir(join(dir, 'out/ref'));
    const wantQuarantine = await readFile(join(dir, 'out/ref', 'quarantine.jsonl'));
    expect(wantQuarantine.toString().trim().split('\n').length).toBe(missing); // the missing files, each once
    const rng = new Rng(1234, 'kill');
    let killedMidway = 0;
    for (let k = 0; k < 5; k++) {
      const out = `out/k${k}`;
      const yaml = await writePipeline(dir, config(out), `k${k}.yaml`);
      // Kill somewhere between start-up and the end of an uninterrupted run.
      const { killed } = await runUntilKilled(yaml, Math.floor(200 + rng.float() * fullMs));
      if (killed) killedMidway++;
      // Without --resume the half-written folder is refused…
      if (killed && existsSync(join(dir, out))) {
        const refused = ctwindow(['run', yaml, '-q']);
        if (refused.status !== 0) expect(refused.stderr).toMatch(/--resume/);
      }
      // …with --resume it completes.
      const res = ctwindow(['run', yaml, '-q', '--resume']);
      expect(res.status, res.stderr).toBe(0);
      const got = await shardBytes(join(dir, out));
      expect([...got.keys()], `kill ${k}`).toEqual([...want.keys()]);
      for (const [f, b] of want) expect(Buffer.compare(got.get(f)!, b), `kill ${k}: ${f}`).toBe(0);
      expect(await manifestSansDir(join(dir, out))).toEqual(wantManifest);
      expect((await readFile(join(dir, out, 'quarantine.jsonl'))).equals(wantQuarantine), `kill ${k}: quarantine.jsonl`).toBe(true);
      expect(ctwindow(['verify', join(dir, out)]).status).toBe(0);
    }
    expect(killedMidway).toBeGreaterThan(0);
  });

  it('a resume with another shardBytes is refused naming the key, and exits: no worker thread keeps it alive', async () => {
    const yaml = await writePipeline(dir, { ...config('out/threads'), workers: 2 }, 'threads.yaml');
    expect(ctwindow(['run', yaml, '-q']).status).toBe(0);
    await rm(join(dir, 'out/threads', 'manifest.json')); // as if killed after its last shard
    const res = ctwindow(['run', yaml, '-q', '--resume', '--set', 'output.shardBytes=50000'], { timeout: 60_000 });
    expect(res.error, 'the process did not exit').toBeUndefined();
    expect(res.status).toBe(2); // a user error, reported as such
    expect(res.stderr).toMatch(/ctwindow run: .*out\/threads: cannot --resume: the unfinished run used another config \(changed: output\.shardBytes\)/);
  });

  it('three partitions merged hold exactly the single run\'s slices', async () => {
    const cfg = { ...config('out/single'), balance: { mode: 'none' } };
    const single = await writePipeline(dir, cfg, 'single.yaml');
    expect(ctwindow(['run', single, '-q']).status).toBe(0);
    const parts = await writePipeline(dir, { ...cfg, output: { ...cfg.output, dir: 'out/parts' } }, 'parts.yaml');
    for (let i = 0; i < 3; i++) {
      const r = ctwindow(['run', parts, '-q', '--partition', `${i}/3`]);
      expect(r.status, r.stderr).toBe(0);
    }
    const merged = join(dir, 'out/merged');
    const m = ctwindow(['merge', ...[0, 1, 2].map((i) => join(dir, 'out/parts', `part-${i}-of-3`)), '--out', merged]);
    expect(m.status, m.stderr).toBe(0);
    for (const split of ['train', 'val'] as const) {
      const slices = async (d: string) => {
        const map = new Map<string, string>();
        for (const r of await allRecords(d, split)) {
          const per = r.pixels.length / r.sop.length;
          r.sop.forEach((sop, i) => {
            expect(map.has(sop)).toBe(false);
            map.set(sop, Buffer.from(r.pixels.subarray(i * per, (i + 1) * per)).toString('base64') + `:${r.labels[i]}`);
          });
        }
        return map;
      };
      const a = await slices(join(dir, 'out/single'));
      const b = await slices(merged);
      expect(b.size).toBe(a.size);
      for (const [sop, v] of a) expect(b.get(sop), sop).toBe(v);
    }
    // The partitions' row accounts add up to the single run's.
    const rowsOf = (d: string) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).rows;
    expect(rowsOf(merged)).toEqual(rowsOf(join(dir, 'out/single')));
    expect(rowsOf(merged).data).toBeGreaterThan(0);
  });
});
