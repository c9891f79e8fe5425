/**
 * `ctwindow probe <files or dirs…> [--json]`: per file its transfer syntax, size, frames,
 * decodable or the precise reason; then counts by syntax and by reason.
 *
 * @example ctwindow probe /data/dicom --json > probe.json
 */
import type { Command } from 'commander';
import { isS3Url, parseS3Url, s3List, s3UrlOf } from '../../storage/s3.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initCodecs, probeFile, type ProbeResult } from '../../dicom/index.js';

export interface ProbeSummary {
  total: number;
  decodable: number;
  failed: number;
  /** syntax label → { files, decodable } */
  bySyntax: Record<string, { files: number; decodable: number }>;
  /** reason kind → { files, example reason } */
  byReason: Record<string, { files: number; example: string }>;
}

/**
 * Files under the given paths (folders walked recursively, sorted for determinism). Anything
 * that is not a folder is listed, FIFOs and devices too, so that probing reports why it cannot
 * be read rather than leaving it out.
 */
export async function listFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    if (isS3Url(p)) {
      // An object, or a prefix: every object under it, sorted.
      if (p.endsWith('.dcm')) return void out.push(p);
      const loc = parseS3Url(p);
      const keys = (await s3List(loc)).map((o) => o.name).filter((n) => !n.split('/').some((part) => part.startsWith('.'))).sort();
      for (const k of keys) out.push(s3UrlOf(loc, k));
      return;
    }
    const s = await stat(p);
    if (s.isDirectory()) {
      const names = (await readdir(p)).sort();
      for (const n of names) if (!n.startsWith('.')) await walk(join(p, n));
    } else out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}

export function summarise(results: ProbeResult[]): ProbeSummary {
  const s: ProbeSummary = { total: results.length, decodable: 0, failed: 0, bySyntax: {}, byReason: {} };
  for (const r of results) {
    const syn = r.transferSyntax ? `${r.transferSyntax} (${r.syntaxName})` : 'unreadable';
    const b = (s.bySyntax[syn] ??= { files: 0, decodable: 0 });
    b.files++;
    if (r.decodable) {
      s.decodable++;
      b.decodable++;
    } else {
      s.failed++;
      const k = r.kind ?? 'unknown';
      (s.byReason[k] ??= { files: 0, example: r.reason ?? '' }).files++;
    }
  }
  return s;
}

export function formatProbe(results: ProbeResult[], s: ProbeSummary): string {
  const lines: string[] = [];
  for (const r of results) {
    const status = r.decodable ? (r.warnings?.length ? `ok (warning: ${r.warnings.join('; ')})` : 'ok') : `FAIL ${r.reason}`;
    const dims = r.rows ? `${r.rows}×${r.cols}×${r.frames ?? 1}` : '-';
    lines.push(`${r.file}\t${r.transferSyntax ?? '?'}\t${r.size} B\t${dims}\t${status}`);
  }
  lines.push('', `${s.total} file(s): ${s.decodable} decodable, ${s.failed} not`, 'by syntax:');
  for (const [k, v] of Object.entries(s.bySyntax).sort()) lines.push(`  ${String(v.files).padStart(5)}  ${k}${v.decodable !== v.files ? `  (${v.decodable} decodable)` : ''}`);
  if (s.failed) {
    lines.push('by reason:');
    for (const [k, v] of Object.entries(s.byReason).sort((a, b) => b[1].files - a[1].files)) lines.push(`  ${String(v.files).padStart(5)}  ${k}: e.g. ${v.example}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('probe')
    .description('Report transfer syntax, size, frames and decodability (or the reason) for DICOM files or folders')
    .argument('<paths...>', 'files or folders (walked recursively)')
    .option('--json', 'print JSON { files, summary }')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const files = await listFiles(paths);
      if (files.length === 0) throw new Error(`probe: no files under ${paths.join(', ')}`);
      await initCodecs();
      const results: ProbeResult[] = [];
      for (const f of files) results.push(await probeFile(f));
      const summary = summarise(results);
      console.log(opts.json ? JSON.stringify({ files: results, summary }, null, 2) : formatProbe(results, summary));
    });
}
