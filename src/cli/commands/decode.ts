/**
 * `ctwindow decode <file.dcm…> --out <dir> [--frame n | --all-frames] [--padding air|keep]`
 *
 * Writes `<dir>/<basename>.npy` (float32 HU, [H,W]) per input; a failing file prints its
 * reason and the others go on. Exit status is non-zero only when nothing decoded.
 *
 * @example ctwindow decode a.dcm b.dcm --out /tmp/hu
 */
import type { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outputStems } from '../outputs.js';
import { DEFAULT_PADDING, DicomDecodeError, huFrame, initCodecs, paddingMode, readDicomFile } from '../../dicom/index.js';
import { encodeNpy } from '../../util/npy.js';

interface DecodeCliOptions {
  out: string;
  frame: string;
  allFrames?: boolean;
  padding: string;
}

export async function decodeFiles(files: string[], opts: DecodeCliOptions, log = console.log, logErr = console.error): Promise<{ ok: number; failed: number }> {
  const padding = paddingMode(opts.padding);
  const frame = Number(opts.frame);
  if (!Number.isInteger(frame) || frame < 0) throw new Error(`--frame: expected a non-negative integer, got '${opts.frame}'`);
  await mkdir(opts.out, { recursive: true });
  await initCodecs();
  let ok = 0;
  let failed = 0;
  const stems = outputStems(files);
  for (const [i, file] of files.entries()) {
    try {
      const img = await readDicomFile(file, opts.allFrames ? {} : { frame });
      const stem = stems[i];
      const written: string[] = [];
      for (let f = 0; f < img.frames; f++) {
        const hu = huFrame(img, f, { padding });
        const name = opts.allFrames && img.frames > 1 ? `${stem}.f${String(f).padStart(4, '0')}.npy` : `${stem}.npy`;
        await writeFile(join(opts.out, name), encodeNpy(hu, [img.rows, img.cols]));
        written.push(name);
      }
      ok++;
      log(`ok   ${file} → ${written.length === 1 ? join(opts.out, written[0]) : `${written.length} files in ${opts.out}`} (${img.rows}×${img.cols}, ${img.transferSyntax})`);
    } catch (e) {
      failed++;
      const reason = e instanceof DicomDecodeError ? e.reason : (e as Error).message;
      logErr(`FAIL ${file}: ${reason}`);
    }
  }
  log(`decoded ${ok} of ${files.length} file(s)${failed ? `, ${failed} failed` : ''}`);
  return { ok, failed };
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('Decode DICOM files to float32 HU .npy arrays ([H,W], first frame unless told otherwise)')
    .argument('<files...>', 'DICOM files')
    .requiredOption('-o, --out <dir>', 'output folder for <basename>.npy')
    .option('--frame <n>', 'frame to write for multi-frame files (0-based)', '0')
    .option('--all-frames', 'write every frame as <basename>.fNNNN.npy')
    .option('--padding <mode>', "PixelPaddingValue handling: 'air' (−1000 HU) or 'keep'", DEFAULT_PADDING)
    .action(async (files: string[], opts: DecodeCliOptions) => {
      const { ok } = await decodeFiles(files, opts);
      if (ok === 0) process.exitCode = 1;
    });
}
