/**
 * `ctwindow run`: YAML → train.csv ⨝ DICOM → windowing → balanced batches → shards, as named
 * stages read top to bottom:
 *
 *   prepare   config, output folder (a finished run is reported; an unfinished one resumes
 *             only with the same output-affecting config), CSV header, dicomRoot
 *   count     one pass over the CSV's labels: rows per split and class (what uniform sampling
 *             and progress need)
 *   engine    window plan, tfjs backend, slice processor (worker threads start first)
 *   splits    a Balancer and a ShardWriter per split; run.json records the config
 *   stream    CSV rows → Balancer (refs only, nothing decoded yet) → BatchProcessor (read,
 *             decode, window, resize, encode; failures → quarantine + a replacement of the same
 *             class) → ShardWriter (framed msgpack, atomic shards), backpressure throughout
 *   finish    manifest.json (last), then the verdict: nothing written or too much
 *             quarantined is a failed run (RunSummary.problems; the CLI exits 1)
 *
 * Resume: the sampler is a pure function of (CSV, config, seed), so a resumed run replays it
 * cheaply (CSV only) and skips the records already committed in complete shards, replaying
 * their decode failures from the notes stored with them; the result equals an uninterrupted
 * run's, byte for byte.
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { changedKeys, loadConfig, type LoadedConfig } from '../config/index.js';
import { checkCsvHeader, countSource, readSource, SourceError, type SourceCounts, type SourceOptions } from '../source/index.js';
import { Balancer, type BalanceStats } from '../sampling/index.js';
import { assembleRecord } from '../batching/record.js';
import type { BatchProcessor, ProcessorOptions, SliceOk, SliceResult } from '../batching/slice.js';
import { compileWindow } from '../windowing/compile.js';
import type { WindowPlan } from '../windowing/plan.js';
import { createFastProcessor, startFastWorkers } from '../fast/processor.js';
import {
  describeExistingOutput,
  openShardWriter,
  OutputFolderError,
  readManifest,
  summarizeSplit,
  writeManifest,
  FORMAT_VERSION,
  MANIFEST,
  type Manifest,
  type ShardWriter,
} from '../shards/index.js';
import { writeFileAtomic } from '../shards/atomic.js';
import { LOCK_FILE, lockOutputFolder, type FolderLock } from '../shards/lock.js';
import { QUARANTINE_FILE, QuarantineLog, readQuarantineReplay } from './quarantine-log.js';
import { isS3Url, s3CheckPrefix } from '../storage/s3.js';
import { stageOutput, type OutputMirror } from '../storage/mirror.js';
import type { BackendInfo, Quarantine, SliceRef, Split } from '../types.js';

const require = createRequire(import.meta.url);
const VERSION: string = require('../../package.json').version;

/** The run's own record in its output folder: the config that decides its bytes. */
export const RUN_RECORD = 'run.json';

export interface RunOptions {
  /** Internal: an output in object storage, written through a staging folder (storage/mirror.ts). */
  mirror?: OutputMirror;
  /** `dotted.key=value` overrides, values parsed as YAML. */
  overrides?: string[];
  /** Continue a killed run in the same output folder. */
  resume?: boolean;
  /** Cluster partition: process only exams hashing to `index` of `count`; output to `part-<i>-of-<N>/`. */
  partition?: { index: number; count: number };
  /** Progress callback, called after every record written. */
  onProgress?: (p: Progress) => void;
  /** One-line messages (backend choice, counts, warnings). */
  log?: (line: string) => void;
  /** Replace the slice processor (worker pool, tests). */
  processor?: (opts: ProcessorOptions, config: LoadedConfig['config']) => Promise<BatchProcessor> | BatchProcessor;
  /** Aborts the run between batches (Ctrl-C): what is committed stays, and `--resume` continues. */
  signal?: AbortSignal;
}

export interface Progress {
  slices: number;
  /** Slices the run expects to write (known after the counting pass; decode failures aside). */
  expected: number;
  records: number;
  quarantined: number;
  /** Slices written of slices expected, 0..1. */
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
  /** Warnings about the data (an empty split, a class with no rows…), also in the manifest. */
  warnings: string[];
  /** Why the run failed although it finished (nothing written, too much quarantined); empty when it succeeded. */
  problems: string[];
}

/** Thrown for problems found before any work is done (config, CSV header, dicomRoot, output folder). */
export class RunError extends Error {}

