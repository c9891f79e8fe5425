/**
 * `ctwindow run`: YAML → train.csv ⨝ DICOM → windowing → balanced batches → shards.
 *
 * The stream, end to end, with backpressure at every step (the CSV is read only as fast as
 * batches are written):
 *
 *   readSource (csv-parse, highland) ─► per-split Balancer (refs only, nothing decoded yet)
 *     ─► BatchProcessor (read, decode, window, resize, encode; failures → quarantine +
 *        replacement of the same class) ─► ShardWriter (framed msgpack, atomic shards)
 *   ─► manifest.json (last)
 *
 * Resume: the sampler is a pure function of (CSV, config, seed), so a resumed run replays it
 * cheaply (CSV only) and skips the records already committed in complete shards, replaying
 * their decode failures from the notes stored with them; the result equals an uninterrupted
 * run's, byte for byte.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig, type LoadedConfig } from '../config/index.js';
import { checkCsvHeader, readSource, type SourceOptions } from '../source/index.js';
import { Balancer, type BalanceStats } from '../sampling/index.js';
import { assembleRecord } from '../batching/record.js';
import type { BatchProcessor, ProcessorOptions, SliceOk, SliceResult } from '../batching/slice.js';
import { compileWindow } from '../windowing/compile.js';
import { createFastProcessor, startFastWorkers } from '../fast/processor.js';
import {
  describeExistingOutput,
  openShardWriter,
  OutputFolderError,
  readManifest,
  summarizeSplit,
  writeManifest,
  FORMAT_VERSION,
  type Manifest,
  type ShardWriter,
} from '../shards/index.js';
import type { BackendInfo, Quarantine, SliceRef, Split } from '../types.js';

const require = createRequire(import.meta.url);
const VERSION: string = require('../../package.json').version;

export interface RunOptions {
  /** `dotted.key=value` overrides, values parsed as YAML. */
  overrides?: string[];
  /** Continue a killed run in the same output folder. */
  resume?: boolean;
  /** Cluster partition: process only exams hashing to `index` of `count`; output to `part-<i>-of-<N>/`. */
  partition?: { index: number; count: number };
  /** Progress callback, called after every batch. */
  onProgress?: (p: Progress) => void;
  /** One-line messages (backend choice, warnings). */
  log?: (line: string) => void;
  /** Replace the slice processor (worker pool, tests). */
  processor?: (opts: ProcessorOptions, config: LoadedConfig['config']) => Promise<BatchProcessor> | BatchProcessor;
}

export interface Progress {
  slices: number;
  records: number;
  quarantined: number;
  /** Fraction of the CSV consumed, 0..1. */
  fraction: number;
  elapsedMs: number;
}

export interface RunSummary {
  outDir: string;
  manifest: Manifest;
  backend: BackendInfo;
  elapsedMs: number;
  slicesWritten: number;
  /** Records skipped because a resumed run found them committed. */
  resumedRecords: number;
  alreadyComplete: boolean;
}

/** Thrown for problems found before any work is done (config, CSV header, output folder). */
export class RunError extends Error {}

interface SplitState {
  split: Split;
  balancer: Balancer;
  writer: ShardWriter;
  /** Index the next finished record takes (committed or new). */
  index: number;
  /** Batches started so far, less those in which nothing decoded (a tentative index). */
  started: number;
  /** Failed SOPs per committed record, to replay without decoding on resume. */
  replayFailures: Map<string, Quarantine>;
  notes: Quarantine[];
  /** Notes of batches in which nothing decoded: stored with the next record written. */
  carry?: Quarantine[];
}

