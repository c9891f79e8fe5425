#!/usr/bin/env node
/**
 * npm run bench [-- --quick] [--out bench/results.json] [--no-seed]
 *
 * One run, the same files on both sides:
 *   (a) the seed baseline: shared/bench/seed_windowing.py's own functions under Debian's
 *       /usr/bin/python3 (numpy, pydicom): decode alone, windowing alone per strategy, and the
 *       seed's whole loop (pydicom read → sigmoid-ensemble → uint8 → np.save), one process;
 *   (b) ctwindow: decode alone and windowing alone per strategy on ONE thread (per core), and
 *       the whole `ctwindow run` process (CSV → shards, `node bin/ctwindow.js run`, all cores)
 *       in the geometries users run — 512² → 512², a real archive's mix of 512², 568² and 616²
 *       → 512², 512² → 256², and float16 / float32 outputs — each at N and N_LONG slices: the
 *       marginal rate (N_LONG − N slices over the difference in wall time) cancels start-up,
 *       as the seed's in-process timer does; CPU ms per slice and peak RSS
 *       (/usr/bin/time -v, else /proc polling);
 * plus the peak-RSS run on 5,000 generated slices, and the other engineers' rows (decode per
 * transfer syntax, shard read throughput, WebGPU) when their modules exist.
 * Files: ../shared/corpus/ct repeated (hard links, RSNA layout) to ≥ 1,008 slices when present,
 * else generated 512×512 phantom CT. Times are medians of several repetitions. Prints a table
 * and writes bench/results.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const NO_SEED = args.includes('--no-seed');
const OUT = resolve(ROOT, args.includes('--out') ? args[args.indexOf('--out') + 1] : 'bench/results.json');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SHARED = resolve(process.env.CTWINDOW_SHARED ?? join(ROOT, '..', 'shared'));
const CT = join(SHARED, 'corpus', 'ct');
const SEED_PY = join(SHARED, 'bench', 'seed_windowing.py');
const WORK = join(ROOT, 'bench', 'work');
const REPS = QUICK ? 1 : 3;
const STRATEGY = 'sigmoid-ensemble';

const log = (s) => process.stderr.write(s + '\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (slices, seconds) => +(slices / median(seconds)).toFixed(1);
const ratio = (a, b) => (a && b ? +(a / b).toFixed(2) : null);

// --- build ---------------------------------------------------------------------------------
if (!existsSync(join(ROOT, 'dist', 'fast', 'worker.js')) || !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  log('bench: building dist/ (tsc -p tsconfig.build.json)…');
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { initCodecs, decodeDicomSync } = await dist('dicom/index.js');
const { compileWindow, STRATEGIES } = await dist('windowing/index.js');
const { storedIndex, windowLut } = await dist('fast/index.js');
const { sliceMeta } = await dist('windowing/index.js');
const { generateDataset, RSNA_COLUMNS } = await dist('fixtures/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
tf.enableProdMode();
await tf.setBackend('cpu');
await initCodecs();

// --- datasets ------------------------------------------------------------------------------
mkdirSync(WORK, { recursive: true });

/** RSNA layout of hard links to `files`, repeated to `n` slices (unique UIDs per copy). */
function linkLayout(dir, files, n) {
  const csv = join(dir, 'train.csv');
  const root = join(dir, 'train');
  const paths = [];
  const rows = [];
  const perExam = files.length;
  for (let i = 0; i < n; i++) {
    const exam = Math.floor(i / perExam);
    const study = `1.2.826.0.1.3680043.8.498.${exam + 1}`;
    const series = `${study}.1`;
    const sop = `${series}.${(i % perExam) + 1}`;
    const path = join(root, study, series, `${sop}.dcm`);
    paths.push(path);
    const label = (i * 2654435761) % 7 < 2 ? 1 : 0; // seeded rule: deterministic, ~2/7 positive
    rows.push(RSNA_COLUMNS.map((c) => (c === 'StudyInstanceUID' ? study : c === 'SeriesInstanceUID' ? series : c === 'SOPInstanceUID' ? sop : c === 'pe_present_on_image' ? label : 0)).join(','));
  }
  if (existsSync(csv) && readFileSync(csv, 'utf8').split('\n').length === n + 2 && paths.every(existsSync)) return { csv, root, paths };
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < n; i++) {
    mkdirSync(dirname(paths[i]), { recursive: true });
    try {
      linkSync(files[i % perExam], paths[i]);
    } catch {
      copyFileSync(files[i % perExam], paths[i]); // another filesystem: copies
    }
  }
  writeFileSync(csv, [RSNA_COLUMNS.join(','), ...rows].join('\n') + '\n');
  return { csv, root, paths };
}

