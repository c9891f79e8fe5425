#!/usr/bin/env node
// Regenerates the thumbnails of docs/strategies.md with `ctwindow preview` on a synthetic CT
// phantom (src/fixtures/phantom.ts), so no patient data is committed.
// Usage (after `npm run build`): node docs/img/make-thumbnails.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { phantomSlice, writeCtSlice } from '../../dist/fixtures/index.js';
import { STRATEGIES } from '../../dist/windowing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'ctw-thumbs-'));
const rows = 192, cols = 192;
[[0.35, true], [0.7, false]].forEach(([z, positive], i) => {
  const hu = phantomSlice({ rows, cols, z, positive, seed: 5 });
  writeFileSync(join(tmp, `phantom-${i}.dcm`), writeCtSlice({ hu, rows, cols, study: '1.2.826.0.1.3680043.10.1096.1', series: '1.2.826.0.1.3680043.10.1096.1.1', sop: `1.2.826.0.1.3680043.10.1096.1.1.${i + 1}`, instance: i + 1, z: i * 2.5, windowCenter: 40, windowWidth: 400 }));
});
const cli = (args) => execFileSync(process.execPath, [join(repo, 'bin', 'ctwindow.js'), 'preview', tmp, '--padding', 'keep', ...args], { stdio: 'inherit' });
for (const s of STRATEGIES) cli(['--strategies', s, '--cell', '112', '--max', '1', '--no-labels', '--out', join(here, `${s}.png`)]);
cli(['--strategies', 'all', '--cell', '96', '--out', join(here, 'sheet-all.png'), '--histogram', join(here, 'histogram.png')]);
rmSync(tmp, { recursive: true, force: true });