/** Thrown between batches when opts.signal aborts; becomes a RunAborted with the committed counts. */
const ABORTED = Symbol('aborted');

/** Thrown when the run was aborted (Ctrl-C): `committed` records are on disk, `--resume` continues. */
export class RunAborted extends Error {
  constructor(readonly outDir: string, readonly committed: number, readonly slices: number) {
    super(`interrupted: ${committed} record(s) (${slices} slices) committed in complete shards in ${outDir}`);
  }
}

interface SplitState {
  split: Split;
  balancer: Balancer;
  writer: ShardWriter;
  /** Index the next finished record takes (committed or new). */
  index: number;
  /** Batches started so far, less those in which nothing decoded (a tentative index). */
  started: number;
  /** The failures of the run being resumed, by `<row>:<sop>`, to replay without decoding. */
  replayFailures: Map<string, Quarantine>;
}

export async function runPipeline(configPath: string, opts: RunOptions = {}): Promise<RunSummary> {
  const t0 = Date.now();
  const loaded = await loadConfig(configPath, opts.overrides ?? []);
  const target = outputDir(loaded.config.output.dir, opts.partition);
  // Object storage: the run writes a staging folder, each complete file is uploaded (mirror.ts).
  let staged: Awaited<ReturnType<typeof stageOutput>> | undefined;
  if (isS3Url(target)) {
    try {
      staged = await stageOutput(target, !!opts.resume);
    } catch (e) {
      throw new RunError(`output.dir: ${(e as Error).message}`);
    }
  }
  const outDir = staged?.stage ?? target;
  // One run per folder: a second run, or a --resume while this one lives, is refused.
  let lock: FolderLock;
  try {
    lock = await lockOutputFolder(outDir);
  } catch (e) {
    throw e instanceof OutputFolderError ? new RunError(e.message) : e;
  }
  try {
    const summary = await runLocked(loaded, outDir, { ...opts, mirror: staged?.mirror }, t0);
    return staged ? { ...summary, outDir: target } : summary;
  } catch (e) {
    if (staged && e instanceof RunAborted) throw new RunAborted(target, e.committed, e.slices);
    throw e;
  } finally {
    await lock.release();
    await staged?.cleanup();
  }
}

