"""ShardLoader checks (run by test/python-loader.test.ts): exact resume for num_workers 0/2/3 at
stop points that are not multiples of num_workers, batch sizes that do not divide the data,
reshuffle with persistent workers, len(), NCHW contiguous float, argument validation, ranks.
Every check is an assert; the summary printed last is what the TypeScript side checks again."""
import json
import sys
import warnings

import numpy as np
import torch

import ctwindow_shards as c

warnings.filterwarnings("ignore", message=".*worker processes in total.*")
d = sys.argv[1]
BS = 5  # the written batches hold 4 slices (the last 3): 5 divides neither


def epoch_sops(loader, stop=None):
    out = []
    for i, (x, y, m) in enumerate(loader):
        assert x.shape[0] == y.shape[0] == len(m["SOPInstanceUID"]), (x.shape, y.shape)
        assert m["sop"] == m["SOPInstanceUID"] and m["study"] == m["StudyInstanceUID"]
        out.append(list(m["SOPInstanceUID"]))
        if stop is not None and i + 1 == stop:
            break
    return out


summary = {}
ref_loader = c.ShardLoader(d, batch_size=BS, seed=7, epoch=1)
ref = epoch_sops(ref_loader)
n_slices = sum(len(b) for b in ref)
summary["slices"], summary["batches"] = n_slices, len(ref)
assert len(ref_loader) == len(ref)
assert len({s for b in ref for s in b}) == n_slices, "every slice once in an epoch"
assert [len(b) for b in ref[:-1]] == [BS] * (len(ref) - 1) and 0 < len(ref[-1]) <= BS

# The order does not depend on num_workers.
for nw in (2, 3):
    assert epoch_sops(c.ShardLoader(d, batch_size=BS, seed=7, epoch=1, num_workers=nw)) == ref, f"num_workers={nw}"

# Exact resume: stop after k steps (not multiples of num_workers), resume with other worker counts.
resumes = 0
for nw in (0, 2, 3):
    for k in (1, 4, 7):
        first = c.ShardLoader(d, batch_size=BS, seed=7, epoch=1, num_workers=nw)
        head = epoch_sops(first, stop=k)
        state = first.state_dict()
        assert state["batches_seen"] == k and state["epoch"] == 1, state
        for nw2 in (0, 3):
            again = c.ShardLoader(d, batch_size=BS, seed=7, num_workers=nw2)
            again.load_state_dict(json.loads(json.dumps(state)))  # a checkpoint survives JSON
            again.set_epoch(1)  # the training loop's own call keeps the loaded position
            tail = epoch_sops(again)
            assert head + tail == ref, f"resume num_workers {nw}->{nw2} after {k}"
            assert again.state_dict()["batches_seen"] == len(ref)
            resumes += 1
summary["resumes"] = resumes

# Another epoch, another order; persistent workers reshuffle too (set_epoch reaches them).
e2 = epoch_sops(c.ShardLoader(d, batch_size=BS, seed=7, epoch=2))
assert e2 != ref and sorted(s for b in e2 for s in b) == sorted(s for b in ref for s in b)
pl = c.ShardLoader(d, batch_size=BS, seed=7, num_workers=2, persistent_workers=True)
seen = []
for e in (1, 2, 1):
    pl.set_epoch(e)
    seen.append(epoch_sops(pl))
assert seen == [ref, e2, ref], "persistent workers follow set_epoch"
summary["persistent"] = True

# NCHW float32, contiguous, values = uint8 / 255 of the written bytes.
written = {}
for images, labels, meta in c.iter_batches(d):
    for i, s in enumerate(meta["sop"]):
        written[s] = (images[i], int(labels[i]))
fl = c.ShardLoader(d, batch_size=BS, seed=7, epoch=1, layout="NCHW", dtype="float32", num_workers=2)
for x, y, m in fl:
    assert x.dtype == torch.float32 and x.is_contiguous() and x.shape[1:] == (3, 3, 2), (x.dtype, x.shape)
    for i, s in enumerate(m["SOPInstanceUID"]):
        img, lab = written[s]
        want = np.transpose(img, (2, 0, 1)).astype(np.float32) * np.float32(1 / 255)
        assert np.array_equal(x[i].numpy(), want), s
        assert int(y[i]) == lab
summary["nchw"] = True

# Ranks: equal steps, every slice once across ranks (padding marked), for world sizes 2 and 3.
for world in (2, 3):
    got, pads, steps = [], 0, set()
    for r in range(world):
        L = c.ShardLoader(d, batch_size=BS, seed=7, epoch=1, rank=r, world_size=world, num_workers=2)
        n = 0
        for x, y, m in L:
            n += 1
            if m["padded"]:
                pads += 1
            else:
                got.extend(m["SOPInstanceUID"])
        assert n == len(L)
        steps.add(n)
    assert len(steps) == 1, f"world {world}: steps {steps}"
    assert sorted(got) == sorted(s for b in ref for s in b), f"world {world}"
summary["ranks"] = True

# Arguments are checked here, not later in a worker.
errors = []
for kw, exc in (({"batch_size": 4, "num_worker": 2}, TypeError), ({"batch_size": 0}, ValueError), ({"batch_size": 4, "layout": "CHW"}, ValueError),
                ({"batch_size": 4, "dtype": "int32"}, ValueError), ({"batch_size": 4, "persistent_workers": True}, ValueError), ({}, TypeError)):
    try:
        c.ShardLoader(d, **kw)
    except exc as e:
        errors.append(str(e))
    else:
        raise AssertionError(f"accepted {kw}")
try:
    c.ShardLoader(d, batch_size=4).load_state_dict({"epoch": 0, "batches_seen": 2, "batch_size": 8})
except ValueError as e:
    errors.append(str(e))
else:
    raise AssertionError("a state of another batch size was accepted")
summary["errors"] = errors

# The one-time check: intact → no problem; one flipped byte → the shard is named.
import os, shutil, tempfile
assert c.verify_dataset(d) == []
damaged = os.path.join(tempfile.mkdtemp(), "damaged")
shutil.copytree(d, damaged)
first = c.read_manifest(damaged)["splits"]["train"]["shards"][0]["file"]
with open(os.path.join(damaged, first), "r+b") as f:
    f.seek(40)
    b = f.read(1)
    f.seek(40)
    f.write(bytes([b[0] ^ 1]))
problems = c.verify_dataset(damaged)
assert len(problems) == 1 and problems[0].startswith(first + ": crc32c"), problems
summary["verify"] = problems[0]
print(json.dumps(summary))
