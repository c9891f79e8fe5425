/**
 * Honest outcomes of `ctwindow run`, as a user meets them: a resume of an unfinished run with
 * another config is refused before anything is touched, naming the keys; runs that would
 * "succeed" without writing anything exit non-zero and say why; pandas-style labels are read;
 * Ctrl-C in a terminal says what is committed, prints the --resume command, shows the cursor
 * again and exits 130; progress counts slices written of slices expected.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset, type GeneratedDataset } from '../src/fixtures/index.js';
import { runPipeline, type Progress } from '../src/pipeline/index.js';
import { ctwindow, PYTHON, REPO } from './helpers/shared.js';
import { tempDir, writePipeline } from './helpers/pipeline.js';

let root = '';
let ds: GeneratedDataset;

const config = (over: Record<string, unknown> = {}) => ({
  source: { csv: 'data/train.csv', dicomRoot: 'data/train' },
  split: { val: 0.25 },
  window: { strategy: 'lung' },
  resize: [32, 32],
  balance: { mode: 'undersample', positiveFraction: 0.5, buffer: 16 },
  batch: { size: 4 },
  output: { dir: 'out/x', dtype: 'uint8', shardBytes: 20_000 },
  seed: 3,
  backend: 'cpu',
  workers: 0,
  ...over,
});

/** Every file of a folder with its bytes and mtime. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    out[f] = `${statSync(p).mtimeMs}:${readFileSync(p).toString('base64')}`;
  }
  return out;
}

beforeAll(async () => {
  root = await tempDir('ctw-outcomes-');
  ds = await generateDataset(join(root, 'data'), { exams: 8, slicesPerExam: 10, rows: 32, cols: 32, seed: 9 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('--resume of an unfinished run', () => {
  it('is refused before anything is touched when an output-affecting key changed, naming the keys; byte-neutral keys may change', async () => {
    const yaml = await writePipeline(root, config({ output: { dir: 'out/resume', dtype: 'uint8', shardBytes: 20_000 } }), 'resume.yaml');
    const first = ctwindow(['run', yaml, '-q']);
    expect(first.status, first.stderr).toBe(0);
    const out = join(root, 'out', 'resume');
    unlinkSync(join(out, 'manifest.json')); // an unfinished run: its shards, no manifest
    const before = snapshot(out);
    for (const [set, keys] of [
      [['--set', 'window.strategy=sigmoid'], /changed: window\.strategy\b/],
      [['--set', 'seed=4'], /changed: seed\b/],
      [['--set', 'batch.size=8', '--set', 'output.dtype=float16'], /changed: batch\.size, output\.dtype\b/],
    ] as const) {
      const r = ctwindow(['run', yaml, '--resume', ...set]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(keys);
      expect(r.stderr).toMatch(/cannot --resume: the unfinished run used another config .*Nothing was changed/);
      expect(snapshot(out)).toEqual(before);
    }
    // workers and output.io change no byte: the resume goes on and finishes the same dataset.
    const ok = ctwindow(['run', yaml, '--resume', '-q', '--set', 'workers=1', '--set', 'output.io=buffered']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  }, 120_000);
});

describe('--resume after a kill during run.json', () => {
  it('a folder holding only a half-written run.json (nothing committed) resumes as a fresh run', async () => {
    const yaml = await writePipeline(root, config({ output: { dir: 'out/halfrecord' } }), 'halfrecord.yaml');
    mkdirSync(join(root, 'out', 'halfrecord'), { recursive: true });
    writeFileSync(join(root, 'out', 'halfrecord', '.run.json.tmp'), '{"configHa');
    const r = ctwindow(['run', yaml, '--resume', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(root, 'out', 'halfrecord', 'manifest.json'))).toBe(true);
  });
});

describe('runs that write nothing, or too little, do not succeed', () => {
  it('a dicomRoot that does not exist is refused before any work, naming the key and the path', async () => {
    const yaml = await writePipeline(root, config({ source: { csv: 'data/train.csv', dicomRoot: 'data/nope' }, output: { dir: 'out/noroot' } }), 'noroot.yaml');
    const r = ctwindow(['run', yaml]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/source\.dicomRoot: .*data\/nope: no such folder/);
    expect(existsSync(join(root, 'out', 'noroot'))).toBe(false);
  });

  it('every file missing: exit 1 after the manifest, the summary groups the quarantine in words', async () => {
    mkdirSync(join(root, 'empty-root'), { recursive: true });
    const yaml = await writePipeline(root, config({ source: { csv: 'data/train.csv', dicomRoot: 'empty-root' }, output: { dir: 'out/missing' } }), 'missing.yaml');
    const r = ctwindow(['run', yaml]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/file not found: \d+, e\.g\. .*empty-root\/.*\.dcm/);
    expect(r.stderr).toMatch(/FAILED: no slice written/);
    const m = JSON.parse(readFileSync(join(root, 'out', 'missing', 'manifest.json'), 'utf8'));
    expect(m.problems[0]).toMatch(/no slice written/);
  });

  it('every CSV row is accounted for: written + dropped by sampling + quarantined = data rows, in each balance mode', async () => {
    // Files missing for 7 rows, and two rows the CSV stage cannot take (bad label, too few fields).
    const data = join(root, 'account');
    rmSync(data, { recursive: true, force: true });
    spawnSync('cp', ['-r', join(root, 'data'), data]);
    ds.slices.filter((_, i) => i % 11 === 3).forEach((s) => unlinkSync(s.path.replace(join(root, 'data'), data)));
    const csv = readFileSync(join(data, 'train.csv'), 'utf8').trimEnd().split('\n');
    const header = csv[0].split(',');
    const bad = csv[5].split(',');
    bad[header.indexOf('pe_present_on_image')] = 'maybe';
    writeFileSync(join(data, 'train.csv'), [...csv, bad.join(','), 'only,two'].join('\n') + '\n');
    const dataRows = csv.length - 1 + 2;
    for (const balance of [{ mode: 'none' }, { mode: 'undersample', positiveFraction: 0.5, buffer: 16 }, { mode: 'oversample', positiveFraction: 0.5, buffer: 16 }]) {
      const yaml = await writePipeline(root, config({ source: { csv: 'account/train.csv', dicomRoot: 'account/train' }, balance, quarantine: { maxFraction: 0.5 }, output: { dir: `out/account-${balance.mode}` } }), 'account.yaml');
      const r = ctwindow(['run', yaml, '-q']);
      expect(r.status, r.stderr).toBe(0);
      const m = JSON.parse(readFileSync(join(root, 'out', `account-${balance.mode}`, 'manifest.json'), 'utf8'));
      const slices = m.splits.train.slices + m.splits.val.slices;
      expect(m.rows.data, balance.mode).toBe(dataRows);
      expect(m.rows.written + m.rows.dropped + m.rows.quarantined, balance.mode).toBe(dataRows);
      expect(m.rows.written + m.rows.repeated, balance.mode).toBe(slices);
      expect(m.rows.quarantined, balance.mode).toBe(new Set(m.quarantined.map((q: { row: number }) => q.row)).size);
      expect(m.quarantined.filter((q: { stage: string }) => q.stage === 'csv').length, balance.mode).toBe(2);
      if (balance.mode === 'none') expect([m.rows.dropped, m.rows.repeated, m.rows.quarantined]).toEqual([0, 0, 9]);
      if (balance.mode === 'undersample') expect(m.rows.dropped).toBeGreaterThan(0);
      if (balance.mode === 'oversample') expect(m.rows.repeated).toBeGreaterThan(0);
    }
  });

  it('more quarantined than quarantine.maxFraction: exit 1, the share named; raising it makes the run succeed', async () => {
    // A copy of the data with a third of the files removed.
    const data = join(root, 'holes');
    rmSync(data, { recursive: true, force: true });
    spawnSync('cp', ['-r', join(root, 'data'), data]);
    ds.slices.filter((_, i) => i % 3 === 0).forEach((s) => unlinkSync(s.path.replace(join(root, 'data'), data)));
    const base = { source: { csv: 'holes/train.csv', dicomRoot: 'holes/train' }, balance: { mode: 'none' } };
    const yaml = await writePipeline(root, config({ ...base, output: { dir: 'out/holes' } }), 'holes.yaml');
    const r = ctwindow(['run', yaml]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED: \d+ of \d+ slices quarantined \([\d.]+ %\), more than quarantine\.maxFraction 0\.05/);
    const lenient = await writePipeline(root, config({ ...base, quarantine: { maxFraction: 0.5 }, output: { dir: 'out/holes2' } }), 'holes2.yaml');
    const r2 = ctwindow(['run', lenient]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/file not found: \d+, e\.g\./);
  });

  it('no positive row: warned about, and undersampling writes no slice → exit 1', async () => {
    const [head, ...body] = readFileSync(join(root, 'data', 'train.csv'), 'utf8').trim().split('\n');
    const li = head.split(',').indexOf('pe_present_on_image');
    const csv = [head, ...body.map((l) => l.split(',').map((c, i) => (i === li ? '0' : c)).join(','))].join('\n') + '\n';
    writeFileSync(join(root, 'data', 'allneg.csv'), csv);
    const yaml = await writePipeline(root, config({ source: { csv: 'data/allneg.csv', dicomRoot: 'data/train' }, split: { val: 0 }, output: { dir: 'out/allneg' } }), 'allneg.yaml');
    const r = ctwindow(['run', yaml]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/warning: the train split has no positive row \(label column pe_present_on_image\): balance\.mode undersample writes no train slice/);
    expect(r.stderr).toMatch(/FAILED: no slice written/);
  });

  it('an empty split is warned about, on the terminal and in the manifest', async () => {
    const yaml = await writePipeline(root, config({ split: { val: 0.0001 }, balance: { mode: 'none' }, output: { dir: 'out/noval' } }), 'noval.yaml');
    const r = ctwindow(['run', yaml]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the val split is empty \(split\.val 0\.0001 of 8 exam\(s\)\)/);
    const m = JSON.parse(readFileSync(join(root, 'out', 'noval', 'manifest.json'), 'utf8'));
    expect(m.warnings).toEqual(['the val split is empty (split.val 0.0001 of 8 exam(s))']);
  });

  it('labels written as 1.0/0.0 or True/false are read, not quarantined', async () => {
    const lines = readFileSync(join(root, 'data', 'train.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const li = header.indexOf('pe_present_on_image');
    const styles = [(v: string) => `${v}.0`, (v: string) => (v === '1' ? 'True' : 'false')];
    styles.forEach((style, k) => {
      const body = lines.slice(1).map((l) => l.split(',').map((c, i) => (i === li ? style(c) : c)).join(','));
      writeFileSync(join(root, 'data', `styled${k}.csv`), [lines[0], ...body].join('\n') + '\n');
    });
    for (const k of [0, 1]) {
      const yaml = await writePipeline(root, config({ source: { csv: `data/styled${k}.csv`, dicomRoot: 'data/train' }, balance: { mode: 'none' }, output: { dir: `out/styled${k}` } }), `styled${k}.yaml`);
      const r = ctwindow(['run', yaml, '-q']);
      expect(r.status, r.stderr).toBe(0);
      const m = JSON.parse(readFileSync(join(root, 'out', `styled${k}`, 'manifest.json'), 'utf8'));
      expect(m.quarantined).toEqual([]);
      expect(m.splits.train.positives + (m.splits.val?.positives ?? 0)).toBe(ds.slices.filter((s) => s.label === 1).length);
    }
  });

  it('-q prints nothing on success', async () => {
    const yaml = await writePipeline(root, config({ output: { dir: 'out/quiet' } }), 'quiet.yaml');
    const r = ctwindow(['run', yaml, '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });
});

describe('progress', () => {
  it('counts slices written of slices expected: non-decreasing, ends at exactly 1', async () => {
    const yaml = await writePipeline(root, config({ output: { dir: 'out/progress' } }), 'progress.yaml');
    const seen: Progress[] = [];
    const s = await runPipeline(yaml, { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBe(Object.values(s.manifest.splits).reduce((n, x) => n + (x?.records ?? 0), 0));
    const written = Object.values(s.manifest.splits).reduce((n, x) => n + (x?.slices ?? 0), 0);
    expect(seen.every((p) => p.expected === written)).toBe(true); // nothing failed: expected is exact
    for (let i = 1; i < seen.length; i++) expect(seen[i].fraction).toBeGreaterThanOrEqual(seen[i - 1].fraction);
    expect(seen.at(-1)!.fraction).toBe(1);
    const mid = seen[Math.floor(seen.length / 2)];
    expect(mid.fraction).toBeCloseTo(mid.slices / written, 10);
  });
});

const PTY = `
import os, pty, sys, time, signal, select
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
deadline = time.time() + 60
sent = False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent and b'slices/s' in out:
        os.write(fd, b'\\x03')  # Ctrl-C, through the terminal
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.stdout.write('\\nEXIT %d\\n' % (os.waitstatus_to_exitcode(status)))
`;

describe('Ctrl-C in a terminal', () => {
  it('says what is committed, prints the --resume command, shows the cursor and exits 130; the resume finishes the run', async () => {
    const big = await generateDataset(join(root, 'big'), { exams: 12, slicesPerExam: 40, rows: 64, cols: 64, seed: 4 });
    expect(big.slices.length).toBe(480);
    const yaml = await writePipeline(root, config({ source: { csv: 'big/train.csv', dicomRoot: 'big/train' }, balance: { mode: 'none' }, batch: { size: 2 }, resize: [256, 256], output: { dir: 'out/ctrlc', shardBytes: 200_000 } }), 'ctrlc.yaml');
    writeFileSync(join(root, 'in_a_terminal.py'), PTY);
    const r = spawnSync(PYTHON, [join(root, 'in_a_terminal.py'), process.execPath, join(REPO, 'bin', 'ctwindow.js'), 'run', yaml], { encoding: 'utf8', timeout: 90_000 });
    const text = r.stdout;
    expect(text, r.stderr).toMatch(/EXIT 130/);
    expect(text).toMatch(/interrupted: \d+ record\(s\) \(\d+ slices\) committed in complete shards in .*out\/ctrlc/);
    expect(text).toMatch(/Continue with: ctwindow run .*ctrlc\.yaml --resume/);
    // The bar hid the cursor; the last cursor command shows it again.
    expect(text.lastIndexOf('\x1b[?25h')).toBeGreaterThan(text.lastIndexOf('\x1b[?25l'));
    expect(existsSync(join(root, 'out', 'ctrlc', 'manifest.json'))).toBe(false);
    const again = ctwindow(['run', yaml, '--resume', '-q']);
    expect(again.status, again.stderr).toBe(0);
    expect(existsSync(join(root, 'out', 'ctrlc', 'manifest.json'))).toBe(true);
  }, 120_000);
});
