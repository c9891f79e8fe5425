/**
 * docs/training.md's snippets marked `<!-- tested: … -->` run as written (only the dataset path,
 * and for Node the package path of this checkout, are substituted): the PyTorch DDP training
 * loop with ShardLoader (2 ranks, gloo, 2 workers each, checkpoints with the loader state), the
 * numpy and ShardDataset readers, the torch_dataset loop, the custom loader, the checkpoint, and
 * the Node / tfjs reader. A test below fails when a code block in the file is not marked.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PY, PY_CWD, PY_ENV, REPO, runAsync } from './helpers/shared.js';
import { readManifest, writeSyntheticDataset } from '../src/shards/index.js';

const DOC = readFileSync(join(REPO, 'docs', 'training.md'), 'utf8');
function snippet(name: string): string {
  const m = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  if (!m) throw new Error(`docs/training.md has no snippet marked "tested: ${name}"`);
  return m[1];
}

const hasTorch = spawnSync(PY, ['-c', 'import torch, ctwindow_shards'], { encoding: 'utf8', env: PY_ENV, cwd: PY_CWD }).status === 0;
let data = '';
let total = 0;

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'ctw-docs-'));
  await writeSyntheticDataset(data, { seed: 9, records: { train: 7 }, batch: 4, hw: [8, 8], shardBytes: 4000, ragged: true });
  total = (await readManifest(data)).splits.train!.slices;
});

describe('docs/training.md, as written', () => {
  it('every python and js code block is marked as tested', () => {
    const blocks = [...DOC.matchAll(/(<!-- tested: [\w-]+ -->\n)?```(python|js|ts)\n/g)];
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks) expect(b[1], `an untested \`\`\`${b[2]} block in docs/training.md`).toBeTruthy();
  });

  it.skipIf(!hasTorch && !process.env.CI)('the PyTorch DDP loop with ShardLoader trains two epochs and checkpoints the loader state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctw-docs-ddp-'));
    const file = join(dir, 'train.py');
    writeFileSync(file, snippet('ddp'));
    const ckpt = join(dir, 'ckpt');
    const r = await runAsync(PY, [file, data, ckpt], { env: PY_ENV, cwd: dir, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const steps = Math.ceil(Math.ceil(total / 4) / 2);
    for (const rank of [0, 1]) {
      const state = JSON.parse(spawnSync(PY, ['-c', `import json, sys, torch; print(json.dumps(torch.load(sys.argv[1])["loader"]))`, `${ckpt}.${rank}`], { encoding: 'utf8', env: PY_ENV, cwd: dir }).stdout);
      expect(state).toMatchObject({ epoch: 1, batches_seen: steps, world_size: 2, batch_size: 4 });
    }
  }, 240_000);

  for (const name of ['iter-batches', 'shard-dataset', 'torch-dataset', 'custom-loader', 'checkpoint']) {
    it.skipIf(!hasTorch && !process.env.CI)(`the Python snippet "${name}" runs`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `ctw-docs-${name}-`));
      const file = join(dir, 'snippet.py');
      writeFileSync(file, snippet(name).replaceAll('"out/"', JSON.stringify(data)));
      const r = await runAsync(PY, [file], { env: PY_ENV, cwd: dir, timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
    }, 120_000);
  }

  it('the Node / tfjs snippet reads every slice', () => {
    const code = snippet('node')
      .replaceAll("'ctwindow/dist/", `'${pathToFileURL(join(REPO, 'dist')).href}/`)
      .replaceAll("'out/'", JSON.stringify(data));
    // Beside node_modules, so that the snippet's bare imports resolve as in a project using ctwindow.
    const dir = join(REPO, 'node_modules', '.ctw-docs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `training-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ slices: total, seen: total });
    } finally {
      rmSync(file, { force: true });
    }
  });
});
