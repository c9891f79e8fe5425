/**
 * The plan verdict cache: a verdict is recorded once verified, read back by later runs, keyed by
 * the plan (another plan is verified afresh), ignored when unreadable, and off on request; a
 * cpu pipeline run with a recorded verdict windows without loading tfjs on its main thread.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileWindow } from '../src/windowing/compile.js';
import { cacheDir, readVerdict, verdictKey, writeVerdict } from '../src/fast/verdict-cache.js';
import { generateDataset } from '../src/fixtures/index.js';
import { REPO } from './helpers/shared.js';
import { writePipeline } from './helpers/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'ctw-verdicts-'));
const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('plan verdict cache', () => {
  it('records, reads back, keys by plan, survives a corrupt file, and can be turned off', () => {
    process.env.CTWINDOW_CACHE_DIR = join(dir, 'cache');
    delete process.env.CTWINDOW_CACHE;
    const a = compileWindow({ strategy: 'sigmoid-ensemble' });
    const b = compileWindow({ strategy: 'channelwise' });
    expect(verdictKey(a)).not.toBe(verdictKey(b));
    expect(verdictKey(a)).toBe(verdictKey(compileWindow({ strategy: 'sigmoid-ensemble' })));
    expect(readVerdict(a)).toBeUndefined();
    writeVerdict(a, true);
    writeVerdict(b, false);
    expect(readVerdict(a)).toBe(true);
    expect(readVerdict(b)).toBe(false);
    expect(readdirSync(join(dir, 'cache', 'plan-verdicts')).sort()).toEqual([`${verdictKey(a)}.json`, `${verdictKey(b)}.json`].sort());
    writeFileSync(join(dir, 'cache', 'plan-verdicts', `${verdictKey(a)}.json`), '{not json');
    expect(readVerdict(a)).toBeUndefined(); // verified again, not trusted
    process.env.CTWINDOW_CACHE = 'off';
    expect(cacheDir()).toBeUndefined();
    expect(readVerdict(b)).toBeUndefined();
    expect(cacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/ctwindow');
  });

  it('a second cpu run reads the verdict and its main thread never loads tfjs', async () => {
    await generateDataset(join(dir, 'data'), { exams: 2, slicesPerExam: 4, rows: 32, cols: 32, seed: 3 });
    const env = { ...saved, CTWINDOW_CACHE_DIR: join(dir, 'cache2') };
    delete env.CTWINDOW_CACHE;
    const script = (out: string) => `
      const { runPipeline } = await import(${JSON.stringify(join(REPO, 'dist', 'pipeline', 'run.js'))});
      const s = await runPipeline(${JSON.stringify(join(dir, 'p.yaml'))}, { overrides: ['output.dir=${out}'] });
      console.log(JSON.stringify({ tfjs: '_tfengine' in globalThis, slices: s.slicesWritten }));`;
    await writePipeline(dir, {
      source: { csv: 'data/train.csv', dicomRoot: 'data/train' }, split: { val: 0 }, window: { strategy: 'sigmoid-ensemble' },
      resize: [32, 32], balance: { mode: 'none' }, batch: { size: 4 }, output: { dir: 'out/a' }, backend: 'cpu', workers: 2,
    }, 'p.yaml');
    const run = (out: string) => {
      const p = spawnSync(process.execPath, ['--input-type=module', '-e', script(out)], { env, encoding: 'utf8', timeout: 120_000 });
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout.trim().split('\n').pop()!) as { tfjs: boolean; slices: number };
    };
    const first = run(join(dir, 'out/a'));
    expect(first).toEqual({ tfjs: true, slices: 8 }); // verified with tfjs, then recorded
    expect(readdirSync(join(dir, 'cache2', 'plan-verdicts')).length).toBe(1);
    const second = run(join(dir, 'out/b'));
    expect(second).toEqual({ tfjs: false, slices: 8 });
  });
});