async function runLocked(loaded: LoadedConfig, outDir: string, opts: RunOptions, t0: number): Promise<RunSummary> {
  const log = opts.log ?? (() => {});
  const { config } = loaded;

  // --- prepare -------------------------------------------------------------------------------
  const finished = await checkOutputFolder(outDir, loaded, !!opts.resume);
  if (finished) return finished;
  const splits: Split[] = config.split.val > 0 ? ['train', 'val'] : ['train'];
  const sourceOpts = sourceOptions(config, opts.partition);
  await checkSource(sourceOpts, !!config.context);

  // --- count ---------------------------------------------------------------------------------
  const counts = await countSource(sourceOpts, splits);
  const warnings = dataWarnings(counts, config, splits);
  log(`counted ${counts.rows} rows: ${splits.map((s) => `${s} ${counts.splits[s].positives} positive / ${counts.splits[s].negatives} negative in ${counts.splits[s].exams} exam(s)`).join('; ')}${counts.quarantined ? `; ${counts.quarantined} bad row(s)` : ''}`);
  for (const w of warnings) log(`warning: ${w}`);

  // --- engine --------------------------------------------------------------------------------
  const { processor, plan, channels, backend, context } = await startEngine(config, outDir, opts, log);

  // --- splits --------------------------------------------------------------------------------
  const states = new Map<Split, SplitState>();
  let quarantine!: QuarantineLog;
  try {
    await writeFileAtomic(join(outDir, RUN_RECORD), JSON.stringify({ configHash: loaded.hash, config: loaded.outputKeys, formatVersion: FORMAT_VERSION }, null, 2) + '\n');
    await opts.mirror?.put(RUN_RECORD);
    const replay = opts.resume ? readQuarantineReplay(outDir) : new Map<string, Quarantine>();
    // The log is durable before each shard commit: it always covers the committed records.
    const beforeCommit = () => quarantine.sync();
    // Object storage: the log (covering the committed records), the index, then the shard.
    const mirror = opts.mirror;
    const afterCommit = mirror
      ? async (index: string, shard: string) => {
          await mirror.put(QUARANTINE_FILE);
          await mirror.put(index);
          await mirror.putAndDrop(shard);
        }
      : undefined;
    for (const split of splits) states.set(split, await openSplit(outDir, split, config, counts, !!opts.resume, replay, beforeCommit, afterCommit));
    quarantine = new QuarantineLog(outDir); // only once the folder has taken the run
  } catch (e) {
    await processor.close(); // worker threads left running would keep the process alive
    throw e instanceof OutputFolderError ? new RunError(`${outDir}: ${e.message}`) : e;
  }
  const expected = [...states.values()].reduce((n, st) => n + st.balancer.expected, 0);

  // --- stream --------------------------------------------------------------------------------
  let slicesWritten = 0, recordsWritten = 0, resumedRecords = 0;
  const report = () =>
    opts.onProgress?.({ slices: slicesWritten, expected, records: recordsWritten, quarantined: quarantine.count, fraction: expected ? Math.min(1, slicesWritten / expected) : 1, elapsedMs: Date.now() - t0 });

  // Batches flow through a short queue: batches k+1 and k+2 are being decoded and windowed
  // (worker threads) while batch k is finished and written here. Two, not one: writing a
  // record waits for the disk (O_DIRECT, ~25 MB a record), and with one batch ahead the
  // workers ran dry during that wait. The sampler's operations keep one fixed order whatever
  // the timing (form k+2, then finish k, which may draw replacements), so the output does not
  // depend on timing, byte for byte, and a resumed run replays the same order.
  interface Job { st: SplitState; refs: SliceRef[]; results?: Promise<SliceResult[]> }
  const queue: Job[] = [];
  // Slice context keeps a sliding window of decoded neighbours: it gets batches one at a time.
  const lookahead = context ? 0 : 2;
  // Records appended and not yet on disk: the one being written and the one queued behind it.
  const writes: Promise<void>[] = [];

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

  /**
   * A batch's outcome: its slices that decoded and the notes of those that did not, each
   * failed slice replaced by one of the same class while the sampler has one (replacements
   * can fail too). `outcome` gives a list of refs' results: the processor's, or on resume the
   * committed record's notes replayed without decoding.
   */
  const settle = async (st: SplitState, first: Promise<SliceResult[]>, outcome: (refs: SliceRef[]) => Promise<SliceResult[]>) => {
    const ok: SliceOk[] = [];
    const notes: Quarantine[] = [];
    let batch = await first;
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
      batch = next.length ? await outcome(next) : [];
    }
    return { ok, notes };
  };

  const finish = async ({ st, refs, results }: Job) => {
    const index = st.index;
    if (index < st.writer.committedRecords) {
      // Committed before a crash: replay its failures (and their replacements) without decoding.
      const replay = async (rs: SliceRef[]): Promise<SliceResult[]> =>
        rs.map((ref) => {
          const q = st.replayFailures.get(`${ref.row}:${ref.sop}`);
          return q ? { ok: false, ref, quarantine: q } : { ok: true, ref, bytes: new Uint8Array(0) };
        });
      const { ok, notes } = await settle(st, replay(refs), replay);
      for (const q of notes) quarantine.add(q); // the log is written again from the start
      if (!ok.length) st.started--; // as in the original run: an all-failed batch takes no index
      else {
        st.index++;
        resumedRecords++;
      }
      return;
    }
    const { ok, notes } = await settle(st, results ?? processor.process(refs), (rs) => processor.process(rs));
    for (const q of notes) quarantine.add(q);
    if (!ok.length) {
      // Nothing in this batch could be decoded: keep the numbering dense.
      st.started--;
      return;
    }
    st.index++;
    const record = assembleRecord(ok, { size: config.resize as [number, number], channels, dtype: config.output.dtype, strategy: plan.name, split: st.split, index });
    if (context) record.extra = context.recordExtra(ok);
    // Laid out now, written behind the record before it: this thread goes on to the next batch
    // while the disk takes this one, and waits for the one before (see `writes`).
    const written = st.writer.append(record).then(() => {
      processor.release?.(ok.map((s) => s.bytes)); // written: the slice buffers can be reused
      slicesWritten += ok.length;
      recordsWritten++;
      report();
    });
    written.catch(() => {}); // awaited below or after the last batch
    writes.push(written);
    while (writes.length > 1) await writes.shift();
  };

  const emit = async (st: SplitState, refs: SliceRef[]) => {
    start(st, refs);
    while (queue.length > lookahead) await finish(queue.shift()!);
    if (opts.signal?.aborted) throw ABORTED;
  };

  try {
    const source = readSource({ ...sourceOpts, progress: { bytes: 0 } });
    for await (const item of context ? context.wrap(source) : source) {
      if (item.kind === 'quarantine') {
        quarantine.add(item.quarantine);
        continue;
      }
      // split.val = 0: everything is train.
      const st = states.get(item.ref.split) ?? states.get('train')!;
      for (const b of st.balancer.push({ ...item.ref, split: st.split })) await emit(st, b.refs);
    }
    for (const st of states.values()) for (const b of st.balancer.end()) await emit(st, b.refs);
    while (queue.length) await finish(queue.shift()!);
    while (writes.length) await writes.shift();
  } catch (e) {
    quarantine.abandon(); // what was logged reaches the file: a resume reads it
    if (e !== ABORTED) throw e;
    // Ctrl-C: let the records in flight reach the disk. The shard being written stays partial
    // (a resume discards it and writes it again, so shard boundaries stay those of an
    // uninterrupted run); no manifest, so the folder is visibly unfinished.
    await Promise.allSettled(writes);
    const done = [...states.values()].flatMap((st) => st.writer.completed());
    throw new RunAborted(outDir, done.reduce((n, x) => n + x.records, 0), done.reduce((n, x) => n + x.slices, 0));
  } finally {
    // On an error, let batches and writes in flight settle before the workers go away.
    await Promise.allSettled([...queue.map((j) => j.results), ...writes]);
    await processor.close();
  }

  // --- finish --------------------------------------------------------------------------------
  const summaries: Manifest['splits'] = {};
  for (const st of states.values()) {
    const shards = await st.writer.close();
    summaries[st.split] = summarizeSplit(shards, samplingStats(st.balancer.stats));
  }
  const { summary: quarantineSummary, examples } = await quarantine.finish();
  const written = Object.values(summaries).reduce((n, s) => n + (s?.slices ?? 0), 0);
  const problems = verdict(written, quarantine.count, config.quarantine.maxFraction, counts);
  const rows = rowAccount(counts.rows, summaries, quarantine);
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    createdBy: { name: 'ctwindow', version: VERSION },
    config,
    configHash: loaded.hash,
    backend,
    channels,
    dtype: config.output.dtype,
    imageShape: [config.resize[0], config.resize[1], channels.length],
    splits: summaries,
    rows,
    quarantined: examples,
    quarantine: quarantineSummary,
    ...(warnings.length ? { warnings } : {}),
    ...(problems.length ? { problems } : {}),
    ...(context ? { context: context.summary() } : {}),
  };
  await writeManifest(outDir, manifest);
  if (opts.mirror) {
    await opts.mirror.put(QUARANTINE_FILE);
    await opts.mirror.put(MANIFEST); // last: its object marks the dataset complete
  }
  return { outDir, manifest, backend, elapsedMs: Date.now() - t0, slicesWritten, resumedRecords, alreadyComplete: false, warnings, problems };
}

