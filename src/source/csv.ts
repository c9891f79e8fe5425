/**
 * Source stage: stream `train.csv` (RSNA layout) with csv-parse, never whole in memory, and
 * join each row to `<dicomRoot>/<Study>/<Series>/<SOP>.dcm`. Bad rows become quarantine
 * records naming the line and the column; nothing is silently dropped.
 *
 * @example
 *   for await (const item of readSource(opts)) {
 *     if (item.kind === 'ref') use(item.ref); else report(item.quarantine);
 *   }
 */
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { isS3Url, s3Stream } from '../storage/s3.js';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import _ from 'highland';
import type { Quarantine, SliceRef } from '../types.js';
import { partitionOf, splitOf } from './hash.js';


/** The CSV as a byte stream: a local file, or an s3:// object (one GET, streamed). */
function openCsv(csv: string): Readable {
  if (!isS3Url(csv)) return createReadStream(csv);
  const out = new PassThrough();
  s3Stream(csv).then(
    (body) => body.on('error', (e) => out.destroy(e)).pipe(out),
    (e: Error & { code?: string }) => out.destroy(Object.assign(new Error(e.message), { code: e.code })),
  );
  return out;
}

export interface SourceOptions {
  csv: string;
  dicomRoot: string;
  label: string;
  columns: { study: string; series: string; sop: string };
  filter?: Record<string, string | number | (string | number)[]>;
  limit?: number;
  seed: number;
  valFraction: number;
  /** Cluster partition: only exams hashing to `index` of `count`. */
  partition?: { index: number; count: number };
  /** Updated with the bytes of the CSV consumed so far (for progress and ETA). */
  progress?: { bytes: number };
}

export type SourceItem = { kind: 'ref'; ref: SliceRef } | { kind: 'quarantine'; quarantine: Quarantine };

/** Thrown before any work when the CSV cannot be used at all (missing file, missing column). */
export class SourceError extends Error {}

/** UIDs become path components: refuse anything that could leave dicomRoot. */
const UID_RE = /^[0-9A-Za-z._-]+$/;

/** Reads the header line; throws SourceError naming the file and the missing columns. */
export async function checkCsvHeader(opts: SourceOptions): Promise<string[]> {
  const header = await new Promise<string[]>((resolveHeader, reject) => {
    const stream = openCsv(opts.csv);
    const parser = parse({ to_line: 1, bom: true, trim: true, record_delimiter: ['\r\n', '\n', '\r'] });
    let got: string[] | undefined;
    stream.on('error', (e: NodeJS.ErrnoException) => reject(new SourceError(isS3Url(opts.csv) ? `source.csv: ${e.message}` : `${opts.csv}: cannot read the CSV (${e.code ?? e.message})`)));
    parser.on('data', (row: string[]) => (got ??= row));
    parser.on('error', (e) => reject(new SourceError(`${opts.csv}: line 1: ${e.message}`)));
    parser.on('end', () => resolveHeader(got ?? []));
    stream.pipe(parser);
  });
  if (header.length === 0) throw new SourceError(`${opts.csv}: empty file (expected a header line)`);
  const need = [opts.columns.study, opts.columns.series, opts.columns.sop, opts.label, ...Object.keys(opts.filter ?? {})];
  const missing = need.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new SourceError(`${opts.csv}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header has: ${header.join(', ')})`);
  }
  return header;
}

function matchesFilter(record: Record<string, string>, filter: SourceOptions['filter']): boolean {
  if (!filter) return true;
  for (const [col, want] of Object.entries(filter)) {
    const wants = (Array.isArray(want) ? want : [want]).map(String);
    if (!wants.includes(record[col])) return false;
  }
  return true;
}

/**
 * A label cell as 0 or 1: `0`/`1`, the same as decimals (`0.0`, `1.00` — pandas writes floats
 * when a column had a NaN), or `true`/`false` in any case; undefined for anything else.
 * @example parseLabel('1.0') // 1
 */
