"""A real 2-process DDP job (gloo, torch.multiprocessing) on ShardLoader with 2 DataLoader workers
per rank, run by test/python-loader.test.ts:

    ddp_resume.py DATASET OUT full            one uninterrupted epoch per rank
    ddp_resume.py DATASET OUT kill STEP       rank 0 kills itself (SIGKILL) after checkpointing STEP
    ddp_resume.py DATASET OUT resume          both ranks continue from their checkpoints

Each step all-reduces (as a gradient would), then checkpoints the loader state with the slices
seen so far (atomically). Per rank, OUT/<mode>-<rank>.json holds the epoch's slices in order."""
import json
import os
import signal
import sys
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import ctwindow_shards as c

warnings.filterwarnings("ignore", message=".*worker processes in total.*")


def run(rank, world, data, out, mode, kill_at):
    dist.init_process_group("gloo", init_method="file://" + os.path.join(out, f"init-{mode}"), rank=rank, world_size=world)
    loader = c.ShardLoader(data, batch_size=3, num_workers=2, seed=11)
    ckpt = os.path.join(out, f"ckpt-{rank}.json")
    seen, steps = [], 0
    if mode == "resume":
        with open(ckpt) as f:
            saved = json.load(f)
        loader.load_state_dict(saved["loader"])
        seen, steps = saved["seen"], saved["loader"]["batches_seen"]
    loader.set_epoch(0)
    for images, labels, meta in loader:
        total = torch.tensor([float(images.float().sum())])
        dist.all_reduce(total)  # the ranks move in step, as in training
        steps += 1
        seen.extend([s, bool(meta["padded"])] for s in meta["SOPInstanceUID"])
        tmp = ckpt + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"loader": loader.state_dict(), "seen": seen}, f)
        os.replace(tmp, ckpt)
        if mode == "kill" and rank == 0 and steps == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    with open(os.path.join(out, f"{mode}-{rank}.json"), "w") as f:
        json.dump({"seen": seen, "steps": steps, "len": len(loader)}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    data, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else -1
    mp.spawn(run, args=(2, data, out, mode, kill_at), nprocs=2)
