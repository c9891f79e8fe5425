/**
 * The slice processor's contracts and the helpers every implementation shares, without tfjs:
 * the fast path's worker threads load this, not processor.ts (tfjs alone costs each thread
 * ~0.2 s of start-up).
 *
 * @example
 *   return fail(ref, 'read', `file not found: ${ref.path}`);
 */
import type { OutputDType, Quarantine, SliceRef } from '../types.js';
import type { SliceWindowMeta, WindowPlan } from '../windowing/plan.js';
import { InputFileError, MAX_INPUT_BYTES, readRegularFileSync } from '../dicom/read-file.js';
import { isS3Url, s3GetUrl, type S3Error } from '../storage/s3.js';

export interface SliceOk { ok: true; ref: SliceRef; bytes: Uint8Array }
export interface SliceFail { ok: false; ref: SliceRef; quarantine: Quarantine }
export type SliceResult = SliceOk | SliceFail;

export interface ProcessorOptions {
  plan: WindowPlan;
  /** Output [height, width]. */
  size: [number, number];
  dtype: OutputDType;
  padding: 'air' | 'keep';
}

export interface BatchProcessor {
  /** Results in the order of `refs`. */
  process(refs: SliceRef[]): Promise<SliceResult[]>;
  /**
   * Optional: the caller is done with these output bytes (their record is written) and keeps
   * no reference to them; the processor may reuse their memory (the views become unusable).
   */
  release?(bytes: Uint8Array[]): void;
  close(): Promise<void>;
}

/**
 * A slice's file bytes (into `alloc`'s buffer when given), or its quarantine: not found,
 * unreadable, not a regular file, too large — the same words on every path.
 */
export function readSliceBytes(ref: SliceRef, alloc?: (size: number) => Uint8Array): Uint8Array | SliceFail {
  try {
    return readRegularFileSync(ref.path, alloc);
  } catch (e) {
    return fail(ref, 'read', e instanceof InputFileError ? e.message : `cannot read: ${ref.path}: ${(e as Error).message}`);
  }
}

export function fail(ref: SliceRef, stage: Quarantine['stage'], reason: string): SliceFail {
  return { ok: false, ref, quarantine: { stage, reason, row: ref.row, path: ref.path, sop: ref.sop, study: ref.study } };
}


export interface DecodedSlice { ref: SliceRef; rows: number; cols: number; hu: Float32Array; meta: SliceWindowMeta }

/**
 * The bytes of the refs that live in object storage (s3://), fetched concurrently (the chunk's
 * GETs overlap each other and the decoding of the chunk before): bytes, or the quarantine of a
 * missing or oversized object in the words a local file gets. Access and server errors that
 * outlast the retries throw: they stop the run. Local refs: undefined (read as before).
 */
export async function fetchRemoteSlices(refs: SliceRef[]): Promise<(Uint8Array | SliceFail | undefined)[]> {
  if (!refs.some((r) => isS3Url(r.path))) return refs.map(() => undefined);
  return Promise.all(
    refs.map(async (r) => {
      if (!isS3Url(r.path)) return undefined;
      try {
        const b = await s3GetUrl(r.path, MAX_INPUT_BYTES);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        const err = e as S3Error;
        if (err.code === 'ENOENT') return fail(r, 'read', `file not found: ${r.path}`);
        if (err.code === 'EFBIG') return fail(r, 'read', `${err.reason}: ${r.path}`);
        throw e;
      }
    }),
  );
}
