/**
 * Header-only reads for ordering a series: reads the first 64 KiB of each file and parses up
 * to Pixel Data (`readDicomHeader`); only a header longer than that reads the whole file.
 * A 1,000-slice series costs ~64 MiB of reads, not its ~500 MiB of pixels.
 *
 * @example
 *   const g = await readSliceGeometry('a/b/c.dcm');   // SliceGeometry, or { path, error }
 *   const all = await readGeometries(paths, 8);
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readDicomHeader } from '../dicom/index.js';
import type { SliceGeometry } from './order.js';

const HEAD_BYTES = 64 * 1024;

export type GeometryResult = SliceGeometry | { path: string; error: string };

async function readBytes(path: string, max?: number): Promise<{ bytes: Uint8Array; size: number }> {
  // Non-blocking open and fstat (as dicom/read-file.ts): a FIFO or a device is refused, not waited on.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    const { size } = st;
    const n = max === undefined ? size : Math.min(size, max);
    const bytes = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const { bytesRead } = await fh.read(bytes, off, n - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { bytes: off === n ? bytes : bytes.subarray(0, off), size };
  } finally {
    await fh.close();
  }
}

/** Geometry of one file from its header, or the reason it could not be read. */
export async function readSliceGeometry(path: string): Promise<GeometryResult> {
  try {
    let { bytes, size } = await readBytes(path, HEAD_BYTES);
    let h;
    try {
      h = readDicomHeader(bytes);
      if (!h.hasPixelData && size > bytes.length) h = undefined;
    } catch (e) {
      if (size <= bytes.length) throw e;
    }
    if (!h) {
      ({ bytes } = await readBytes(path));
      h = readDicomHeader(bytes);
    }
    const g: SliceGeometry = { path };
    if (h.sopInstanceUID) g.sop = h.sopInstanceUID;
    if (h.seriesInstanceUID) g.series = h.seriesInstanceUID;
    if (h.instanceNumber !== undefined) g.instanceNumber = h.instanceNumber;
    if (h.sliceLocation !== undefined) g.sliceLocation = h.sliceLocation;
    if (h.imagePositionPatient) g.imagePositionPatient = h.imagePositionPatient;
    if (h.imageOrientationPatient) g.imageOrientationPatient = h.imageOrientationPatient;
    return g;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { reason?: string };
    return { path, error: err.code === 'ENOENT' ? 'file not found' : (err.reason ?? err.code ?? err.message) };
  }
}

/** Reads many headers, `concurrency` at a time; results in the order of `paths`. */
export async function readGeometries(paths: string[], concurrency = 8): Promise<GeometryResult[]> {
  const out: GeometryResult[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await readSliceGeometry(paths[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}

/** The regular files of a folder (not hidden), sorted by name; [] with the reason when unreadable. */
export async function listSeriesFolder(dir: string): Promise<{ files: string[]; error?: string }> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return { files: entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => join(dir, e.name)).sort() };
  } catch (e) {
    return { files: [], error: `cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}
