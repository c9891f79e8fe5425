"""Python reader rows for `npm run bench` (scripts/bench/loader.mjs writes the datasets):
ShardLoader and iter_batches against a baseline of one np.load per slice (.npy files of the same
slices), from the page cache (one untimed pass first). Prints JSON.

    python3 loader_bench.py DATASET NPY_DIR"""
import json
import os
import sys
import time

import numpy as np

import ctwindow_shards as c


def timed(fn, reps=3):
    fn()  # warm: page cache, imports
    best = None
    for _ in range(reps):
        t0 = time.perf_counter()
        n, nbytes = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None or dt < best else best
    return {"slices": n, "bytes": nbytes, "seconds": round(best, 4), "slices_per_s": round(n / best, 1), "mb_per_s": round(nbytes / 1e6 / best, 1)}


def main(ds, npy_dir):
    files = sorted(os.path.join(npy_dir, f) for f in os.listdir(npy_dir) if f.endswith(".npy"))

    def npload():
        n = nbytes = 0
        for f in files:
            a = np.load(f)
            n += 1
            nbytes += a.nbytes
        return n, nbytes

    def batches():
        n = nbytes = 0
        for images, labels, meta in c.iter_batches(ds):
            a = np.array(images)  # its views made an array of one's own: one copy, as np.load makes
            n += a.shape[0]
            nbytes += a.nbytes
        return n, nbytes

    def loader(**kw):
        def run():
            n = nbytes = 0
            for x, y, m in c.ShardLoader(ds, batch_size=32, seed=1, **kw):
                n += x.shape[0]
                nbytes += x.numel() * x.element_size()
            return n, nbytes
        return run

    out = {
        "np_load_per_slice": timed(npload),
        "iter_batches": timed(batches),
        "ShardLoader": timed(loader()),
        "ShardLoader_NCHW_float32": timed(loader(layout="NCHW", dtype="float32")),
        "ShardLoader_2_workers": timed(loader(num_workers=2), reps=2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
