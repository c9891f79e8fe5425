#!/usr/bin/env node
/**
 * Quarantine at scale (issue 18): a CSV of N rows (default 1,000,000, the full RSNA PE CSV has
 * 1.79 M) whose DICOM files are all missing, run through `ctwindow run`. Prints peak RSS, the
 * sizes of manifest.json and quarantine.jsonl, and the wall time, as JSON. A measurement, not a
 * test: run it by hand or from the bench.
 *
 *   node scripts/bench/quarantine-scale.mjs [--rows 1000000] [--dir /tmp/ctw-qscale]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);

export async function quarantineScale({ rows = 1_000_000, dir = join(tmpdir(), 'ctw-qscale') } = {}) {
  mkdirSync(join(dir, 'empty'), { recursive: true });
  const csv = join(dir, `train-${rows}.csv`);
  if (!existsSync(csv)) {
    const out = createWriteStream(csv);
    out.write('StudyInstanceUID,SeriesInstanceUID,SOPInstanceUID,pe_present_on_image\n');
    for (let i = 0; i < rows; i++) {
      const e = Math.floor(i / 250);
      if (!out.write(`1.2.826.${e},1.2.826.${e}.1,1.2.826.${e}.1.${i},${i % 7 === 0 ? 1 : 0}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  const yaml = join(dir, 'q.yaml');
  const outDir = join(dir, 'out');
  writeFileSync(yaml, [`source: {csv: ${JSON.stringify(csv)}, dicomRoot: ${JSON.stringify(join(dir, 'empty'))}}`, 'split: {val: 0}', 'window: {strategy: lung}', 'resize: [64, 64]', 'balance: {mode: none}', 'batch: {size: 32}', `output: {dir: ${JSON.stringify(outDir)}}`, 'backend: cpu'].join('\n') + '\n');
  rmSync(outDir, { recursive: true, force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let peak = 0;
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  // The kernel's own high-water mark of the process, polled while it runs.
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, +m[1] * 1024);
    } catch { /* exited */ }
  }, 50);
  const [code] = await once(child, 'exit');
  clearInterval(poll);
  const size = (f) => (existsSync(join(outDir, f)) ? statSync(join(outDir, f)).size : null);
  const m = existsSync(join(outDir, 'manifest.json')) ? JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) : undefined;
  return {
    rows,
    exit: code,
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
    peakRssMiB: +(peak / 2 ** 20).toFixed(1),
    manifestBytes: size('manifest.json'),
    quarantineBytes: size('quarantine.jsonl'),
    quarantined: m?.quarantine?.count,
    rowsAccount: m?.rows,
    lastError: err.trim().split('\n').slice(-1)[0],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await quarantineScale({ rows: Number(arg('--rows', 1_000_000)), dir: arg('--dir', undefined) });
  console.log(JSON.stringify(r, null, 2));
}
