/**
 * Dataset folders from elsewhere are untrusted (issue 18): a manifest or index that names a file
 * outside the folder, a shard that is a symlink to /dev/zero or a FIFO, an index entry whose
 * length is 4,000,000,000 — the Node readers, `verify`, `inspect`, `merge` and the Python reader
 * refuse each with a normal error naming the file and field: no abort, no hang (every child has
 * a timeout), nothing outside the folder read or linked (a canary's link count and bytes are
 * checked). `merge` also refuses a folder given twice, a copy of one, and different configs.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeDatasets, readRecords, verifyDataset, writeSyntheticDataset } from '../src/shards/index.js';
import { ctwindow, PY, PY_CWD, PY_ENV } from './helpers/shared.js';

const OPTS = { seed: 5, records: { train: 4 }, batch: 2, hw: [4, 4] as [number, number], shardBytes: 800 };
const CANARY_TEXT = 'canary: must never be read, linked or changed\n';

let root = '';
let canary = '';
let pristine = '';

/** A fresh copy of the pristine dataset, damaged by `damage`. */
function crafted(name: string, damage: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  damage(dir);
  return dir;
}
const editJson = (path: string, edit: (j: any) => void) => {
  const j = JSON.parse(readFileSync(path, 'utf8'));
  edit(j);
  writeFileSync(path, JSON.stringify(j));
};

async function nodeRead(dir: string): Promise<string> {
  try {
    for await (const r of readRecords(dir)) void r;
    return 'read';
  } catch (e) {
    return (e as Error).message;
  }
}

function pyRead(dir: string): { status: number | null; out: string } {
  const code = `import sys
import ctwindow_shards as c
try:
    for b in c.iter_batches(sys.argv[1], verify=False): pass
    print("read")
except c.ShardError as e:
    print("refused:", e)
`;
  const r = spawnSync(PY, ['-c', code, dir], { encoding: 'utf8', timeout: 20_000, env: PY_ENV, cwd: PY_CWD });
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

function expectCanaryUntouched(): void {
  expect(statSync(canary).nlink).toBe(1);
  expect(readFileSync(canary, 'utf8')).toBe(CANARY_TEXT);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ctw-hostile-folders-'));
  canary = join(root, 'canary.txt');
  writeFileSync(canary, CANARY_TEXT);
  pristine = join(root, 'pristine');
  await writeSyntheticDataset(pristine, OPTS);
});

