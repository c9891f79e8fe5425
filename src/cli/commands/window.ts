/**
 * `ctwindow window <file.dcm…> --strategy <name> [--param key=value…] [--backend <b>] --out <dir>`
 *
 * Windows each file with one strategy and writes `<dir>/<basename>.npy`, float32 [H,W,C] in
 * [0,1] at the file's own size (first frame). A file that cannot be decoded or windowed (e.g.
 * `metadata` without window tags and no `--param fallback=…`) prints its reason and the others
 * go on; the exit status is non-zero only when nothing was written. Padding pixels are air
 * (−1000 HU), as in `run` and `preview`; `--padding keep` keeps them as stored (the seed).
 *
 * @example ctwindow window ct/*.dcm --strategy sigmoid-ensemble --param 'eps=0.01' --out /tmp/win
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outputStems } from '../outputs.js';
import { BACKENDS, initBackend, type BackendName } from '../../backend/index.js';
import { DEFAULT_PADDING, DicomDecodeError, huFrame, initCodecs, paddingMode, readDicomFile, type PaddingMode } from '../../dicom/index.js';
import { encodeNpy } from '../../util/npy.js';
import { applyWindow, compileWindow, sliceMeta, windowProblem, type WindowPlan } from '../../windowing/index.js';
import { windowConfigFromCli } from '../../windowing/cli_params.js';
import { parseOffsets, windowSeriesWithContext } from '../../context/index.js';

export interface WindowCliOptions {
  strategy: string;
  param?: string[];
  backend: string;
  out: string;
  padding: string;
  /** Slice context offsets, e.g. `-1,0,1` (src/context). */
  context?: string;
  contextUnit?: string;
  edge?: string;
}

/** Windows one decoded file: [H,W,C] float32 data, or a reason. */
export async function windowFile(plan: WindowPlan, file: string, padding: PaddingMode): Promise<{ data: Float32Array; shape: [number, number, number] } | { reason: string }> {
  let img;
  try {
    img = await readDicomFile(file, { frame: 0 });
  } catch (e) {
    return { reason: e instanceof DicomDecodeError ? e.reason : (e as Error).message };
  }
  const meta = sliceMeta(img, 0);
  const problem = windowProblem(plan, meta);
  if (problem) return { reason: problem };
  let hu: Float32Array;
  try {
    hu = huFrame(img, 0, { padding });
  } catch (e) {
    return { reason: e instanceof DicomDecodeError ? e.reason : (e as Error).message };
  }
  const out = tf.tidy(() => applyWindow(plan, tf.tensor3d(hu, [1, img.rows, img.cols]), [meta]));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return { data, shape: [img.rows, img.cols, plan.channels.length] };
}

export async function windowFiles(files: string[], opts: WindowCliOptions, log = console.log, logErr = console.error): Promise<{ ok: number; failed: number }> {
  const padding = paddingMode(opts.padding);
  if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new Error(`--backend: expected one of ${BACKENDS.join(' | ')}, got '${opts.backend}'`);
  const plan = compileWindow(windowConfigFromCli(opts.strategy, opts.param));
  const info = await initBackend(opts.backend as BackendName, logErr);
  log(`backend: ${info.name} (${info.reason}); strategy ${plan.name} → channels [${plan.channels.join(', ')}]`);
  await mkdir(opts.out, { recursive: true });
  await initCodecs();
  let ok = 0;
  let failed = 0;
  const stems = outputStems(files);
  for (const [i, file] of files.entries()) {
    const r = await windowFile(plan, file, padding);
    if ('reason' in r) {
      failed++;
      logErr(`FAIL ${file}: ${r.reason}`);
      continue;
    }
    const dest = join(opts.out, `${stems[i]}.npy`);
    await writeFile(dest, encodeNpy(r.data, r.shape));
    ok++;
    log(`ok   ${file} → ${dest} [${r.shape.join(',')}]`);
  }
  log(`windowed ${ok} of ${files.length} file(s)${failed ? `, ${failed} failed` : ''}`);
  return { ok, failed };
}

/**
 * `--context -1,0,1`: inputs (files or series folders) ordered per series along the slice
 * normal; one `.npy` per centre slice, `[H,W,offsets × channels]` (see docs/context.md).
 */
export async function windowContextFiles(inputs: string[], opts: WindowCliOptions, log = console.log, logErr = console.error): Promise<{ ok: number; failed: number }> {
  const padding = paddingMode(opts.padding);
  if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new Error(`--backend: expected one of ${BACKENDS.join(' | ')}, got '${opts.backend}'`);
  const plan = compileWindow({ ...windowConfigFromCli(opts.strategy, opts.param), repeat: false });
  const info = await initBackend(opts.backend as BackendName, logErr);
  log(`backend: ${info.name} (${info.reason}); strategy ${plan.name} → window channels [${plan.channels.join(', ')}] per offset`);
  await initCodecs();
  return windowSeriesWithContext(inputs, {
    offsets: parseOffsets(opts.context ?? ''),
    unit: opts.contextUnit as 'slices' | 'mm',
    edge: opts.edge as 'replicate' | 'zero',
    out: opts.out,
    channels: plan.channels,
    windowOne: (f) => windowFile(plan, f, padding),
    log,
    logErr,
  });
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('window')
    .description('Window DICOM files with one strategy; writes <out>/<basename>.npy, float32 [H,W,C] in [0,1]')
    .argument('<files...>', 'DICOM files (with --context: files or series folders)')
    .requiredOption('-s, --strategy <name>', 'strategy: none, lung, metadata, all-channels, gradient, multi-window, exclusive, gradient-ensemble, sigmoid, sigmoid-ensemble, sigmoid-gradient-ensemble, channelwise')
    .option('-p, --param <key=value>', "strategy parameter (YAML value), repeatable: windows, weights, U, eps, floor, order, truncate; also repeat, fallback", collect, [])
    .option('-b, --backend <name>', `tfjs backend: ${BACKENDS.join(' | ')}`, 'cpu')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--padding <mode>', "PixelPaddingValue handling: 'air' (−1000 HU, as `run`) or 'keep' (as stored, the seed)", DEFAULT_PADDING)
    .option('--context <offsets>', 'slice context: neighbour offsets along the slice normal, e.g. -1,0,1; one .npy per centre slice [H,W,offsets × channels]')
    .option('--context-unit <unit>', "context offsets in 'slices' or 'mm' (nearest slice)", 'slices')
    .option('--edge <rule>', "context at series ends and gaps: 'replicate' or 'zero'", 'replicate')
    .action(async (files: string[], opts: WindowCliOptions) => {
      const { ok } = opts.context !== undefined ? await windowContextFiles(files, opts) : await windowFiles(files, opts);
      if (ok === 0) process.exitCode = 1;
    });
}
