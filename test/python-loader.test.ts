/**
 * ShardLoader, the installable Python package's training loader (issue 19): the checks in
 * test/python/loader_checks.py (exact resume for num_workers 0/2/3 at any stop point, batch sizes
 * that don't divide the data, persistent workers reshuffling, len(), NCHW float, argument
 * validation, ranks) and a real 2-process gloo DDP job with 2 workers per rank killed with
 * SIGKILL mid-epoch and resumed: every sample once per epoch, equal steps, the same order.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY, PY_CWD, PY_ENV, REPO, runAsync } from './helpers/shared.js';
import { readManifest, writeSyntheticDataset } from '../src/shards/index.js';

const hasTorch = spawnSync(PY, ['-c', 'import torch, ctwindow_shards'], { encoding: 'utf8', env: PY_ENV, cwd: PY_CWD }).status === 0;
if (!hasTorch) console.warn('[ctwindow tests] torch or ctwindow_shards not importable (apt-get install python3-torch): ShardLoader tests skipped');

const script = (name: string) => join(REPO, 'test', 'python', name);
let data = '';
let total = 0;

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'ctw-loader-'));
  // 13 written batches of 4 (the last 3): 51 slices.
  await writeSyntheticDataset(data, { seed: 41, records: { train: 13 }, batch: 4, hw: [3, 2], shardBytes: 600, ragged: true });
  total = (await readManifest(data)).splits.train!.slices;
});

describe.skipIf(!hasTorch && !process.env.CI)('ShardLoader', () => {
  it('resumes exactly for any num_workers and stop point; reshuffles with persistent workers; NCHW float; validates arguments', async () => {
    const r = await runAsync(PY, [script('loader_checks.py'), data], { env: PY_ENV, cwd: PY_CWD, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.slices).toBe(total);
    expect(s.batches).toBe(Math.ceil(total / 5));
    expect(s.resumes).toBe(18);
    expect(s.persistent && s.nchw && s.ranks).toBe(true);
    expect(s.errors[0]).toMatch(/unexpected keyword argument 'num_worker'/);
    expect(s.errors).toHaveLength(7);
    expect(s.verify).toMatch(/^train-00000\.ctws: crc32c [0-9a-f]{8} does not match the index's [0-9a-f]{8}$/);
  }, 240_000);

  it('a 2-rank gloo DDP job with 2 workers per rank, killed with SIGKILL mid-epoch, resumes to the same slices in the same order', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ctw-ddp-'));
    const run = (...args: string[]) => runAsync(PY, [script('ddp_resume.py'), data, out, ...args], { env: PY_ENV, cwd: PY_CWD, timeout: 180_000 });
    const full = await run('full');
    expect(full.status, full.stderr).toBe(0);
    const killed = await run('kill', '3');
    expect(killed.status).not.toBe(0); // rank 0 died by SIGKILL: the job failed
    expect(existsSync(join(out, 'kill-0.json'))).toBe(false);
    const resumed = await run('resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    const read = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { seen: [string, boolean][]; steps: number; len: number };
    const f = [read('full-0.json'), read('full-1.json')];
    const g = [read('resume-0.json'), read('resume-1.json')];
    expect(f[0].steps).toBe(f[1].steps); // equal steps on both ranks
    expect(f[0].steps).toBe(f[0].len);
    const real = f.flatMap((x) => x.seen.filter(([, padded]) => !padded).map(([s]) => s));
    expect(real.length).toBe(total); // every sample once per epoch
    expect(new Set(real).size).toBe(total);
    for (const r of [0, 1]) {
      expect(g[r].seen, `rank ${r}`).toEqual(f[r].seen);
      expect(g[r].steps).toBe(f[r].steps);
    }
  }, 240_000);
});
