#!/usr/bin/env node
// The windowing A/B demo, from a fresh clone:
//   node pipelines/ab/demo.mjs [extra ctwindow ab options, e.g. --seeds 3 --epochs 4]
// Builds dist/ when absent, generates the phantom A/B dataset in data/ab/ when absent
// (64 exams × 16 slices, 128×128), then compares the pe-band window with the bone window:
//   ctwindow ab pipelines/ab/pe-band.yaml pipelines/ab/bone.yaml --out out/ab --seeds 3 --epochs 5
// With --2p5d it compares the seed's channelwise windows with the RSNA PE winners' 2.5D input
// (PE window over slices z−1, z, z+1) instead, into out/ab-2p5d.
// Shards are reused by config hash on later runs (out/ab/shards/).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync(join(root, 'dist', 'cli', 'main.js')) || !existsSync(join(root, 'dist', 'ab', 'run.js'))) {
  // tsc exits non-zero on type errors but still emits; the CLI check below is what matters.
  spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
if (!existsSync(join(root, 'data', 'ab', 'train.csv'))) {
  run(['scripts/make-fixtures.mjs', 'data/ab', '--exams', '64', '--slices', '16', '--size', '128', '--seed', '11']);
}
const twoAndHalfD = process.argv.includes('--2p5d');
const extra = process.argv.slice(2).filter((a) => a !== '--2p5d');
const has = (flag) => extra.some((a) => a === flag || a.startsWith(`${flag}=`));
const arms = twoAndHalfD ? ['pipelines/ab/channelwise.yaml', 'pipelines/ab/rsna-pe-2p5d.yaml'] : ['pipelines/ab/pe-band.yaml', 'pipelines/ab/bone.yaml'];
run([
  'bin/ctwindow.js', 'ab', ...arms,
  ...(has('--out') ? [] : ['--out', twoAndHalfD ? 'out/ab-2p5d' : 'out/ab']),
  ...(has('--seeds') ? [] : ['--seeds', '3']),
  ...(has('--epochs') ? [] : ['--epochs', '5']),
  ...extra,
]);
