import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY, PY_CWD, PY_ENV } from './helpers/shared.js';
import { readManifest, writeSyntheticDataset } from '../src/shards/index.js';

const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8', env: PY_ENV }).status === 0;
if (!hasTorch) console.warn('[ctwindow tests] torch not importable by /usr/bin/python3 (apt-get install python3-torch): PyTorch adapter test skipped');

describe.skipIf(!hasTorch && !process.env.CI)('PyTorch IterableDataset adapter', () => {
  it('DataLoader workers × torch.distributed ranks (gloo, 2 processes) cover every slice once, equal batches per rank', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctw-torch-'));
    await writeSyntheticDataset(dir, { seed: 41, records: { train: 7 }, batch: 3, hw: [2, 2], shardBytes: 600, ragged: true });
    const total = (await readManifest(dir)).splits.train!.slices;
    const code = `
import json, os, sys, tempfile
import torch, torch.distributed as dist, torch.multiprocessing as mp
from torch.utils.data import DataLoader
import ctwindow_shards as c

def run(rank, world, init, out):
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    ds = c.torch_dataset(${JSON.stringify(dir)}, seed=3, granularity="records")
    ds.set_epoch(1)
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    sops, pads, batches = [], 0, 0
    for images, labels, meta in loader:
        assert images.dtype == torch.uint8 and tuple(images.shape[1:]) == (2, 2, 3), images.shape
        batches += 1
        for s, p in zip(meta["sop"], meta["padded"].tolist()):
            if p: pads += 1
            else: sops.append(s)
    with open(os.path.join(out, f"{rank}.json"), "w") as f:
        json.dump({"sops": sops, "pads": pads, "batches": batches}, f)
    dist.destroy_process_group()

if __name__ == "__main__":
    out = tempfile.mkdtemp()
    init = "file://" + os.path.join(out, "init")
    mp.spawn(run, args=(2, init, out), nprocs=2)
    print(json.dumps([json.load(open(os.path.join(out, f"{r}.json"))) for r in range(2)]))
`;
    // A file, not -c: torch.multiprocessing.spawn re-imports __main__ in the children.
    const script = join(dir, 'ddp_check.py');
    await writeFile(script, code);
    const r = spawnSync(PY, [script], { encoding: 'utf8', timeout: 120_000, env: PY_ENV, cwd: PY_CWD });
    expect(r.status, r.stderr).toBe(0);
    const ranks = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const sops = ranks.flatMap((x: { sops: string[] }) => x.sops);
    expect(new Set(sops).size).toBe(total);
    expect(sops.length).toBe(total);
    const pads = ranks.reduce((a: number, x: { pads: number }) => a + x.pads, 0);
    expect(pads).toBe(Math.ceil(total / 4) * 4 - total);
    expect(ranks[0].batches).toBe(ranks[1].batches);
  }, 120_000);
});