export async function runPipeline(configPath: string, opts: RunOptions = {}): Promise<RunSummary> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const loaded = await loadConfig(configPath, opts.overrides ?? []);
  const { config, hash } = loaded;
  let outDir = config.output.dir;
  if (opts.partition) {
    const { index, count } = opts.partition;
    if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
      throw new RunError(`--partition: expected i/N with 0 ≤ i < N, got ${index}/${count}`);
    }
    outDir = join(outDir, `part-${index}-of-${count}`);
  }

  // Refuse to mix runs; a finished run with the same config is simply reported.
  const existing = await describeExistingOutput(outDir);
  if (existing) {
    let manifest: Manifest | undefined;
    try { manifest = await readManifest(outDir); } catch { /* incomplete */ }
    if (manifest && manifest.configHash === hash) {
      if (opts.resume) {
        return { outDir, manifest, backend: manifest.backend, elapsedMs: Date.now() - t0, slicesWritten: 0, resumedRecords: 0, alreadyComplete: true };
      }
    }
    if (!opts.resume) {
      throw new RunError(existing);
    }
    if (manifest && manifest.configHash !== hash) {
      throw new RunError(`${outDir}: holds a finished run of a different config (hash ${manifest.configHash.slice(0, 12)}…, this config ${hash.slice(0, 12)}…); --resume continues only the same config`);
    }
  }

  const sourceOpts: SourceOptions = {
    csv: config.source.csv,
    dicomRoot: config.source.dicomRoot,
    label: config.source.label,
    columns: config.source.columns,
    filter: config.source.filter,
    limit: config.source.limit,
    seed: config.seed,
    valFraction: config.split.val,
    partition: opts.partition,
  };
  await checkCsvHeader(sourceOpts);
  const { size: csvSize } = await stat(config.source.csv); // for progress; before any thread starts
  // Slice context (`context:`): neighbours as channels; its own plan, layout, source order and processor.
  // Modules that load tfjs (context, backends) are imported when needed: the fast path's
  // worker threads start first and boot while this thread loads tfjs.
  const context = config.context ? (await import('../context/index.js')).pipelineContext(config, log) : undefined;
  const plan = context?.plan ?? compileWindow(config.window);
  const channels = context?.channels ?? plan.channels;
  const procOpts: ProcessorOptions = { plan, size: config.resize as [number, number], dtype: config.output.dtype, padding: config.decode.padding };
  // cpu, or auto without a GPU (the usual outcome), ends on the fast path: start its threads now.
  const early = !opts.processor && (config.backend === 'cpu' || config.backend === 'auto') ? startFastWorkers(procOpts, config) : undefined;
  const cpuWithoutTfjs = config.backend === 'cpu' && !!early && !context;
  // One line says which backend and why (an auto fallback included); initBackend stays quiet here.
  let backend: BackendInfo;
  try {
    // `backend: cpu` on the fast path needs no tfjs on this thread: the workers window.
    backend = cpuWithoutTfjs
      ? { name: 'cpu', requested: 'cpu', reason: 'requested' }
      : await (await import('../backend/index.js')).initBackend(config.backend);
  } catch (e) {
    await early?.close();
    throw e;
  }
  log(`backend: ${backend.name} (${backend.reason})${backend.adapter?.description ? ` adapter: ${backend.adapter.description}` : ''}`);

  let inner: BatchProcessor;
  try {
    await mkdir(outDir, { recursive: true });
    // Default: the fast CPU path (lookup tables on worker threads, same bytes); `workers: 0` keeps it in-process.
    inner = opts.processor ? await opts.processor(procOpts, config) : await createFastProcessor(procOpts, config, { log, workers: early, backend: cpuWithoutTfjs ? 'cpu' : undefined });
  } catch (e) {
    await early?.close(); // threads left running would keep the process alive
    throw e;
  }
  // Slice context wraps the single-slice processor: each slice windowed once, cached, stacked.
  const processor = context ? context.processor(procOpts, inner) : inner;

  const splits: Split[] = config.split.val > 0 ? ['train', 'val'] : ['train'];
  const states = new Map<Split, SplitState>();
  try {
    for (const split of splits) {
      const writer = await openShardWriter({ dir: outDir, split, shardBytes: config.output.shardBytes, resume: !!opts.resume, io: config.output.io, sha256: config.output.sha256 });
      const balanced = config.balance.applyTo === 'all' || split === 'train';
      const replayFailures = new Map<string, Quarantine>();
      for (const q of writer.committedNotes) if (q.sop) replayFailures.set(`${q.row}:${q.sop}`, q);
      states.set(split, {
        split,
        writer,
        index: 0,
        started: 0,
        replayFailures,
        notes: [],
        balancer: new Balancer({
          mode: balanced ? config.balance.mode : 'none',
          positiveFraction: config.balance.positiveFraction,
          batchSize: config.batch.size,
          buffer: Math.max(config.balance.buffer, config.batch.size),
          seed: config.seed,
          stream: split,
        }),
      });
    }
  } catch (e) {
    await processor.close(); // worker threads left running would keep the process alive
    throw e instanceof OutputFolderError ? new RunError(`${outDir}: ${e.message}`) : e;
  }

  const csvQuarantine: Quarantine[] = [];
  let slicesWritten = 0, recordsWritten = 0, resumedRecords = 0, quarantinedNow = 0;
  const progressState = { bytes: 0 };

  // Batches flow through a short queue: batches k+1 and k+2 are being decoded and windowed
  // (worker threads) while batch k is finished and written here. Two, not one: writing a
  // record waits for the disk (O_DIRECT, ~25 MB a record), and with one batch ahead the
  // workers ran dry during that wait (5,040 CT slices: 5.9–6.3 s → 5.2–5.5 s; one more
  // batch of slices in memory). The sampler's operations keep one fixed order whatever the
  // timing (form k+2, then finish k, which may draw replacements), so the output does not
  // depend on timing, byte for byte, and a resumed run replays the same order.
  interface Job { st: SplitState; refs: SliceRef[]; results?: Promise<SliceResult[]> }
  const queue: Job[] = [];
  // Slice context keeps a sliding window of decoded neighbours: it gets batches one at a time.
  const lookahead = context ? 0 : 2;

  const start = (st: SplitState, refs: SliceRef[]) => {
    // Tentative: is this batch beyond what an interrupted run committed? (finish decides.)
    const live = st.started++ >= st.writer.committedRecords;
    const job: Job = { st, refs };
    if (live) {
      job.results = processor.process(refs);
      job.results.catch(() => {}); // surfaced when finish awaits it
    }
    queue.push(job);
  };

  // Records appended and not yet on disk: the one being written and the one queued behind it
  // (their slices stay in memory). Two in flight measured no faster than one (5,040 slices).
  const writes: Promise<void>[] = [];

  const finish = async ({ st, refs, results }: Job) => {
    const index = st.index;
    if (index < st.writer.committedRecords) {
      // Committed before a crash: replay its failures (and their replacements) without decoding.
      let pending = refs;
      let good = 0;
      while (pending.length) {
        const next: SliceRef[] = [];
        for (const r of pending) {
          if (st.replayFailures.has(`${r.row}:${r.sop}`)) {
            const rep = st.balancer.replacement(r.label);
            if (rep) next.push(rep);
          } else good++;
        }
        pending = next;
      }
      if (good === 0) st.started--; // as in the original run: an all-failed batch takes no index
      else {
        st.index++;
        resumedRecords++;
      }
      return;
    }
    const ok: SliceOk[] = [];
    const notes: Quarantine[] = [];
    let batch = await (results ?? processor.process(refs));
    while (batch.length) {
      const next: SliceRef[] = [];
      for (const r of batch) {
        if (r.ok) ok.push(r);
        else {
          notes.push(r.quarantine);
          const rep = st.balancer.replacement(r.ref.label);
          if (rep) next.push(rep);
        }
      }
      batch = next.length ? await processor.process(next) : [];
    }
    quarantinedNow += notes.length;
    st.notes.push(...notes);
    if (!ok.length) {
      // Nothing in this batch could be decoded: keep the numbering dense, carry the notes on.
      st.started--;
      st.carry = [...(st.carry ?? []), ...notes];
      return;
    }
    st.index++;
    const carried = st.carry ?? [];
    st.carry = undefined;
    const record = assembleRecord(ok, { size: config.resize as [number, number], channels, dtype: config.output.dtype, strategy: plan.name, split: st.split, index });
    if (context) record.extra = context.recordExtra(ok);
    // Laid out now, written behind the record before it: this thread goes on to the next batch
    // while the disk takes this one, and waits for the one before (see `writes`).
    const written = st.writer.append(record, [...carried, ...notes]).then(() => {
      // Written: the slice buffers can be reused (no-op for processors without release).
      processor.release?.(ok.map((s) => s.bytes));
      slicesWritten += ok.length;
      recordsWritten++;
      opts.onProgress?.({ slices: slicesWritten, records: recordsWritten, quarantined: quarantinedNow + csvQuarantine.length, fraction: csvSize ? progressState.bytes / csvSize : 1, elapsedMs: Date.now() - t0 });
    });
    written.catch(() => {}); // awaited below or after the last batch
    writes.push(written);
    while (writes.length > 1) await writes.shift();
  };

  const emit = async (st: SplitState, refs: SliceRef[]) => {
    start(st, refs);
    while (queue.length > lookahead) await finish(queue.shift()!);
  };

  try {
    const source = readSource({ ...sourceOpts, progress: progressState });
    for await (const item of context ? context.wrap(source) : source) {
      if (item.kind === 'quarantine') {
        csvQuarantine.push(item.quarantine);
        continue;
      }
      const st = states.get(item.ref.split);
      if (!st) {
        // split.val = 0: everything is train.
        const train = states.get('train')!;
        for (const b of train.balancer.push({ ...item.ref, split: 'train' })) await emit(train, b.refs);
        continue;
      }
      for (const b of st.balancer.push(item.ref)) await emit(st, b.refs);
    }
    for (const st of states.values()) for (const b of st.balancer.end()) await emit(st, b.refs);
    while (queue.length) await finish(queue.shift()!);
    while (writes.length) await writes.shift();
  } finally {
    // On an error, let batches and writes in flight settle before the workers go away.
    await Promise.allSettled([...queue.map((j) => j.results), ...writes]);
    await processor.close();
  }

  const summaries: Manifest['splits'] = {};
  for (const st of states.values()) {
    const shards = await st.writer.close();
    summaries[st.split] = summarizeSplit(shards, samplingStats(st.balancer.stats));
  }
  const quarantined = sortQuarantine([
    ...csvQuarantine,
    ...[...states.values()].flatMap((st) => [...st.writer.committedNotes, ...st.notes]),
  ]);
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    createdBy: { name: 'ctwindow', version: VERSION },
    config,
    configHash: hash,
    backend,
    channels,
    dtype: config.output.dtype,
    imageShape: [config.resize[0], config.resize[1], channels.length],
    splits: summaries,
    quarantined,
    ...(context ? { context: context.summary() } : {}),
  };
  await writeManifest(outDir, manifest);
  return { outDir, manifest, backend, elapsedMs: Date.now() - t0, slicesWritten, resumedRecords, alreadyComplete: false };
}

function samplingStats(s: BalanceStats) {
  return {
    dropped: s.dropped.positives + s.dropped.negatives,
    repeated: s.repeated.positives + s.repeated.negatives,
    droppedPositives: s.dropped.positives,
    droppedNegatives: s.dropped.negatives,
    repeatedPositives: s.repeated.positives,
    repeatedNegatives: s.repeated.negatives,
    seenPositives: s.seen.positives,
    seenNegatives: s.seen.negatives,
    unbalancedBatches: s.unbalancedBatches,
  };
}

/** Deterministic order: by CSV row, then path, then reason; duplicates (resume) removed. */
function sortQuarantine(qs: Quarantine[]): Quarantine[] {
  const seen = new Set<string>();
  const out: Quarantine[] = [];
  for (const q of qs) {
    const k = `${q.stage}|${q.row}|${q.path}|${q.reason}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(q);
  }
  return out.sort((a, b) => (a.row ?? 0) - (b.row ?? 0) || (a.path ?? '').localeCompare(b.path ?? '') || a.reason.localeCompare(b.reason));
}