async function generated(dir, exams, slicesPerExam, distinctPerExam) {
  const csv = join(dir, 'train.csv');
  const n = exams * slicesPerExam;
  if (!(existsSync(csv) && readFileSync(csv, 'utf8').split('\n').length === n + 2)) {
    log(`bench: generating ${n} slices (512×512) in ${dir}…`);
    await generateDataset(dir, { exams, slicesPerExam, rows: 512, cols: 512, seed: 6, distinctPerExam, otherSizeEvery: 0 });
  }
  const paths = [];
  for (const line of readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
    const [s, se, sop] = line.split(',');
    paths.push(join(dir, 'train', s, se, `${sop}.dcm`));
  }
  return { csv, root: join(dir, 'train'), paths };
}

const haveCorpus = existsSync(CT) && readdirSync(CT).some((f) => f.endsWith('.dcm'));
const N = QUICK ? 360 : 1008;
// The long whole-run comparison: the same real CT, repeated further, so that process start-up
// (~0.5–0.7 s for ctwindow, ~0.3 s for Python) weighs as little as it does on a real dataset.
const N_LONG = QUICK ? 1008 : 5040;
let source;
let distinct;
if (haveCorpus) {
  distinct = readdirSync(CT).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CT, f));
  source = { kind: `shared/corpus/ct (${distinct.length} real 512×512 CT slices) hard-linked to ${N} slices`, ...linkLayout(join(WORK, `ct-${N}`), distinct, N) };
} else {
  const g = await generated(join(WORK, `gen-${N}`), N / 36, 36, 12);
  source = { kind: `generated 512×512 phantom CT, ${N} slices`, ...g };
  distinct = [...new Set(g.paths.map((p) => p))].slice(0, 36);
}
const longSource = haveCorpus
  ? { kind: `the same ${distinct.length} CT slices hard-linked to ${N_LONG}`, ...linkLayout(join(WORK, `ct-${N_LONG}`), distinct, N_LONG) }
  : { kind: `generated 512×512 phantom CT, ${N_LONG} slices`, ...(await generated(join(WORK, `gen-${N_LONG}`), N_LONG / 36, 36, 12)) };
// A real archive's mix of matrix sizes: the same CT, one slice in seven also at 568² or 616².
const { mixedFiles } = await import(pathToFileURL(join(ROOT, 'scripts', 'bench', 'geometry.mjs')).href);
const mixed = haveCorpus ? await mixedFiles(distinct, join(WORK, 'mixed-src')) : undefined;
const mixedSource = mixed
  ? { kind: `the same CT plus ${mixed.length - distinct.length} of them resampled to 568² and 616²`, ...linkLayout(join(WORK, `mixed-${N}`), mixed, N) }
  : undefined;
