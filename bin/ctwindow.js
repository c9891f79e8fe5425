#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`, run automatically by `npm install`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => { console.error(`ctwindow: ${err?.message ?? err}`); process.exitCode = 1; },
);