export function parseLabel(v: string): 0 | 1 | undefined {
  if (/^[+-]?0+(\.0*)?$/.test(v) || /^false$/i.test(v)) return 0;
  if (/^\+?0*1(\.0*)?$/.test(v) || /^true$/i.test(v)) return 1;
  return undefined;
}

/** Turns one parsed row into a SliceRef or a quarantine record (or null when filtered out). */
export function rowToItem(record: Record<string, string | undefined>, line: number, opts: SourceOptions): SourceItem | null {
  const { study: cs, series: ce, sop: co } = opts.columns;
  const q = (reason: string): SourceItem => ({
    kind: 'quarantine',
    quarantine: { stage: 'csv', row: line, reason: `${opts.csv.split('/').pop()}: line ${line}: ${reason}`, sop: record[co] || undefined, study: record[cs] || undefined },
  });
  for (const col of [cs, ce, co, opts.label]) {
    const v = record[col];
    if (v === undefined || v === '') return q(`missing ${col}`);
  }
  const study = record[cs]!, series = record[ce]!, sop = record[co]!;
  for (const [col, v] of [[cs, study], [ce, series], [co, sop]] as const) {
    if (!UID_RE.test(v) || v === '.' || v === '..') return q(`${col} ${JSON.stringify(v)} is not a valid UID`);
  }
  const label = parseLabel(record[opts.label]!);
  if (label === undefined) return q(`${opts.label} must be 0 or 1 (also 0.0/1.0, true/false), got ${JSON.stringify(record[opts.label])}`);
  if (!matchesFilter(record as Record<string, string>, opts.filter)) return null;
  if (opts.partition && partitionOf(study, opts.partition.count) !== opts.partition.index) return null;
  return {
    kind: 'ref',
    ref: {
      study,
      series,
      sop,
      label,
      path: isS3Url(opts.dicomRoot) ? `${opts.dicomRoot.replace(/\/+$/, '')}/${study}/${series}/${sop}.dcm` : join(opts.dicomRoot, study, series, `${sop}.dcm`),
      row: line,
      split: splitOf(study, opts.seed, opts.valFraction),
    },
  };
}

/**
 * Streams source items in CSV order. Backpressure: the file is read only as fast as the
 * consumer pulls. Malformed CSV lines (bad quoting, …) are quarantined and the stream goes on.
 */
export function readSource(opts: SourceOptions): AsyncIterable<SourceItem> {
  const parser = parse({
    columns: true,
    info: true,
    bom: true,
    trim: true,
    // Any mix of line endings (a CSV edited on two systems): every row is a row. csv-parse
    // otherwise settles on the first ending it meets and folds the other rows into fields.
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
  });
  const pending: SourceItem[] = [];
  parser.on('skip', (err: Error & { lines?: number }) => {
    pending.push({ kind: 'quarantine', quarantine: { stage: 'csv', row: err.lines, reason: `${opts.csv.split('/').pop()}: line ${err.lines ?? '?'}: ${err.message}` } });
  });
  const file = openCsv(opts.csv);
  file.on('error', (e) => parser.destroy(e));
  file.pipe(parser);
  let refs = 0;
  const stream = _<{ record: Record<string, string>; info: { lines: number } }>(parser).consume<SourceItem>((err, x, push, next) => {
    if (err) {
      push(new SourceError(`${opts.csv}: ${err.message}`));
      next();
      return;
    }
    while (pending.length) push(null, pending.shift()!);
    if (x === _.nil || x === undefined) {
      push(null, _.nil);
      return;
    }
    const row = x as { record: Record<string, string>; info: { lines: number; bytes?: number } };
    if (opts.limit !== undefined && refs >= opts.limit) {
      parser.destroy();
      file.destroy();
      push(null, _.nil);
      return;
    }
    if (opts.progress) opts.progress.bytes = row.info.bytes ?? opts.progress.bytes;
    const item = rowToItem(row.record, row.info.lines, opts);
    if (item) {
      if (item.kind === 'ref') refs++;
      push(null, item);
    }
    next();
  });
  return stream.toNodeStream({ objectMode: true }) as unknown as AsyncIterable<SourceItem>;
}