const mixedLong = mixed ? linkLayout(join(WORK, `mixed-${N_LONG}`), mixed, N_LONG) : undefined;
const windowFiles = QUICK ? distinct.slice(0, 12) : distinct;
const decodeFiles = QUICK ? distinct.slice(0, 12) : [...distinct, ...distinct, ...distinct];
const strategies = [...STRATEGIES];
log(`bench: ${source.kind}; ${REPS} repetition(s); ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// --- (a) the seed ----------------------------------------------------------------------------
let seed;
if (!NO_SEED && existsSync(SEED_PY)) {
  log(`bench: seed baseline (${PYTHON}, ${SEED_PY})…`);
  const out = join(WORK, 'seed-npy');
  rmSync(out, { recursive: true, force: true });
  const p = spawnSync(PYTHON, [join(ROOT, 'scripts', 'bench', 'seed.py'), dirname(SEED_PY)], {
    input: JSON.stringify({ files: decodeFiles, window_files: windowFiles, loop_files: source.paths, strategies, reps: REPS, out }),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (p.status !== 0) log(`bench: seed baseline failed: ${(p.stderr || p.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  else seed = JSON.parse(p.stdout);
  rmSync(out, { recursive: true, force: true });
  if (seed && mixedSource) {
    log(`bench: seed loop on the mixed-size slices…`);
    const q = spawnSync(PYTHON, [join(ROOT, 'scripts', 'bench', 'seed.py'), dirname(SEED_PY)], {
      input: JSON.stringify({ files: [], window_files: [], loop_files: mixedSource.paths, strategies: [], reps: REPS, out }),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (q.status !== 0) log(`bench: seed mixed loop failed: ${(q.stderr || q.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
    else seed.mixedLoop = JSON.parse(q.stdout).loop;
    rmSync(out, { recursive: true, force: true });
  }
} else log(`bench: no seed baseline (${NO_SEED ? '--no-seed' : `${SEED_PY} not found`})`);

// --- (b) ctwindow, one thread ----------------------------------------------------------------
const read = (f) => {
  const b = readFileSync(f);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function timeDecode() {
  const seconds = [];
  const cpu = [];
  for (const f of decodeFiles.slice(0, 4)) decodeDicomSync(read(f));
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = cpuNow();
    for (const f of decodeFiles) decodeDicomSync(read(f));
    seconds.push((performance.now() - t0) / 1000);
    cpu.push(cpuNow() - c0);
  }
  return { slices: decodeFiles.length, seconds, cpu };
}

async function timeWindow(strategy, imgs) {
  const plan = compileWindow({ strategy });
  const chunk = 16;
  // Outputs go to reused buffers, as on the workers (their slab slots, src/fast/slab-pool.ts):
  // a fresh 786 KB buffer per slice would time the allocator (~10 % here), not the windowing.
  const outs = Array.from({ length: chunk }, () => new Uint8Array(512 * 512 * 3));
  const once = async () => {
    for (let i = 0; i < imgs.length; i += chunk) {
      const part = imgs.slice(i, i + chunk).map((img) => ({ ix: storedIndex(img, 'air'), meta: sliceMeta(img), rows: img.rows, cols: img.cols }));
      let k = 0;
      await windowLut(plan, part, { size: [512, 512], dtype: 'uint8', alloc: (n) => (n === outs[0].length ? outs[k++] : new Uint8Array(n)) });
    }
  };
  await once(); // warm-up (JIT)
  const seconds = [];
  const cpu = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = cpuNow();
    await once();
    seconds.push((performance.now() - t0) / 1000);
    cpu.push(cpuNow() - c0);
  }
  return { slices: imgs.length, seconds, cpu };
}

log('bench: ctwindow decode alone (1 thread)…');
const ourDecode = timeDecode();
log('bench: ctwindow windowing alone per strategy (1 thread)…');
const imgs = windowFiles.map((f) => decodeDicomSync(read(f)));
const ourWindow = {};
for (const s of strategies) ourWindow[s] = await timeWindow(s, imgs);

// --- (b) ctwindow run, whole process ---------------------------------------------------------
/** Runs `node bin/ctwindow.js run <yaml>`; wall seconds and peak RSS (bytes) of the process. */
function runCli(yaml) {
  return new Promise((resolveRun, reject) => {
    const useTime = existsSync('/usr/bin/time');
    const argv = [process.execPath, join(ROOT, 'bin', 'ctwindow.js'), 'run', yaml];
    const t0 = performance.now();
    const child = useTime ? spawn('/usr/bin/time', ['-v', ...argv], { cwd: ROOT }) : spawn(argv[0], argv.slice(1), { cwd: ROOT });
    let err = '';
    let out = '';
    let peak = 0;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => (out += d));
    // Without /usr/bin/time: poll VmHWM (the kernel's own high-water mark) while it runs.
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peak = Math.max(peak, +m[1] * 1024);
          } catch { /* exited */ }
        }, 20);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`ctwindow run ${yaml} exited ${code}: ${(err + out).trim().split('\n').slice(-5).join(' | ')}`));
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      if (m) peak = +m[1] * 1024;
      const u = /User time \(seconds\): ([\d.]+)/.exec(err);
      const sy = /System time \(seconds\): ([\d.]+)/.exec(err);
      const cpu = u && sy ? +u[1] + +sy[1] : undefined;
      const w = /(\d+) slices written in ([\d.]+) s/.exec(err + out);
      resolveRun({ seconds, cpu, peakRss: peak, slicesWritten: w ? +w[1] : undefined, inner: w ? +w[2] : undefined });
    });
  });
}

function pipelineYaml(name, src, { resize = [512, 512], dtype = 'uint8' } = {}) {
  const yaml = join(WORK, `${name}.yaml`);
  writeFileSync(
    yaml,
    [
      `# written by scripts/bench.mjs`,
      `name: ${name}`,
      `source: {csv: ${JSON.stringify(src.csv)}, dicomRoot: ${JSON.stringify(src.root)}, label: pe_present_on_image}`,
      `split: {by: StudyInstanceUID, val: 0}`,
      `window: {strategy: ${STRATEGY}}`,
      `resize: [${resize.join(', ')}]`,
      `balance: {mode: none}`,
      `batch: {size: 32}`,
      `output: {dir: ${JSON.stringify(join(WORK, `out-${name}`))}, dtype: ${dtype}, shardBytes: 268435456}`,
      `seed: 42`,
      `backend: cpu`,
      `workers: auto`,
    ].join('\n') + '\n',
  );
  return yaml;
}

async function timeRun(name, src, reps, geometry) {
  const yaml = pipelineYaml(name, src, geometry);
  const runs = [];
  for (let r = 0; r < reps; r++) {
    rmSync(join(WORK, `out-${name}`), { recursive: true, force: true });
    runs.push(await runCli(yaml));
  }
  return { slices: src.paths.length, seconds: runs.map((r) => r.seconds), cpu: runs.every((r) => r.cpu !== undefined) ? runs.map((r) => r.cpu) : undefined, peakRss: Math.max(...runs.map((r) => r.peakRss)), slicesWritten: runs[0].slicesWritten, runs };
}

/** The whole-run geometries: the one the fast path never resizes, and what users train on. */
const GEOMETRIES = [
  { key: 'run', what: '512² → 512²', src: source, long: longSource, seed: 'loop' },
  ...(mixedSource ? [{ key: 'mixed', what: 'mixed 512²/568²/616² → 512²', src: mixedSource, long: mixedLong, seed: 'mixedLoop' }] : []),
  { key: 'r256', what: '512² → 256²', src: source, long: longSource, seed: 'loop', resize: [256, 256] },
  { key: 'r256-f16', what: '512² → 256² float16', src: source, long: longSource, seed: 'loop', resize: [256, 256], dtype: 'float16' },
  { key: 'r256-f32', what: '512² → 256² float32', src: source, long: longSource, seed: 'loop', resize: [256, 256], dtype: 'float32' },
];
const whole = {};
for (const g of GEOMETRIES) {
  log(`bench: ctwindow run ${g.what} ${g.dtype ?? 'uint8'} (${STRATEGY}, workers auto) on ${N} and ${N_LONG} slices…`);
  const short = await timeRun(g.key, g.src, REPS, g);
  const long = await timeRun(`${g.key}-${N_LONG}`, g.long, REPS, g);
  rmSync(join(WORK, `out-${g.key}-${N_LONG}`), { recursive: true, force: true });
  if (g.key !== 'run') rmSync(join(WORK, `out-${g.key}`), { recursive: true, force: true });
  for (const [r, n] of [[short, N], [long, N_LONG]]) if (r.slicesWritten !== n) log(`bench: WARNING: ${g.what}: ctwindow wrote ${r.slicesWritten} of ${n} slices`);
  const dt = median(long.seconds) - median(short.seconds);
  whole[g.key] = {
    short,
    long,
    marginal: dt > 0 ? +((N_LONG - N) / dt).toFixed(1) : null,
    marginalCpuMs: short.cpu && long.cpu ? +((1000 * (median(long.cpu) - median(short.cpu))) / (N_LONG - N)).toFixed(2) : null,
  };
}
const ourRun = whole.run.short;
const ourLong = whole.run.long;

const bigN = QUICK ? 1000 : 5000;
log(`bench: peak-RSS run on ${bigN} generated slices…`);
const big = await generated(join(WORK, `gen-${bigN}`), bigN / 100, 100, 4);
const ourBig = await timeRun(`rss-${bigN}`, big, 1);
rmSync(join(WORK, `out-rss-${bigN}`), { recursive: true, force: true }); // ~0.8 MB per slice of shards

// --- the other engineers' rows -----------------------------------------------------------------
async function optional(file, fn, call) {
  const path = join(ROOT, 'scripts', 'bench', file);
  if (!existsSync(path)) return { skipped: `${file} not present` };
  try {
    const mod = await import(pathToFileURL(path).href);
    if (typeof mod[fn] !== 'function') return { skipped: `${file} exports no ${fn}` };
    return await call(mod[fn]);
  } catch (e) {
    return { error: (e?.message ?? String(e)).split('\n')[0] };
  }
}
log('bench: decode per transfer syntax, shard read, webgpu (when present)…');
const decodeSyntax = haveCorpus ? await optional('decode.mjs', 'benchDecode', (f) => f({ seconds: QUICK ? 0.2 : 0.5 })) : { skipped: 'no shared corpus' };
const readRows = await optional('read.mjs', 'benchRead', (f) => f(join(WORK, 'out-run')));
log('bench: object storage: the run with its DICOM (and output) on a local S3 server…');
const s3Rows = await optional('s3.mjs', 'benchS3', (f) => f({ csv: source.csv, root: source.root, work: WORK, slices: N }));
log('bench: readers against one np.load per slice (256², 512²)…');
const loaderRows = await optional('loader.mjs', 'benchLoader', (f) => f({ mb: QUICK ? 60 : 300 }));
// The full WebGPU table: node scripts/bench/webgpu.mjs (here its quick form keeps the bench short).
const webgpu = await optional('webgpu.mjs', 'benchWebgpu', (f) => f({ quick: true, strategies: ['sigmoid-ensemble', 'channelwise'] }));
log('bench: slice context (1,000-slice series, with and without neighbours)…');
const context = await optional('context.mjs', 'benchContext', (f) => f({ quick: QUICK, slices: 1000 }));

rmSync(join(WORK, 'out-run'), { recursive: true, force: true });

// --- report ----------------------------------------------------------------------------------
const seedRate = (x) => (x ? rate(x.slices, x.seconds) : null);
/** CPU milliseconds per slice (user + system, all threads): robust to other load on the machine. */
const cpuMs = (x) => (x?.cpu ? +((1000 * median(x.cpu)) / x.slices).toFixed(2) : null);
const rows = [];
rows.push({ what: 'decode alone (1 thread)', seed: seedRate(seed?.decode), ctwindow: rate(ourDecode.slices, ourDecode.seconds), seedCpuMs: cpuMs(seed?.decode), ctwindowCpuMs: cpuMs(ourDecode) });
for (const s of strategies) rows.push({ what: `window ${s} (1 thread)`, seed: seedRate(seed?.window?.[s]), ctwindow: rate(ourWindow[s].slices, ourWindow[s].seconds), seedCpuMs: cpuMs(seed?.window?.[s]), ctwindowCpuMs: cpuMs(ourWindow[s]) });
for (const g of GEOMETRIES) {
  const w = whole[g.key];
  rows.push({
    what: `whole run ${g.what} ${g.dtype ?? 'uint8'}, marginal ${N}→${N_LONG} (${availableParallelism()} cores)`,
    seed: seedRate(seed?.[g.seed]),
    ctwindow: w.marginal,
    seedCpuMs: cpuMs(seed?.[g.seed]),
    ctwindowCpuMs: w.marginalCpuMs,
    peakRssMiB: +(Math.max(w.short.peakRss, w.long.peakRss) / 2 ** 20).toFixed(0),
    geometry: g.key,
  });
}
rows.push({ what: `  512² → 512², whole process incl. start-up, ${N} slices`, seed: seedRate(seed?.loop), ctwindow: rate(ourRun.slices, ourRun.seconds) });
for (const r of rows) {
  r.ratio = ratio(r.ctwindow, r.seed);
  r.cpuRatio = ratio(r.seedCpuMs, r.ctwindowCpuMs);
}

const results = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, loadavgEnd: loadavg() },
  source: source.kind,
  slices: source.paths.length,
  repetitions: REPS,
  seedVersions: seed?.versions,
  rows,
  run: ourRun,
  longRun: ourLong,
  longSource: longSource.kind,
  mixedSource: mixedSource?.kind,
  whole,
  rss5000: { slices: big.paths.length, seconds: ourBig.seconds[0], slicesPerS: rate(big.paths.length, ourBig.seconds), peakRssMiB: +(ourBig.peakRss / 2 ** 20).toFixed(0) },
  targets: {
    windowPerCore10x: ratio(rows.find((r) => r.what.startsWith(`window ${STRATEGY} `))?.ctwindow, seedRate(seed?.window?.[STRATEGY])),
    wholeRun10x: Object.fromEntries(rows.filter((r) => r.geometry && !r.what.includes('float')).map((r) => [r.geometry, r.ratio])),
    floatWithin2xOfUint8: Object.fromEntries(['r256-f16', 'r256-f32'].map((k) => [k, ratio(whole.r256.marginal, whole[k].marginal)])),
    peakRssUnder1GiB: Math.max(...Object.values(whole).flatMap((w) => [w.short.peakRss, w.long.peakRss]), ourBig.peakRss) < 2 ** 30,
  },
  decodePerSyntax: decodeSyntax,
  readers: loaderRows,
  objectStorage: s3Rows,
  context,
  read: readRows,
  webgpu,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');

const pad = (s, n) => String(s ?? '—').padEnd(n);
const lpad = (s, n) => String(s ?? '—').padStart(n);
console.log(`\nctwindow bench — ${source.kind}; median of ${REPS}; ${results.machine.cores} × ${results.machine.cpu}; node ${process.version}`);
console.log(`${pad('', 74)}${lpad('seed/s', 10)}${lpad('ctwindow/s', 12)}${lpad('ratio', 8)}  ${lpad('seed cpu ms', 12)}${lpad('ctw cpu ms', 12)}${lpad('ratio', 8)}`);
const x = (v) => (v === null || v === undefined ? '—' : v + '×');
for (const r of rows) console.log(`${pad(r.what, 74)}${lpad(r.seed, 10)}${lpad(r.ctwindow, 12)}${lpad(x(r.ratio), 8)}  ${lpad(r.seedCpuMs, 12)}${lpad(r.ctwindowCpuMs, 12)}${lpad(x(r.cpuRatio), 8)}`);
console.log('(slices/s: wall clock, median; cpu ms: user+system CPU per slice over all threads, which other load on the machine inflates less)');
console.log(`peak RSS: ctwindow run ${(ourRun.peakRss / 2 ** 20).toFixed(0)} MiB on ${ourRun.slices} slices; ${(ourBig.peakRss / 2 ** 20).toFixed(0)} MiB on ${big.paths.length} generated slices (${results.rss5000.slicesPerS} slices/s)`);
if (Array.isArray(decodeSyntax)) for (const d of decodeSyntax) console.log(`decode ${pad(d.name ?? d.syntax, 50)} ctwindow ${lpad(d.ctwindow_slices_per_s, 8)}/s  pydicom ${lpad(d.pydicom_slices_per_s, 8)}/s`);
else console.log(`decode per syntax: ${JSON.stringify(decodeSyntax)}`);
const show = (label, v) => console.log(`${label}: ${v?.skipped ?? v?.error ?? JSON.stringify(v)}`);
if (readRows?.node) {
  console.log(`read the run's shards (${readRows.split}):`);
  for (const [k, label] of [['node', 'Node readRecords, CRC + shard digest'], ['nodeNoVerify', 'Node readRecords, CRC only'], ['nodeShuffled', 'Node ShardDataset, shuffled'], ['python', 'Python iter_batches, shard digest'], ['pythonNoVerify', 'Python iter_batches, no digest']]) {
    const r = readRows[k];
    if (r && !r.error) console.log(`  ${pad(label, 40)}${lpad(r.records_per_s ?? r.slices_per_s ?? '', 10)} ${r.unit ?? 'records'}/s ${lpad(r.mb_per_s, 9)} MB/s`);
    else if (r) console.log(`  ${pad(label, 40)}${r.error}`);
  }
} else show('read', readRows);
if (Array.isArray(loaderRows)) {
  console.log('readers from the page cache, each handing over arrays of its own (MB/s; slices/s):');
  for (const r of loaderRows) {
    if (r.error) {
      console.log(`  ${r.size}²: ${r.error}`);
      continue;
    }
    const cell = (k) => (r[k] ? `${lpad(r[k].mb_per_s, 8)} (${r[k].slices_per_s})` : '—');
    console.log(`  ${r.size}², ${r.slices} slices, ${r.mb} MB: np.load per slice ${cell('np_load_per_slice')}; ShardLoader ${cell('ShardLoader')}, NCHW float32 ${cell('ShardLoader_NCHW_float32')}, 2 workers ${cell('ShardLoader_2_workers')}; iter_batches ${cell('iter_batches')}; Node ShardDataset ${cell('node_ShardDataset')}`);
  }
} else show('loader', loaderRows);
if (Array.isArray(s3Rows)) {
  console.log(`object storage (s3rver on 127.0.0.1, same disk), whole \`ctwindow run\` of ${N} slices, 512² uint8:`);
  for (const r of s3Rows) console.log(`  ${pad(r.what, 40)}${lpad(r.slices_per_s, 8)} slices/s  (${r.seconds} s)`);
} else show('object storage', s3Rows);
if (Array.isArray(webgpu?.rows)) {
  console.log(`webgpu windowing (${webgpu.adapter?.description ?? 'adapter'}${webgpu.software ? ', software' : ''}), batch ${webgpu.batch}:`);
  for (const r of webgpu.rows) console.log(`  ${pad(r.strategy, 30)} webgpu ${lpad(r.webgpu_slices_per_s, 8)}/s  uint8 ${lpad(r.webgpu_uint8_slices_per_s, 8)}/s  tfjs cpu ops ${lpad(r.cpu_slices_per_s, 8)}/s`);
} else show('webgpu', webgpu);
if (Array.isArray(context)) {
  console.log('slice context (one generated series):');
  for (const r of context) console.log(`  ${pad(r.name, 24)} ${lpad(r.slices, 6)} slices ${r.image} ${lpad(r.slices_per_s, 8)} slices/s  peak RSS ${lpad(r.peak_rss_mb, 7)} MB${r.budget_mb ? ` (budget ${r.budget_mb} MB: ${r.within_budget ? 'within' : 'OVER'}; whole series as HU would be ${r.whole_series_hu_mb} MB)` : ''}`);
} else show('context', context);
if (!seed) console.log(`no seed baseline in this run (${NO_SEED ? '--no-seed' : `needs ${SEED_PY} and ${PYTHON} with numpy + pydicom`}): ratios need ../shared beside the checkout (or CTWINDOW_SHARED)`);
const geo = Object.entries(results.targets.wholeRun10x).map(([k, v]) => `${GEOMETRIES.find((g) => g.key === k).what} ${x(v)}`).join(', ');
const fl = Object.entries(results.targets.floatWithin2xOfUint8).map(([k, v]) => `${k} ${x(v)}`).join(', ');
console.log(`targets: window ${STRATEGY} per core ${x(results.targets.windowPerCore10x)} (≥ 10); whole run, marginal: ${geo} (each ≥ 10, ≥ 8 minimum); uint8 rate over float rate: ${fl} (≤ 2); peak RSS < 1 GiB: ${results.targets.peakRssUnder1GiB}`);
console.log(`wrote ${OUT}`);
