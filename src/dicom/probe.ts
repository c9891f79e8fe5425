/**
 * Per-file diagnosis for `ctwindow probe`: transfer syntax, size, frames, and whether the
 * file decodes (by decoding it) or the precise reason it does not.
 *
 * @example
 *   const r = await probeFile('x.dcm');  // { decodable: false, reason: 'no Pixel Data (7FE0,0010)…', kind: 'no-pixel-data', … }
 */
import { stat } from 'node:fs/promises';
import { readInputFile, type InputFileError } from './read-file.js';
import { isS3Url } from '../storage/s3.js';
import { initCodecs } from './codecs/index.js';
import { decodeDicomSync } from './decode.js';
import { DicomDecodeError } from './errors.js';
import { readDicomHeader } from './header.js';
import { transferSyntax, UNSUPPORTED_SYNTAXES } from './syntax.js';
import { huProblem } from './hu.js';

export interface ProbeResult {
  file?: string;
  size: number;
  transferSyntax?: string;
  syntaxName?: string;
  rows?: number;
  cols?: number;
  frames?: number;
  modality?: string;
  headless?: boolean;
  decodable: boolean;
  /** Why not decodable. */
  reason?: string;
  /** Reason category (e.g. truncated, no-pixel-data, unsupported-syntax). */
  kind?: string;
  /** What decoding noticed and worked around (e.g. a codestream other than its label). */
  warnings?: string[];
}

/** Probes bytes; `initCodecs()` must have resolved. Never throws. */
export function probeDicom(bytes: Uint8Array, file?: string): ProbeResult {
  const r: ProbeResult = { size: bytes.length, decodable: false };
  if (file) r.file = file;
  try {
    const h = readDicomHeader(bytes);
    r.transferSyntax = h.transferSyntax;
    r.syntaxName = transferSyntax(h.transferSyntax)?.name ?? UNSUPPORTED_SYNTAXES[h.transferSyntax] ?? 'unknown';
    r.headless = h.headless;
    if (h.rows !== undefined) r.rows = h.rows;
    if (h.cols !== undefined) r.cols = h.cols;
    r.frames = h.frames;
    if (h.modality) r.modality = h.modality;
  } catch {
    /* the full decode below gives the reason */
  }
  try {
    const img = decodeDicomSync(bytes);
    r.rows = img.rows;
    r.cols = img.cols;
    r.frames = img.frames;
    if (img.warnings) r.warnings = img.warnings;
    // Decodable means what `decode` and `run` take: pixels that are Hounsfield units.
    const notHu = huProblem(img);
    if (notHu) {
      r.reason = notHu;
      r.kind = 'unsupported-pixels';
    } else r.decodable = true;
  } catch (e) {
    const err = e instanceof DicomDecodeError ? e : new DicomDecodeError(String(e), { kind: 'internal' });
    r.reason = err.reason;
    r.kind = err.kind;
  }
  return r;
}

export async function probeFile(path: string): Promise<ProbeResult> {
  await initCodecs();
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    const size = isS3Url(path) ? 0 : await stat(path).then((s) => s.size, () => 0);
    return { file: path, size, decodable: false, reason: (e as InputFileError).reason ?? (e as Error).message, kind: 'io' };
  }
  return probeDicom(bytes, path);
}
