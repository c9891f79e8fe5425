/**
 * Issue 2: the core pipeline on generated RSNA-layout phantom data.
 * Coverage, determinism, balancing, and every bad input of the issue.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateDataset, type GeneratedDataset } from '../src/fixtures/index.js';
import { runPipeline, RunError } from '../src/pipeline/index.js';
import { ConfigError } from '../src/config/index.js';
import { readManifest } from '../src/shards/index.js';
import { Balancer } from '../src/sampling/index.js';
import type { SliceRef } from '../src/types.js';
import { allRecords, shardBytes, tempDir, writePipeline } from './helpers/pipeline.js';
import dcmjs from 'dcmjs';
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';

let ds: GeneratedDataset;
let root: string;

const baseConfig = (over: Record<string, unknown> = {}) => ({
  source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
  split: { val: 0.25 },
  window: { strategy: 'channelwise' },
  resize: [48, 48],
  balance: { mode: 'none' },
  batch: { size: 8 },
  output: { dir: 'out/a', dtype: 'uint8', shardBytes: 40_000 },
  seed: 3,
  backend: 'cpu',
  workers: 0,
  ...over,
});

beforeAll(async () => {
  root = await tempDir('ctw-pipe-');
  ds = await generateDataset(join(root, 'data'), { exams: 6, slicesPerExam: 8, rows: 40, cols: 40, seed: 11, otherSizeEvery: 3, otherSize: [52, 44] });
});

describe('ctwindow run on generated data', () => {
  it('writes every slice exactly once with balance none, across train and val, at mixed input sizes', async () => {
    const cfg = await writePipeline(root, baseConfig());
    const res = await runPipeline(cfg);
    const seen = new Map<string, number>();
    let total = 0;
    for (const split of ['train', 'val'] as const) {
      for (const r of await allRecords(res.outDir, split)) {
        expect(r.shape.slice(1)).toEqual([48, 48, 3]);
        expect(r.pixels.length).toBe(r.shape.reduce((a, b) => a * b, 1));
        r.sop.forEach((sop, i) => {
          seen.set(sop, (seen.get(sop) ?? 0) + 1);
          const truth = ds.slices.find((s) => s.sop === sop)!;
          expect(r.labels[i]).toBe(truth.label);
          expect(r.study[i]).toBe(truth.study);
          expect(r.split).toBe(split);
        });
        total += r.sop.length;
      }
    }
    expect(total).toBe(ds.slices.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(res.manifest.quarantined).toEqual([]);
    // Exam-level split: no study on both sides.
    const trainStudies = new Set((await allRecords(res.outDir, 'train')).flatMap((r) => r.study));
    const valStudies = new Set((await allRecords(res.outDir, 'val')).flatMap((r) => r.study));
    expect([...trainStudies].filter((s) => valStudies.has(s))).toEqual([]);
    expect(valStudies.size).toBeGreaterThan(0);
    // Shards rotated at shardBytes.
    expect(res.manifest.splits.train!.shards.length).toBeGreaterThan(1);
    expect(res.manifest.backend.name).toBe('cpu');
  });

  it('gives byte-identical shards for the same config and seed', async () => {
    const a = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/det1', shardBytes: 40_000 }, balance: { mode: 'undersample' } }), 'd1.yaml'));
    const b = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/det2', shardBytes: 40_000 }, balance: { mode: 'undersample' } }), 'd2.yaml'));
    const fa = await shardBytes(a.outDir), fb = await shardBytes(b.outDir);
    expect([...fa.keys()]).toEqual([...fb.keys()]);
    expect(fa.size).toBeGreaterThan(0);
    for (const [k, v] of fa) expect(Buffer.compare(v, fb.get(k)!), k).toBe(0);
    expect(a.manifest.configHash).toBe(b.manifest.configHash);
    // A different seed changes the sampling.
    const c = await runPipeline(await writePipeline(root, baseConfig({ seed: 4, output: { dir: 'out/det3', shardBytes: 40_000 }, balance: { mode: 'undersample' } }), 'd3.yaml'));
    const fc = await shardBytes(c.outDir);
    expect([...fc.values()].map((v) => v.toString('hex')).join()).not.toBe([...fa.values()].map((v) => v.toString('hex')).join());
  });

  it('output.sha256 adds each shard\'s sha256 to its crc32c; the shards are the same bytes', async () => {
    const a = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/dg1', shardBytes: 40_000 } }), 'dg1.yaml'));
    const b = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/dg2', shardBytes: 40_000, sha256: true } }), 'dg2.yaml'));
    const fa = await shardBytes(a.outDir), fb = await shardBytes(b.outDir);
    expect([...fa.keys()]).toEqual([...fb.keys()]);
    for (const [k, v] of fa) if (k.endsWith('.ctws')) expect(Buffer.compare(v, fb.get(k)!), k).toBe(0);
    const digests = (m: typeof a.manifest) => Object.values(m.splits).flatMap((s) => s!.shards.map((sh) => [sh.file, sh.crc32c, sh.sha256]));
    const files = [...fa.keys()].filter((k) => k.endsWith('.ctws'));
    expect(files.length).toBeGreaterThan(1);
    const crc = (f: string) => (crc32c(fa.get(f)!) >>> 0).toString(16).padStart(8, '0');
    const sha = (f: string) => createHash('sha256').update(fa.get(f)!).digest('hex');
    expect(digests(a.manifest).sort()).toEqual(files.map((f) => [f, crc(f), undefined]).sort());
    expect(digests(b.manifest).sort()).toEqual(files.map((f) => [f, crc(f), sha(f)]).sort());
  });

  for (const mode of ['undersample', 'oversample'] as const) {
    it(`${mode}: every batch holds the positive fraction (±1) and the manifest counts match the shards`, async () => {
      const res = await runPipeline(await writePipeline(root, baseConfig({ balance: { mode, positiveFraction: 0.25 }, split: { val: 0 }, output: { dir: `out/bal-${mode}` } }), `bal-${mode}.yaml`));
      const recs = await allRecords(res.outDir, 'train');
      let pos = 0, neg = 0;
      for (const r of recs) {
        const p = r.labels.filter((l) => l === 1).length;
        expect(Math.abs(p - r.labels.length * 0.25), `record ${r.index}: ${p}/${r.labels.length}`).toBeLessThanOrEqual(1);
        pos += p;
        neg += r.labels.length - p;
      }
      const s = res.manifest.splits.train!;
      expect(s.positives).toBe(pos);
      expect(s.negatives).toBe(neg);
      expect(s.slices).toBe(pos + neg);
      const totalPos = ds.slices.filter((x) => x.label === 1).length;
      const totalNeg = ds.slices.length - totalPos;
      if (mode === 'undersample') {
        expect(s.sampling.dropped).toBe(totalPos + totalNeg - (pos + neg));
        expect(s.sampling.repeated).toBe(0);
      } else {
        expect(s.sampling.dropped).toBe(0);
        expect(pos + neg).toBe(totalPos + totalNeg + s.sampling.repeated);
        expect(s.sampling.repeated).toBeGreaterThan(0);
      }
    });
  }
});

describe('bad input', () => {
  it('quarantines missing, truncated, corrupt and pixel-less DICOMs and bad CSV rows, and goes on', async () => {
    const dir = await tempDir('ctw-bad-');
    const d = await generateDataset(join(dir, 'data'), { exams: 2, slicesPerExam: 6, rows: 32, cols: 32, seed: 5, otherSizeEvery: 0 });
    const [s0, s1, s2] = d.slices;
    const trunc = await readFile(s1.path);
    await writeFile(s1.path, trunc.subarray(0, trunc.length - 500)); // truncated pixel data
    await writeFile(s2.path, Buffer.from('DICM? no: this is not a DICOM file at all'.repeat(10))); // corrupt
    // A DICOM with no pixel data, listed in the CSV.
    const { DicomMetaDictionary, DicomDict } = dcmjs.data;
    const meta = { FileMetaInformationVersion: new Uint8Array([0, 1]).buffer, MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', MediaStorageSOPInstanceUID: 'nopix', TransferSyntaxUID: '1.2.840.10008.1.2.1', ImplementationClassUID: '1.2.3' };
    const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
    dict.dict = DicomMetaDictionary.denaturalizeDataset({ SOPInstanceUID: 'nopix', Modality: 'CT', Rows: 32, Columns: 32 });
    await writeFile(join(d.dicomRoot, s0.study, s0.series, 'nopix.dcm'), Buffer.from(dict.write()));
    await appendFile(
      d.csv,
      [
        `${s0.study},${s0.series},nopix,0`,
        `${s0.study},${s0.series},doesnotexist,1`,
        `${s0.study},${s0.series}`, // missing columns
        `${s0.study},${s0.series},abc,2`, // bad label
      ].join('\n') + '\n',
    );
    const res = await runPipeline(await writePipeline(dir, baseConfig({ split: { val: 0 }, resize: [32, 32] })));
    const q = res.manifest.quarantined;
    const reasonFor = (pred: (x: (typeof q)[number]) => boolean) => q.filter(pred).map((x) => x.reason).join(' | ');
    expect(reasonFor((x) => x.path === s1.path)).toMatch(/truncat|length|short|end of/i);
    expect(reasonFor((x) => x.path === s2.path)).toMatch(/./);
    expect(q.find((x) => x.path?.endsWith('nopix.dcm'))?.reason).toMatch(/pixel data/i);
    expect(q.find((x) => x.path?.endsWith('doesnotexist.dcm'))?.reason).toMatch(/file not found/);
    const csvQ = q.filter((x) => x.stage === 'csv');
    expect(csvQ.map((x) => x.reason).join('\n')).toMatch(/line 16: missing SOPInstanceUID/);
    expect(csvQ.map((x) => x.reason).join('\n')).toMatch(/line 17: pe_present_on_image must be 0 or 1 \(also 0\.0\/1\.0, true\/false\), got "2"/);
    expect(q.length).toBe(6);
    // Every good slice still written, exactly once.
    const written = (await allRecords(res.outDir)).flatMap((r) => r.sop);
    expect(written.sort()).toEqual(d.slices.filter((s) => s !== s1 && s !== s2).map((s) => s.sop).sort());
  });

  it('stops before any work on config problems, naming file and field', async () => {
    const dir = await tempDir('ctw-cfg-');
    const cases: [Record<string, unknown>, RegExp][] = [
      [baseConfig({ window: { strategy: 'sigmod' } }), /pipeline\.yaml: window\.strategy: expected one of "none", .*got "sigmod"/],
      [baseConfig({ batch: { size: 'big' } }), /batch\.size: expected number, got string "big"/],
      [baseConfig({ colour: 'red' }), /pipeline\.yaml: colour: unknown key/],
      [baseConfig({ output: { dir: 'x', dtype: 'int4' } }), /output\.dtype: expected one of "uint8", "float16", "float32", got "int4"/],
    ];
    for (const [cfg, re] of cases) {
      const file = await writePipeline(dir, cfg);
      const err = await runPipeline(file).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(re);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
    // Overrides are parsed as YAML and validated the same way.
    const err = await runPipeline(await writePipeline(dir, baseConfig()), { overrides: ['resize=[64]'] }).catch((e) => e);
    expect(err.message).toMatch(/resize/);
  });

  it('refuses an output folder that holds a different run, and --resume of a finished run does nothing', async () => {
    const first = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/refuse' } }), 'r1.yaml'));
    const other = await writePipeline(root, baseConfig({ output: { dir: 'out/refuse' }, seed: 99 }), 'r2.yaml');
    const err = await runPipeline(other).catch((e) => e);
    expect(err).toBeInstanceOf(RunError);
    expect(err.message).toMatch(/already holds/);
    const err2 = await runPipeline(other, { resume: true }).catch((e) => e);
    expect(err2.message).toMatch(/different config/);
    const again = await runPipeline(await writePipeline(root, baseConfig({ output: { dir: 'out/refuse' } }), 'r1.yaml'), { resume: true });
    expect(again.alreadyComplete).toBe(true);
    expect((await readManifest(first.outDir)).configHash).toBe(first.manifest.configHash);
  });
});

describe('Balancer', () => {
  const ref = (i: number, label: 0 | 1): SliceRef => ({ study: 's', series: 'e', sop: `x${i}`, label, path: '', row: i, split: 'train' });
  it('undersample holds at most its cap, keeps every minority row and drops only majority rows', () => {
    const b = new Balancer({ mode: 'undersample', positiveFraction: 0.5, batchSize: 4, window: 16, cap: 64, seed: 1, stream: 't', counts: { positives: 20, negatives: 980 } });
    const out = [];
    let most = 0;
    for (let i = 0; i < 1000; i++) {
      out.push(...b.push(ref(i, i % 50 === 0 ? 1 : 0)));
      most = Math.max(most, b['held'][0].length, b['held'][1].length);
    }
    out.push(...b.end());
    expect(most).toBeLessThanOrEqual(64);
    expect(b['held'][0].length + b['held'][1].length).toBe(0);
    const used = out.flatMap((x) => x.refs);
    expect(used.filter((r) => r.label === 1).length).toBe(20);
    expect(used.filter((r) => r.label === 0).length).toBe(20);
    expect(new Set(used.map((r) => r.sop)).size).toBe(used.length);
    expect(b.stats.dropped.negatives + used.filter((r) => r.label === 0).length).toBe(980);
  });
});
