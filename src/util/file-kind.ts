/**
 * What a non-regular file is, in words for error messages: the one wording of the input reader
 * (dicom/read-file.ts) and the dataset-folder reader (shards/folder.ts).
 *
 * @example
 *   if (!st.isFile()) throw new Error(`${path}: ${fileKind(st)}, not a regular file`);  // "a FIFO (named pipe), not a regular file"
 */
import type { Stats } from 'node:fs';

export function fileKind(st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
