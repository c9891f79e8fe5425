/**
 * One run per output folder (issue 18): while a run lives, a second `run` or a `--resume` on its
 * folder is refused, naming the process, and the live run still finishes intact; a lock left by
 * a killed process is stale and taken over; a lock from another host is refused, naming it; a
 * finished folder holds no lock file.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import { verifyDataset } from '../src/shards/index.js';
import { ctwindow, REPO } from './helpers/shared.js';
import { tempDir, writePipeline } from './helpers/pipeline.js';

let root = '';
const config = (dir: string) => ({
  source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
  split: { val: 0 },
  window: { strategy: 'lung' },
  resize: [32, 32],
  balance: { mode: 'none' },
  batch: { size: 4 },
  output: { dir, dtype: 'uint8', shardBytes: 20_000 },
  seed: 3,
  backend: 'cpu',
  workers: 0,
});

beforeAll(async () => {
  root = await tempDir('ctw-lock-');
  await generateDataset(join(root, 'data'), { exams: 6, slicesPerExam: 20, rows: 64, cols: 64, seed: 2 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const waitFor = async (cond: () => boolean, ms: number) => {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('one run per output folder', () => {
  it('a second run and a --resume are refused while the first lives; the first still finishes', async () => {
    const yaml = await writePipeline(root, config('out/live'), 'live.yaml');
    const out = join(root, 'out', 'live');
    const lock = join(out, '.ctwindow.lock');
    const first = spawn(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { cwd: REPO, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => first.on('exit', (code) => r(code)));
    try {
      // Hold the first run still (SIGSTOP) once it holds the lock: alive, mid-run, deterministically.
      await waitFor(() => existsSync(lock), 60_000);
      first.kill('SIGSTOP');
      expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(first.pid);
      for (const extra of [[], ['--resume']]) {
        const r = ctwindow(['run', yaml, '-q', ...extra], { timeout: 60_000 });
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toContain(`output folder ${out} is in use by another ctwindow run (process ${first.pid}`);
      }
      expect(existsSync(lock)).toBe(true); // the refused runs left the live one's lock alone
    } finally {
      first.kill('SIGCONT');
    }
    expect(await exited).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(await verifyDataset(out)).toEqual([]);
  });

  it('two runs started together on one folder: one writes it, the other is refused', async () => {
    const yaml = await writePipeline(root, config('out/race'), 'race.yaml');
    const out = join(root, 'out', 'race');
    const start = () => {
      const p = spawn(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      return new Promise<{ code: number | null; err: string }>((r) => p.on('exit', (code) => r({ code, err })));
    };
    const results = await Promise.all([start(), start()]);
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map((r) => r.err).join('\n')).toEqual([0, 2]);
    expect(results.find((r) => r.code === 2)!.err).toMatch(/is in use by another ctwindow run|already holds a complete dataset/);
    expect(await verifyDataset(out)).toEqual([]);
    expect(readdirSync(out)).not.toContain('.ctwindow.lock');
  });

  it('a lock left by a process that is gone is stale: the run takes it over and finishes', async () => {
    const yaml = await writePipeline(root, config('out/stale'), 'stale.yaml');
    const out = join(root, 'out', 'stale');
    mkdirSync(out, { recursive: true });
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const host = JSON.parse(spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify(require("os").hostname()))'], { encoding: 'utf8' }).stdout);
    writeFileSync(join(out, '.ctwindow.lock'), JSON.stringify({ pid: Number(gone.stdout), host, started: '2026-01-01T00:00:00Z' }));
    const r = ctwindow(['run', yaml, '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain('.ctwindow.lock');
    expect(readdirSync(out)).toContain('manifest.json');
  });

  it('a lock held on another host is refused, naming the host, and nothing is written', async () => {
    const yaml = await writePipeline(root, config('out/remote'), 'remote.yaml');
    const out = join(root, 'out', 'remote');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.ctwindow.lock'), JSON.stringify({ pid: 4242, host: 'node-17.cluster', started: '2026-01-01T00:00:00Z' }));
    const r = ctwindow(['run', yaml, '-q']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`is locked by process 4242 on host node-17.cluster`);
    expect(readdirSync(out)).toEqual(['.ctwindow.lock']);
  });

  it('a run that stops before writing anything leaves no folder behind', async () => {
    const yaml = await writePipeline(root, { ...config('out/never/deep'), source: { csv: 'data/train.csv', dicomRoot: 'data/nowhere' } }, 'never.yaml');
    const r = ctwindow(['run', yaml, '-q']);
    expect(r.status).toBe(2);
    expect(existsSync(join(root, 'out', 'never'))).toBe(false);
  });
});