/** The folder the run writes: output.dir, or its part-i-of-N/ for a cluster partition. */
function outputDir(dir: string, partition: RunOptions['partition']): string {
  if (!partition) return dir;
  const { index, count } = partition;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new RunError(`--partition: expected i/N with 0 ≤ i < N, got ${index}/${count}`);
  }
  return isS3Url(dir) ? `${dir.replace(/\/+$/, '')}/part-${index}-of-${count}` : join(dir, `part-${index}-of-${count}`);
}

/**
 * Refuses to mix runs. A finished run of the same config is reported (with --resume); an
 * unfinished one continues only with --resume and the same output-affecting config (run.json),
 * else the run is refused before anything is touched, naming the keys that changed.
 */
async function checkOutputFolder(outDir: string, loaded: LoadedConfig, resume: boolean): Promise<RunSummary | undefined> {
  const existing = await describeExistingOutput(outDir);
  if (!existing) return undefined;
  let manifest: Manifest | undefined;
  try {
    manifest = await readManifest(outDir);
  } catch {
    /* unfinished */
  }
  if (!resume) throw new RunError(existing);
  if (manifest) {
    if (manifest.configHash !== loaded.hash) {
      throw new RunError(`${outDir}: holds a finished run of a different config (hash ${manifest.configHash.slice(0, 12)}…, this config ${loaded.hash.slice(0, 12)}…); --resume continues only the same config`);
    }
    return { outDir, manifest, backend: manifest.backend, elapsedMs: 0, slicesWritten: 0, resumedRecords: 0, alreadyComplete: true, warnings: [], problems: [] };
  }
  let record: { configHash?: string; config?: unknown };
  try {
    record = JSON.parse(await readFile(join(outDir, RUN_RECORD), 'utf8'));
  } catch (e) {
    // Killed while writing run.json itself (before any shard): nothing was committed, start afresh.
    if ((await readdir(outDir)).every((n) => n === `.${RUN_RECORD}.tmp` || n === LOCK_FILE)) return undefined;
    throw new RunError(`${outDir}: cannot --resume: ${RUN_RECORD} is ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'}, so the unfinished run's config is unknown; start again in an empty folder`);
  }
  if (record.configHash !== loaded.hash) {
    const keys = changedKeys(record.config, loaded.outputKeys);
    throw new RunError(
      `${outDir}: cannot --resume: the unfinished run used another config (changed: ${keys.join(', ') || 'unknown keys'}); ` +
        `resuming would mix the two in one dataset. Restore those keys, or start again in an empty folder. Nothing was changed.`,
    );
  }
  return undefined;
}

