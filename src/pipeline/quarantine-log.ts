/**
 * The run's quarantine, streamed: every input set aside is one JSON line of
 * `<output>/quarantine.jsonl`, in the order the run met it (CSV rows as they are read, slices as
 * their batches settle — a fixed order, so the same config and seed give the same file, byte for
 * byte, resumed or not). Memory stays bounded whatever the count: the manifest keeps counts by
 * stage and by reason (in words, quarantine.ts) and the first EXAMPLES records by CSV line.
 *
 * Crash safety: the log is written under a temporary name and takes its final name at the
 * first shard commit (made durable before the shard's index); from then on it is fsynced before
 * every commit, so it always covers the committed records. A resumed run reads the previous log
 * (the failures to replay without decoding), then writes the log again from the start; the old
 * one stays until the resumed run commits its first shard.
 *
 * @example
 *   const replay = resume ? readQuarantineReplay(out) : new Map();
 *   const log = new QuarantineLog(out);
 *   log.add({ stage: 'decode', reason: 'file not found: a.dcm', row: 7, path: 'a.dcm' });
 *   await log.sync();                 // before a shard commit
 *   const summary = log.finish();     // counts, reasons, examples; quarantine.jsonl complete
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Quarantine } from '../types.js';
import { tmpPathFor } from '../shards/atomic.js';
import { exampleOf, reasonKind, type QuarantineGroup } from './quarantine.js';

export const QUARANTINE_FILE = 'quarantine.jsonl';
/** Records listed in manifest.json itself (the first by CSV line); the log has them all. */
export const EXAMPLES = 100;
/** Distinct reasons (in words) counted one by one; beyond, they are counted as "other reasons". */
const MAX_REASONS = 1000;
const FLUSH_BYTES = 1 << 20;

export interface QuarantineSummary {
  file: string;
  /** Inputs quarantined (each CSV row once, however often an oversampled row failed). */
  count: number;
  byStage: Record<string, number>;
  byReason: QuarantineGroup[];
  /** How many of them manifest.json lists in `quarantined`. */
  listed: number;
}

const byRow = (a: Quarantine, b: Quarantine) =>
  (a.row ?? Infinity) - (b.row ?? Infinity) || (a.path ?? '').localeCompare(b.path ?? '') || a.reason.localeCompare(b.reason);

export class QuarantineLog {
  /** Inputs logged (distinct rows). */
  count = 0;
  /** Failures of a row already logged (an oversampled row's repeats): not logged again. */
  duplicates = 0;
  private readonly byStage: Record<string, number> = {};
  private readonly groups = new Map<string, QuarantineGroup>();
  private other = 0;
  private examples: Quarantine[] = [];
  private seen = new Uint8Array(1 << 12); // one bit per CSV line
  private buf: string[] = [];
  private bufBytes = 0;
  private fd: number;
  private final = false;
  private readonly path: string;
  private readonly tmp: string;

  constructor(dir: string) {
    this.path = join(dir, QUARANTINE_FILE);
    this.tmp = tmpPathFor(this.path);
    this.fd = openSync(this.tmp, 'w');
  }

  add(q: Quarantine): void {
    if (q.row !== undefined && Number.isInteger(q.row) && q.row >= 0) {
      const byte = q.row >> 3;
      if (byte >= this.seen.length) {
        const grown = new Uint8Array(Math.max(byte + 1, this.seen.length * 2));
        grown.set(this.seen);
        this.seen = grown;
      }
      const bit = 1 << (q.row & 7);
      if (this.seen[byte] & bit) {
        this.duplicates++;
        return;
      }
      this.seen[byte] |= bit;
    }
    this.count++;
    this.byStage[q.stage] = (this.byStage[q.stage] ?? 0) + 1;
    const reason = reasonKind(q);
    const g = this.groups.get(reason);
    if (g) g.count++;
    else if (this.groups.size < MAX_REASONS) this.groups.set(reason, { reason, count: 1, example: exampleOf(q) });
    else this.other++;
    // The first EXAMPLES by CSV line: a sorted list, cut when it doubles (bounded, deterministic).
    this.examples.push(q);
    if (this.examples.length >= 2 * EXAMPLES) this.examples = this.examples.sort(byRow).slice(0, EXAMPLES);
    const line = JSON.stringify(q) + '\n';
    this.buf.push(line);
    this.bufBytes += line.length;
    if (this.bufBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (!this.buf.length) return;
    const data = Buffer.from(this.buf.join(''), 'utf8');
    this.buf = [];
    this.bufBytes = 0;
    for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off, data.length - off);
  }

  /** Makes every record so far durable (before a shard commit); the log takes its final name the first time. */
  async sync(): Promise<void> {
    this.flush();
    fsyncSync(this.fd);
    if (!this.final) {
      renameSync(this.tmp, this.path);
      this.final = true;
    }
  }

  /** On an interrupted run: what was logged reaches the file (a resume reads it). */
  abandon(): void {
    this.flush();
    closeSync(this.fd);
  }

  /** Completes the log; the summary for the manifest and the examples it lists. */
  async finish(): Promise<{ summary: QuarantineSummary; examples: Quarantine[] }> {
    await this.sync();
    closeSync(this.fd);
    const byReason = [...this.groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    if (this.other) byReason.push({ reason: 'other reasons', count: this.other, example: '' });
    const examples = this.examples.sort(byRow).slice(0, EXAMPLES);
    return { summary: { file: QUARANTINE_FILE, count: this.count, byStage: { ...this.byStage }, byReason, listed: examples.length }, examples };
  }
}

/**
 * The failures of the run being resumed in `dir`, by `<row>:<sop>` (from its log), to replay
 * without decoding; empty when the folder has no log yet.
 */
export function readQuarantineReplay(dir: string): Map<string, Quarantine> {
  const replay = new Map<string, Quarantine>();
  const path = join(dir, QUARANTINE_FILE);
  if (!existsSync(path)) return replay;
  // Line by line from one buffer: a resume may replay many failures, never the images.
  const text = readFileSync(path, 'utf8');
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (!line) continue;
    let q: Quarantine;
    try {
      q = JSON.parse(line);
    } catch {
      break; // a torn last line: everything the committed shards need came before it
    }
    if (q && q.sop !== undefined) replay.set(`${q.row}:${q.sop}`, q);
  }
  return replay;
}
