/**
 * Quarantine records grouped by reason, in words, for summaries: the file names, line numbers,
 * quoted values and numbers that make each record's reason unique are taken out, so that
 * 30 missing files read as one line "file not found: 30, e.g. <the first one>".
 *
 * @example
 *   groupQuarantine(manifest.quarantined) // [{ reason: 'file not found', count: 30, example: '/data/…/1.dcm' }, …]
 */
import type { Quarantine } from '../types.js';

export interface QuarantineGroup {
  reason: string;
  count: number;
  /** The first record's file, or its CSV line. */
  example: string;
}

/** The reason of `q` without what makes it unique (path prefix, CSV file and line, values, numbers). */
export function reasonKind(q: Quarantine): string {
  let r = q.reason;
  if (q.path && r.startsWith(`${q.path}: `)) r = r.slice(q.path.length + 2);
  if (q.path) r = r.split(q.path).join('<file>');
  r = r.replace(/^[^:]*\.csv: line \d+: /, 'CSV row: ');
  r = r.replace(/"(?:[^"\\]|\\.)*"/g, '…').replace(/\d+(\.\d+)?/g, 'N');
  return r.replace(/:\s*<file>$/, '').trim();
}

/** How a group's first record is shown: its file, or its CSV line. */
export function exampleOf(q: Quarantine): string {
  return q.path ?? (q.row !== undefined ? `CSV line ${q.row}` : q.reason);
}

export function groupQuarantine(qs: Quarantine[]): QuarantineGroup[] {
  const groups = new Map<string, QuarantineGroup>();
  for (const q of qs) {
    const reason = reasonKind(q);
    const g = groups.get(reason);
    if (g) g.count++;
    else groups.set(reason, { reason, count: 1, example: exampleOf(q) });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}