describe('a dataset folder is untrusted data', () => {
  it('a manifest naming a file outside the folder is refused by every reader, verify, inspect and merge', async () => {
    const dir = crafted('escape', (d) => editJson(join(d, 'manifest.json'), (m) => (m.splits.train.shards[0].file = '../canary.txt')));
    const why = /splits\.train\.shards\[0\]\.file: "\.\.\/canary\.txt" is not a plain file name inside the dataset folder/;
    expect(await nodeRead(dir)).toMatch(why);
    const py = pyRead(dir);
    expect(py.status).toBe(0);
    expect(py.out).toMatch(/^refused: .*"\.\.\/canary\.txt" is not a plain file name/);
    const v = ctwindow(['verify', dir], { timeout: 20_000 });
    expect(v.status).toBe(1);
    expect(v.stdout + v.stderr).toMatch(why);
    const i = ctwindow(['inspect', dir], { timeout: 20_000 });
    expect(i.status).toBe(1);
    expect(i.stderr).toMatch(why);
    const out = join(root, 'escape-merged');
    const m = ctwindow(['merge', dir, '--out', out], { timeout: 20_000 });
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(why);
    expect(existsSync(join(out, 'train-00000.ctws'))).toBe(false);
    expectCanaryUntouched();
  });

  it('an index naming another shard file outside the folder is refused', async () => {
    const dir = crafted('index-escape', (d) => editJson(join(d, 'train-00000.idx.json'), (j) => (j.file = '../../canary.txt')));
    expect(await nodeRead(dir)).toMatch(/field "file": "\.\.\/\.\.\/canary\.txt" is not a plain file name/);
    expect(pyRead(dir).out).toMatch(/^refused: .*is not a plain file name/);
    expectCanaryUntouched();
  });

  it('a shard that is a symlink (to /dev/zero, or to a file outside) is not followed', async () => {
    for (const target of ['/dev/zero', canary]) {
      const dir = crafted(`link-${target === canary ? 'canary' : 'zero'}`, (d) => {
        unlinkSync(join(d, 'train-00000.ctws'));
        symlinkSync(target, join(d, 'train-00000.ctws'));
      });
      expect(await nodeRead(dir)).toMatch(/train-00000\.ctws: a symbolic link/);
      expect(pyRead(dir).out).toMatch(/^refused: .*train-00000\.ctws: a symbolic link/);
      const problems = await verifyDataset(dir);
      expect(problems.map((p) => p.message).join('\n')).toMatch(/a symbolic link/);
      const out = join(root, `link-merged-${problems.length}-${target.length}`);
      await expect(mergeDatasets([dir], out)).rejects.toThrow(/a symbolic link/);
      expectCanaryUntouched();
    }
  });

  it('a shard that is a FIFO is refused without waiting for a writer', async () => {
    const dir = crafted('fifo', (d) => {
      unlinkSync(join(d, 'train-00000.ctws'));
      execFileSync('mkfifo', [join(d, 'train-00000.ctws')]);
    });
    expect(await nodeRead(dir)).toMatch(/train-00000\.ctws: a FIFO \(named pipe\), not a regular file/);
    expect(pyRead(dir).out).toMatch(/^refused: .*a FIFO \(named pipe\), not a regular file/);
    const v = ctwindow(['verify', dir], { timeout: 20_000 });
    expect(v.status).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/FIFO/);
  });

  it('an index entry of 4,000,000,000 bytes is refused before anything is allocated', async () => {
    const dir = crafted('huge-length', (d) => editJson(join(d, 'train-00000.idx.json'), (j) => (j.entries[0].length = 4_000_000_000)));
    expect(await nodeRead(dir)).toMatch(/entries\[0\] \(offset 0, length 4000000000\) ends past the shard's \d+ bytes/);
    expect(pyRead(dir).out).toMatch(/^refused: .*entries\[0\] \(offset 0, length 4000000000\) ends past/);
    const r = ctwindow(['verify', dir], { timeout: 20_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/ends past the shard/);
  });

  it('an index that claims more bytes than the shard holds fails on the read, not in the allocator', async () => {
    // Consistent index and manifest (both say 10 GB), a 1 KB file: the reader checks the file's real size.
    const dir = crafted('inflated', (d) => {
      editJson(join(d, 'train-00000.idx.json'), (j) => {
        j.bytes = 10e9;
        j.entries[1].length = 5e9;
      });
      editJson(join(d, 'manifest.json'), (m) => (m.splits.train.shards[0].bytes = 10e9));
    });
    expect(await nodeRead(dir)).toMatch(/train-00000\.ctws record 1: the index places it at bytes \d+–\d+, the shard has \d+ bytes/);
    expect(pyRead(dir).out).toMatch(/^refused: .*record 1: the index places it at bytes/);
    const v = ctwindow(['verify', dir], { timeout: 20_000 });
    expect(v.status).toBe(1);
  });
});

describe('merge refuses what would silently duplicate or mix records', () => {
  it('the same folder twice, a copy of it, and a dataset of another config', async () => {
    const out = join(root, 'm1');
    await expect(mergeDatasets([pristine, `${pristine}/`], out)).rejects.toThrow(`${pristine}/ and ${pristine} are the same folder`);
    const copy = join(root, 'copy');
    cpSync(pristine, copy, { recursive: true });
    await expect(mergeDatasets([pristine, copy], out)).rejects.toThrow(/hold the same shard \(train-00000\.ctws: \d+ bytes, crc32c [0-9a-f]{8}\): the same partition given twice/);
    const other = join(root, 'other');
    await writeSyntheticDataset(other, { ...OPTS, seed: 6 });
    await expect(mergeDatasets([pristine, other], out)).rejects.toThrow(`${other} was made with a different config`);
    expect(existsSync(out)).toBe(false);
    rmSync(copy, { recursive: true });
  });
});
