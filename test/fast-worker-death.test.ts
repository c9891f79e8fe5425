/**
 * A worker thread that dies on a slice (a crash, a heap over its limit) takes down only that
 * slice (issue 18): the pool replaces the thread, the chunk is retried slice by slice, and the
 * slice that kills its worker is quarantined with the reason — the shards are byte for byte those
 * of a run in which that file is simply missing. A fault on every file ends in a clear error
 * after MAX_RESPAWNS deaths, not a hang. (The death is injected: CTWINDOW_FAULT_WORKER_EXIT.)
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateDataset, type GeneratedDataset } from '../src/fixtures/index.js';
import { ctwindow } from './helpers/shared.js';
import { shardBytes, tempDir, writePipeline } from './helpers/pipeline.js';

let root = '';
let ds: GeneratedDataset;
const config = (dicomRoot: string, dir: string) => ({
  source: { csv: 'data/train.csv', dicomRoot }, split: { val: 0 }, window: { strategy: 'lung' }, resize: [32, 32],
  balance: { mode: 'none' }, batch: { size: 4 }, output: { dir, shardBytes: 30_000 }, seed: 1, backend: 'cpu', workers: 2,
  quarantine: { maxFraction: 0.5 },
});

beforeAll(async () => {
  root = await tempDir('ctw-worker-death-');
  ds = await generateDataset(join(root, 'data'), { exams: 3, slicesPerExam: 8, rows: 32, cols: 32, seed: 12 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a worker thread that dies', () => {
  it('takes down only its slice: quarantined with the reason, the shards those of a run without that file', async () => {
    const victim = ds.slices[9];
    const crash = await writePipeline(root, config('data/train', 'out/crash'), 'crash.yaml');
    const r = ctwindow(['run', crash, '-q'], { env: { CTWINDOW_FAULT_WORKER_EXIT: basename(victim.path) }, timeout: 120_000 });
    expect(r.error, 'the run hung').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(join(root, 'out/crash/quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].path).toBe(victim.path);
    expect(lines[0].reason).toMatch(/the worker thread decoding it died \(worker thread \d died: worker exited with code 70\); set aside so the run goes on$/);
    // The same data without that file: the same shards, byte for byte.
    cpSync(join(root, 'data'), join(root, 'data-missing'), { recursive: true });
    unlinkSync(victim.path.replace(join(root, 'data'), join(root, 'data-missing')));
    const missing = await writePipeline(root, config('data-missing/train', 'out/missing'), 'missing.yaml');
    expect(ctwindow(['run', missing, '-q']).status).toBe(0);
    const [a, b] = [await shardBytes(join(root, 'out/crash')), await shardBytes(join(root, 'out/missing'))];
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [f, bytes] of a) if (f.endsWith('.ctws')) expect(bytes.equals(b.get(f)!), f).toBe(true);
  }, 180_000);

  it('on every file: a clear error once the respawns are spent, not a hang', async () => {
    const yaml = await writePipeline(root, config('data/train', 'out/all'), 'all.yaml');
    const r = ctwindow(['run', yaml, '-q'], { env: { CTWINDOW_FAULT_WORKER_EXIT: '.dcm' }, timeout: 120_000 });
    expect(r.error, 'the run hung').toBeUndefined();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/17 worker threads died, the last: worker exited with code 70/);
  }, 180_000);
});