function sourceOptions(config: LoadedConfig['config'], partition: RunOptions['partition']): SourceOptions {
  return {
    csv: config.source.csv,
    dicomRoot: config.source.dicomRoot,
    label: config.source.label,
    columns: config.source.columns,
    filter: config.source.filter,
    limit: config.source.limit,
    seed: config.seed,
    valFraction: config.split.val,
    partition,
  };
}

/** The CSV's header and the DICOM root folder, before any work. */
async function checkSource(opts: SourceOptions, context: boolean): Promise<void> {
  await checkCsvHeader(opts);
  if (isS3Url(opts.dicomRoot)) {
    if (context) throw new SourceError(`source.dicomRoot: ${opts.dicomRoot}: slice context reads each series' folder for its neighbours; it needs a local dicomRoot (s3:// is not supported with context yet)`);
    try {
      await s3CheckPrefix(opts.dicomRoot);
    } catch (e) {
      throw new SourceError(`source.dicomRoot: ${(e as Error).message}`);
    }
    return;
  }
  let isDir = false;
  try {
    isDir = (await stat(opts.dicomRoot)).isDirectory();
  } catch (e) {
    throw new SourceError(`source.dicomRoot: ${opts.dicomRoot}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : `cannot read (${(e as NodeJS.ErrnoException).code})`}`);
  }
  if (!isDir) throw new SourceError(`source.dicomRoot: ${opts.dicomRoot}: not a folder`);
}

/** What the counts say the user should know before the run: empty splits, a class with no rows. */
function dataWarnings(counts: SourceCounts, config: LoadedConfig['config'], splits: Split[]): string[] {
  const out: string[] = [];
  for (const split of splits) {
    const c = counts.splits[split];
    if (c.positives + c.negatives === 0) {
      out.push(`the ${split} split is empty${split === 'val' ? ` (split.val ${config.split.val} of ${counts.splits.train.exams + c.exams} exam(s))` : ''}`);
      continue;
    }
    const balanced = config.balance.mode !== 'none' && (config.balance.applyTo === 'all' || split === 'train');
    for (const [n, cls] of [[c.positives, 'positive'], [c.negatives, 'negative']] as const) {
      if (n > 0) continue;
      const effect = !balanced ? '' : config.balance.mode === 'undersample' ? `: balance.mode undersample writes no ${split} slice` : ': its batches cannot be balanced';
      out.push(`the ${split} split has no ${cls} row (label column ${config.source.label})${effect}`);
    }
  }
  return out;
}

