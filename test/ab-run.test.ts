import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../src/fixtures/index.js';
import { runAb } from '../src/ab/run.js';

/**
 * End to end on a tiny generated phantom dataset (12 exams × 4 slices, 32×32): two
 * pipelines with the *same* window under different names must give identical scores, a
 * paired difference of exactly 0 and no winner; a re-run reuses the shards and writes the
 * same results.json bytes; the report and its PNG plots are written.
 */
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pipeline(dir: string, name: string, window: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(
    p,
    [
      `name: ${name}`,
      'source: {csv: data/train.csv, dicomRoot: data/train}',
      'split: {by: StudyInstanceUID, val: 0.5}',
      `window: ${window}`,
      'resize: [16, 16]',
      'balance: {mode: none}',
      'batch: {size: 8}',
      `output: {dir: out/${name}}`,
      'seed: 3',
      'backend: cpu',
      'workers: 0',
    ].join('\n') + '\n',
  );
  return p;
}

describe('ctwindow ab end to end (tiny phantom data)', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctw-ab-'));
    await generateDataset(join(dir, 'data'), { exams: 12, slicesPerExam: 4, rows: 32, cols: 32, seed: 5, otherSizeEvery: 0 });
    model = join(dir, 'model.yaml');
    writeFileSync(model, 'name: tiny\ninput: {size: 16}\nconv: [{filters: 4, kernel: 3, stride: 2, pool: false}]\ndense: 4\ntrain: {epochs: 1, batchSize: 8, learningRate: 0.01}\n');
  }, 120_000);

  it('identical strategies: difference exactly 0, no winner; reruns are byte-identical; report + plots written', async () => {
    const win = '{channels: [{name: band, terms: [{kind: clip, center: 150, width: 500, norm: window}]}], repeat: false}';
    const a = pipeline(dir, 'band-a', win);
    const b = pipeline(dir, 'band-b', win);
    const out = join(dir, 'ab');
    const r = await runAb({ pipelines: [a, b], out, model, seeds: 1, replicates: 200 });
    expect(r.strategies.map((s) => s.name)).toEqual(['band-a', 'band-b']);
    expect(r.data.valPositiveExams).toBeGreaterThan(0);
    expect(r.data.valExams).toBeGreaterThan(r.data.valPositiveExams);
    const [sa, sb] = r.strategies;
    expect(sa.seeds[0].auc.estimate).toBe(sb.seeds[0].auc.estimate);
    expect(sa.seeds[0].auc.lo).toBeLessThanOrEqual(sa.seeds[0].auc.estimate);
    expect(sa.seeds[0].auc.hi).toBeGreaterThanOrEqual(sa.seeds[0].auc.estimate);
    const c = r.comparisons[0];
    expect(c.pooled.estimate).toBe(0);
    expect([c.pooled.lo, c.pooled.hi]).toEqual([0, 0]);
    expect(c.pooled.p).toBe(1);
    expect(c.pooled.significant).toBe(false);
    expect(c.verdict).toMatch(/^No significant difference/);
    for (const f of ['roc.png', 'auc-per-seed.png', 'auc-diff.png']) expect(readFileSync(join(out, f)).subarray(0, 8).equals(PNG)).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('No significant difference between band-a and band-b');
    expect(md).toContain('![ROC curves per strategy and seed](roc.png)');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<img src="auc-per-seed.png"');
    const first = readFileSync(join(out, 'results.json'));
    expect(JSON.parse(first.toString()).comparisons[0].pooled.p).toBe(1);

    const logs: string[] = [];
    await runAb({ pipelines: [a, b], out, model, seeds: 1, replicates: 200, log: (l) => logs.push(l) });
    expect(logs.filter((l) => l.startsWith('shards: reusing')).length).toBe(2);
    expect(readFileSync(join(out, 'results.json')).equals(first)).toBe(true);

    // Reuse needs the same train.csv too: a changed digest rebuilds, a foreign folder is refused.
    const shardDirs = Object.values(JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8')).shards as Record<string, { dir: string }>).map((s) => s.dir);
    writeFileSync(join(shardDirs[0], 'ab-source.json'), JSON.stringify({ csvSha256: 'stale' }));
    const logs2: string[] = [];
    await runAb({ pipelines: [a, b], out, model, seeds: 1, replicates: 200, log: (l) => logs2.push(l) });
    expect(logs2.some((l) => /changed since .* was built; rebuilding/.test(l))).toBe(true);
    expect(readFileSync(join(out, 'results.json')).equals(first)).toBe(true);
    rmSync(join(shardDirs[1], 'ab-source.json'));
    await expect(runAb({ pipelines: [a, b], out, model, seeds: 1, replicates: 200 })).rejects.toThrow(/no ab-source\.json/);
  });

  it('refuses pipelines over different exams or splits, naming the field', async () => {
    const a = pipeline(dir, 'x-a', '{strategy: lung}');
    const b = join(dir, 'x-b.yaml');
    writeFileSync(b, readFileSync(a, 'utf8').replace('name: x-a', 'name: x-b').replace('val: 0.5', 'val: 0.4'));
    await expect(runAb({ pipelines: [a, b], out: join(dir, 'bad'), model })).rejects.toThrow(/differs from .*x-a\.yaml in split/);
    await expect(runAb({ pipelines: [a], out: join(dir, 'bad'), model })).rejects.toThrow(/at least two/);
    expect(existsSync(join(dir, 'bad', 'results.json'))).toBe(false);
  });
});
