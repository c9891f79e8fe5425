#!/usr/bin/env node
// Generates the demo dataset (synthetic RSNA-layout phantom CT, real DICOM files).
//   node scripts/make-fixtures.mjs [outDir=data/demo] [--exams N] [--slices N] [--size N] [--seed N]
import { parseArgs } from 'node:util';
import { generateDataset } from '../dist/fixtures/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { exams: { type: 'string', default: '8' }, slices: { type: 'string', default: '40' }, size: { type: 'string', default: '256' }, seed: { type: 'string', default: '7' } },
});
const dir = positionals[0] ?? 'data/demo';
const size = Number(values.size);
const t0 = Date.now();
const ds = await generateDataset(dir, { exams: Number(values.exams), slicesPerExam: Number(values.slices), rows: size, cols: size, seed: Number(values.seed) });
const pos = ds.slices.filter((s) => s.label === 1).length;
console.log(`generated ${ds.slices.length} slices (${pos} positive) in ${ds.slices.length / Number(values.slices)} exams → ${ds.csv} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
