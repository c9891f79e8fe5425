/**
 * The counting pass: one read of the CSV (no DICOM) that counts, per split, the rows of each
 * class the run will see — what undersampling needs to keep rows uniformly (Algorithm S, see
 * src/sampling/balance.ts), and what makes progress a fraction of the slices to be written.
 *
 * @example
 *   const counts = await countSource(sourceOpts, ['train', 'val']);
 *   counts.splits.train.positives // rows labelled 1 in the train split
 */
import type { Split } from '../types.js';
import { readSource, type SourceOptions } from './csv.js';

export interface SplitCounts {
  positives: number;
  negatives: number;
  /** Exams: runs of consecutive rows of one StudyInstanceUID (the RSNA CSV lists an exam's rows together; counted without holding UIDs in memory). */
  exams: number;
}

export interface SourceCounts {
  /** Data rows read (after filter and partition), quarantined CSV rows included. */
  rows: number;
  /** Rows the CSV stage quarantined (bad label, bad UID, malformed line). */
  quarantined: number;
  splits: Record<Split, SplitCounts>;
}

/**
 * Counts the rows of each split and class. `splits` are the splits the run writes: rows of a
 * split it does not write (val with `split.val: 0`) count as train, as the run treats them.
 */
export async function countSource(opts: SourceOptions, splits: Split[]): Promise<SourceCounts> {
  const out: SourceCounts = { rows: 0, quarantined: 0, splits: { train: { positives: 0, negatives: 0, exams: 0 }, val: { positives: 0, negatives: 0, exams: 0 } } };
  const last = { train: '', val: '' };
  for await (const item of readSource({ ...opts, progress: undefined })) {
    out.rows++;
    if (item.kind === 'quarantine') {
      out.quarantined++;
      continue;
    }
    const split = splits.includes(item.ref.split) ? item.ref.split : 'train';
    const c = out.splits[split];
    if (item.ref.label === 1) c.positives++;
    else c.negatives++;
    if (last[split] !== item.ref.study) c.exams++;
    last[split] = item.ref.study;
  }
  return out;
}
