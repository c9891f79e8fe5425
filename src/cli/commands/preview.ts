/**
 * `ctwindow preview <files or dirs…> --strategies all|a,b,c --out sheet.png [--histogram hist.png]`
 *
 * A contact sheet (rows = slices, columns = strategies, each cell titled) and optionally the
 * notebook's pixel-value distribution plot, of the HU of the same slices. Folders are searched
 * recursively for *.dcm; files that fail to decode are reported and left out.
 *
 * @example ctwindow preview ../shared/corpus/ct --max 4 --strategies lung,gradient,channelwise --out sheet.png
 */
import type { Command } from 'commander';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BACKENDS, initBackend, type BackendName } from '../../backend/index.js';
import { DEFAULT_PADDING, DicomDecodeError, huFrame, initCodecs, paddingMode, readDicomFile } from '../../dicom/index.js';
import { STRATEGIES, sliceMeta } from '../../windowing/index.js';
import { contactSheet, type SheetSlice } from '../../windowing/preview/sheet.js';
import { huHistogram } from '../../windowing/preview/histogram.js';

export interface PreviewCliOptions {
  strategies: string;
  out: string;
  histogram?: string;
  max: string;
  cell: string;
  backend: string;
  padding: string;
  labels: boolean;
}

/** 'all' or a comma list → validated strategy names. */
export function parseStrategies(s: string): string[] {
  if (s.trim() === 'all') return [...STRATEGIES];
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new Error(`--strategies: expected 'all' or a comma list of strategies, got '${s}'`);
  for (const n of names) {
    if (!(STRATEGIES as readonly string[]).includes(n)) throw new Error(`--strategies: unknown strategy '${n}' (expected one of ${STRATEGIES.join(', ')})`);
  }
  return names;
}

async function expand(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of inputs) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new Error(`${p}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.dcm'))
        .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
        .sort();
      out.push(...entries);
    } else out.push(p);
  }
  return out;
}

export async function preview(inputs: string[], opts: PreviewCliOptions, log = console.log, logErr = console.error): Promise<{ slices: number }> {
  const strategies = parseStrategies(opts.strategies);
  const max = Number(opts.max);
  if (!Number.isInteger(max) || max < 1) throw new Error(`--max: expected a positive integer, got '${opts.max}'`);
  const cell = Number(opts.cell);
  if (!Number.isInteger(cell) || cell < 16 || cell > 1024) throw new Error(`--cell: expected an integer in [16, 1024], got '${opts.cell}'`);
  const padding = paddingMode(opts.padding);
  if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new Error(`--backend: expected one of ${BACKENDS.join(' | ')}, got '${opts.backend}'`);
  const files = await expand(inputs);
  if (files.length === 0) throw new Error(`no .dcm files in ${inputs.join(', ')}`);
  await initBackend(opts.backend as BackendName, logErr);
  await initCodecs();
  const slices: SheetSlice[] = [];
  for (const f of files) {
    if (slices.length >= max) break;
    try {
      const img = await readDicomFile(f, { frame: 0 });
      slices.push({ label: basename(f), hu: huFrame(img, 0, { padding }), rows: img.rows, cols: img.cols, meta: sliceMeta(img, 0) });
    } catch (e) {
      logErr(`skip ${f}: ${e instanceof DicomDecodeError ? e.reason : (e as Error).message}`);
    }
  }
  if (slices.length === 0) throw new Error('no slice could be decoded');
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, await contactSheet(slices, strategies, { cell, labels: opts.labels }));
  log(`sheet: ${opts.out} (${slices.length} slice(s) × ${strategies.length} strategies)`);
  if (opts.histogram) {
    await mkdir(dirname(opts.histogram), { recursive: true });
    await writeFile(opts.histogram, await huHistogram(slices.map((s) => s.hu)));
    log(`histogram: ${opts.histogram}`);
  }
  return { slices: slices.length };
}

export function register(program: Command): void {
  program
    .command('preview')
    .description('Contact sheet of windowing strategies (rows = slices, columns = strategies) and an HU histogram')
    .argument('<inputs...>', 'DICOM files or folders (searched for *.dcm)')
    .option('--strategies <list>', "'all' or a comma list of strategies", 'all')
    .requiredOption('-o, --out <png>', 'contact sheet PNG')
    .option('--histogram <png>', 'also write the HU distribution plot')
    .option('--max <n>', 'at most this many slices (rows)', '12')
    .option('--cell <px>', 'cell size in pixels', '160')
    .option('--no-labels', 'leave out the column of slice names')
    .option('-b, --backend <name>', `tfjs backend: ${BACKENDS.join(' | ')}`, 'cpu')
    .option('--padding <mode>', "PixelPaddingValue handling: 'air' (−1000 HU, as `run`) or 'keep'", DEFAULT_PADDING)
    .action(async (inputs: string[], opts: PreviewCliOptions) => {
      await preview(inputs, opts);
    });
}
