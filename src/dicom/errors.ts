/**
 * The one error type the DICOM stage throws. `reason` is a short, stable, human-readable
 * cause (used to group files in `ctwindow probe`); `message` adds the file when known.
 *
 * @example
 *   try { await readDicomFile('x.dcm'); }
 *   catch (e) { if (e instanceof DicomDecodeError) console.log(e.reason); }
 */
export class DicomDecodeError extends Error {
  /** Short cause without the file name, e.g. "no Pixel Data (7FE0,0010)". */
  readonly reason: string;
  /** Path of the file, when known. */
  readonly file?: string;
  /** Reason category for summaries, e.g. "truncated", "unsupported-syntax". */
  readonly kind: string;

  constructor(reason: string, opts: { file?: string; kind?: string; cause?: unknown } = {}) {
    super(opts.file ? `${opts.file}: ${reason}` : reason, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DicomDecodeError';
    this.reason = reason;
    this.file = opts.file;
    this.kind = opts.kind ?? 'invalid';
  }

  /** Same error, now naming `file`. */
  withFile(file: string): DicomDecodeError {
    if (this.file) return this;
    return new DicomDecodeError(this.reason, { file, kind: this.kind, cause: this.cause });
  }
}

/** Wraps anything thrown (dicom-parser throws strings, codecs throw numbers/strings) into a DicomDecodeError. */
export function asDecodeError(e: unknown, context: string, kind = 'invalid'): DicomDecodeError {
  if (e instanceof DicomDecodeError) return e;
  const msg = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  return new DicomDecodeError(`${context}: ${msg}`, { kind, cause: e });
}