/** The engine: window plan, backend and slice processor; worker threads start before tfjs loads. */
async function startEngine(config: LoadedConfig['config'], outDir: string, opts: RunOptions, log: (line: string) => void) {
  // Slice context (`context:`): neighbours as channels; its own plan, layout, source order and processor.
  // Modules that load tfjs (context, backends) are imported when needed: the fast path's
  // worker threads start first and boot while this thread loads tfjs.
  const context = config.context ? (await import('../context/index.js')).pipelineContext(config, log) : undefined;
  const plan: WindowPlan = context?.plan ?? compileWindow(config.window);
  const channels = context?.channels ?? plan.channels;
  const procOpts: ProcessorOptions = { plan, size: config.resize as [number, number], dtype: config.output.dtype, padding: config.decode.padding };
  // cpu, or auto without a GPU (the usual outcome), ends on the fast path: start its threads now.
  const early = !opts.processor && (config.backend === 'cpu' || config.backend === 'auto') ? startFastWorkers(procOpts, config) : undefined;
  const cpuWithoutTfjs = config.backend === 'cpu' && !!early && !context;
  let backend: BackendInfo;
  let inner: BatchProcessor;
  try {
    // `backend: cpu` on the fast path needs no tfjs on this thread: the workers window.
    backend = cpuWithoutTfjs ? { name: 'cpu', requested: 'cpu', reason: 'requested' } : await (await import('../backend/index.js')).initBackend(config.backend);
    log(`backend: ${backend.name} (${backend.reason})${backend.adapter?.description ? ` adapter: ${backend.adapter.description}` : ''}`);
    await mkdir(outDir, { recursive: true });
    // Default: the fast CPU path (lookup tables on worker threads, same bytes); `workers: 0` keeps it in-process.
    inner = opts.processor ? await opts.processor(procOpts, config) : await createFastProcessor(procOpts, config, { log, workers: early, backend: cpuWithoutTfjs ? 'cpu' : undefined });
  } catch (e) {
    await early?.close(); // threads left running would keep the process alive
    throw e;
  }
  // Slice context wraps the single-slice processor: each slice windowed once, cached, stacked.
  const processor = context ? context.processor(procOpts, inner) : inner;
  return { processor, plan, channels, backend, context };
}

async function openSplit(
  outDir: string, split: Split, config: LoadedConfig['config'], counts: SourceCounts, resume: boolean,
  replayFailures: Map<string, Quarantine>, beforeCommit: () => Promise<void>, afterCommit?: (index: string, shard: string) => Promise<void>,
): Promise<SplitState> {
  const writer = await openShardWriter({ dir: outDir, split, shardBytes: config.output.shardBytes, resume, io: config.output.io, sha256: config.output.sha256, beforeCommit, afterCommit });
  const balanced = config.balance.applyTo === 'all' || split === 'train';
  // Folders written before quarantine.jsonl kept the failures in the index entries.
  for (const q of writer.committedNotes) if (q.sop) replayFailures.set(`${q.row}:${q.sop}`, q);
  const c = counts.splits[split];
  const balancer = new Balancer({
    mode: balanced ? config.balance.mode : 'none',
    positiveFraction: config.balance.positiveFraction,
    batchSize: config.batch.size,
    window: Math.max(config.balance.buffer, config.batch.size),
    seed: config.seed,
    stream: split,
    counts: { positives: c.positives, negatives: c.negatives },
  });
  return { split, writer, index: 0, started: 0, replayFailures, balancer };
}

/** Why a finished run failed: nothing written, or more quarantined than `maxFraction` of the slices it tried. */
function verdict(written: number, quarantined: number, maxFraction: number, counts: SourceCounts): string[] {
  const out: string[] = [];
  if (written === 0) {
    out.push(counts.rows === 0 ? 'no slice written: the CSV has no data rows (after filter and partition)' : 'no slice written');
    return out;
  }
  const share = quarantined / (written + quarantined);
  if (share > maxFraction) {
    out.push(`${quarantined} of ${written + quarantined} slices quarantined (${(100 * share).toFixed(1)} %), more than quarantine.maxFraction ${maxFraction}`);
  }
  return out;
}

/**
 * Every data row of the CSV accounted for: the distinct rows written (slices less oversampling's
 * repeats), the rows the sampler left out, and the rows quarantined (by the CSV stage or a
 * slice's decode/window) add up to the data rows read.
 */
function rowAccount(data: number, splits: Manifest['splits'], quarantine: QuarantineLog): NonNullable<Manifest['rows']> {
  let slices = 0, repeats = 0, dropped = 0;
  for (const s of Object.values(splits)) {
    slices += s?.slices ?? 0;
    repeats += s?.sampling.repeated ?? 0;
    dropped += s?.sampling.dropped ?? 0;
  }
  // A row that failed more than once is an oversampled row whose repeats failed as it did: those
  // repeats were drawn (the sampler's count) but not written.
  const repeated = repeats - quarantine.duplicates;
  return { data, written: slices - repeated, repeated, dropped, quarantined: quarantine.count };
}

function samplingStats(s: BalanceStats) {
  return {
    method: s.method,
    counted: s.counted,
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

