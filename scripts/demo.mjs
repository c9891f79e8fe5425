#!/usr/bin/env node
// npm run demo: generate the demo data when absent, run pipelines/demo.yaml, verify the shards.
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
if (!existsSync(join(root, 'data', 'demo', 'train.csv'))) run(['scripts/make-fixtures.mjs', 'data/demo']);
// The demo is a clean run each time: its output folder is the demo's own.
rmSync(join(root, 'out', 'demo'), { recursive: true, force: true });
run(['bin/ctwindow.js', 'run', 'pipelines/demo.yaml', ...process.argv.slice(2)]);
run(['bin/ctwindow.js', 'verify', 'out/demo']);
run(['bin/ctwindow.js', 'inspect', 'out/demo']);
