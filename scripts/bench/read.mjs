#!/usr/bin/env node
/**
 * Read benchmark: records/s and MB/s (decoded image bytes) for the Node reader (`readRecords`,
 * CRC + shard digest (crc32c; sha256 where recorded) checked, and CRC only; ShardDataset, shuffled
 * per-slice access) and the Python reader (`iter_batches`, shard digest checked, and length CRC
 * only), on a dataset folder. The digest check reads each shard once more.
 *
 *   node scripts/bench/read.mjs <outdir>            # needs `npm run build`
 *   node scripts/bench/read.mjs --synthetic [MB]    # writes a synthetic uint8 dataset first (default 200 MB)
 *
 * @example
 *   import { benchRead } from './scripts/bench/read.mjs';
 *   const r = await benchRead('out/');   // { node: {records_per_s, mb_per_s, ...}, nodeShuffled: {...}, python: {...} }
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = '/usr/bin/python3';

async function shards() {
  return import(join(REPO, 'dist', 'shards', 'index.js'));
}

function rate(records, bytes, seconds) {
  return { records, bytes, seconds: +seconds.toFixed(3), records_per_s: +(records / seconds).toFixed(1), mb_per_s: +(bytes / 1e6 / seconds).toFixed(1) };
}

/** Benchmarks the Node and Python readers on `dir` (split 'train'). */
export async function benchRead(dir, { split = 'train', python = PYTHON } = {}) {
  const { readRecords, ShardDataset } = await shards();
  let t0 = performance.now();
  let n = 0;
  let bytes = 0;
  for await (const r of readRecords(dir, { split, verify: true })) {
    n++;
    bytes += r.images.byteLength;
  }
  const node = rate(n, bytes, (performance.now() - t0) / 1000);

  t0 = performance.now();
  n = 0;
  bytes = 0;
  for await (const r of readRecords(dir, { split, verify: false })) {
    n++;
    bytes += r.images.byteLength;
  }
  const nodeNoVerify = rate(n, bytes, (performance.now() - t0) / 1000);

  t0 = performance.now();
  const ds = await ShardDataset.open(dir, { split, granularity: 'records', seed: 1 });
  let slices = 0;
  let sbytes = 0;
  for await (const s of ds.samples()) {
    slices++;
    sbytes += s.image.byteLength;
  }
  const nodeShuffled = { ...rate(slices, sbytes, (performance.now() - t0) / 1000), unit: 'slices' };

  const pyBench = (verify) => {
    const p = spawnSync(python, ['-m', 'ctwindow_shards', 'bench', dir, '--split', split, '--verify', verify], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(REPO, 'python') } });
    if (p.status !== 0) return { error: (p.stderr || p.error?.message || 'python failed').trim().split('\n').pop() };
    const j = JSON.parse(p.stdout);
    return rate(j.records, j.bytes, j.seconds);
  };
  return { dir, split, node, nodeNoVerify, nodeShuffled, python: pyBench('1'), pythonNoVerify: pyBench('0') };
}

async function main(argv) {
  let dir = argv[0];
  if (!dir || dir === '--help') {
    console.error('usage: node scripts/bench/read.mjs <outdir> | --synthetic [MB]');
    return 2;
  }
  if (dir === '--synthetic') {
    const mb = Number(argv[1] ?? 200);
    const { writeSyntheticDataset } = await shards();
    dir = mkdtempSync(join(tmpdir(), 'ctw-bench-read-'));
    const per = 32 * 256 * 256 * 3;
    const records = Math.max(1, Math.round((mb * 1e6) / per));
    const t0 = performance.now();
    await writeSyntheticDataset(dir, { seed: 1, records: { train: records }, batch: 32, hw: [256, 256], shardBytes: 64 << 20 });
    const s = (performance.now() - t0) / 1000;
    console.error(`wrote ${records} records of [32,256,256,3] uint8 (${((records * per) / 1e6).toFixed(0)} MB) to ${dir} in ${s.toFixed(1)} s (${((records * per) / 1e6 / s).toFixed(0)} MB/s incl. generation)`);
  }
  console.log(JSON.stringify(await benchRead(dir), null, 2));
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((c) => (process.exitCode = c), (e) => { console.error(`read bench: ${e.message}`); process.exitCode = 1; });
}
