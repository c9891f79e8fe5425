"""ShardLoader: a PyTorch loader over a ctwindow dataset folder, exact at any step.

    loader = ShardLoader("out/", batch_size=32, num_workers=4, seed=0, layout="NCHW", dtype="float32")
    for epoch in range(start_epoch, 10):
        loader.set_epoch(epoch)
        for images, labels, meta in loader:
            ...
        ckpt = {"loader": loader.state_dict(), ...}   # mid-epoch too
    loader.load_state_dict(ckpt["loader"])            # continues with the next batch, exactly

The epoch's order is a pure function of (dataset, seed, epoch): the written records (balanced
batches) are permuted, their slices laid end to end, and cut into global batches of
`batch_size`; rank r of W takes global batches r, r + W, r + 2W, … (every rank the same number
of steps: without drop_last the last ones wrap to the epoch's first batches and are marked
`meta["padded"]`). With `batch_size` equal to the written batch size every batch is one written
record, so the written class balance is kept. DataLoader workers take this rank's batches round
robin (batch i → worker i mod num_workers), which is the order in which a DataLoader returns
them, so `state_dict()` (batches consumed) is exact for any `num_workers` and a resumed loader,
with any `num_workers`, continues with the next batch. Epoch and start reach persistent
workers through shared memory, so they reshuffle every epoch.

Reads are memory-mapped: a batch's images are copied once, from the page cache into the array
handed over (converted to `dtype` and laid out as `layout` in that one copy). Frame CRCs are not
checked on this path; `verify_dataset()` checks every digest once.
"""
import os

import numpy as np

from ._core import ShardError, _open_in_folder, _plain_name, hash_seed, load_split, permutation
from ._lazy import lazy_classes
from ._mapped import map_shard, record_at

LAYOUTS = ("NHWC", "NCHW")
OUT_DTYPES = (None, "uint8", "float16", "float32")
# meta keys: the RSNA column names; the short names stay as aliases for this format version.
META_ALIASES = {"study": "StudyInstanceUID", "series": "SeriesInstanceUID", "sop": "SOPInstanceUID"}


# ---------------------------------------------------------------------------------------------
# The epoch plan


class EpochPlan:
    """Where each of this rank's batches comes from: global slice positions in the epoch order."""

    def __init__(self, sizes, seed, epoch, shuffle, batch_size, drop_last, rank, world_size):
        n = len(sizes)
        self.order = np.asarray(permutation(n, hash_seed(seed, epoch, 0xB47C)) if shuffle else range(n), dtype=np.int64)
        self.ends = np.cumsum(np.asarray(sizes, dtype=np.int64)[self.order]) if n else np.zeros(0, np.int64)
        total = int(self.ends[-1]) if n else 0
        self.total, self.batch_size = total, batch_size
        full = total // batch_size
        self.global_batches = full if (drop_last or total % batch_size == 0) else full + 1
        g, w = self.global_batches, world_size
        self.steps = g // w if drop_last else (g + w - 1) // w if g else 0
        self.rank, self.world_size = rank, world_size

    def batch(self, i):
        """(global slice positions [a, b), padded) of this rank's i-th batch."""
        gb = i * self.world_size + self.rank
        padded = gb >= self.global_batches
        if padded:
            gb %= self.global_batches
        a = gb * self.batch_size
        return a, min(a + self.batch_size, self.total), padded

    def pieces(self, a, b):
        """(position in the record order, first slice, slice count) runs covering [a, b)."""
        k = int(np.searchsorted(self.ends, a, side="right"))
        while a < b:
            first = int(self.ends[k - 1]) if k else 0
            take = min(b, int(self.ends[k])) - a
            yield k, a - first, take
            a += take
            k += 1


def _batches_dataset_class():
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    class _ShardBatches(IterableDataset):
        """This rank's batches; worker w of W takes batches start + w, start + w + W, …"""

        def __init__(self, loader):
            super().__init__()
            self.outdir, self.split = loader.outdir, loader.split
            self.batch_size, self.drop_last, self.shuffle, self.seed = loader.batch_size, loader.drop_last, loader.shuffle, loader.seed
            self.rank, self.world_size = loader.rank, loader.world_size
            self.layout, self.dtype, self.transform = loader.layout, loader.dtype, loader.transform
            self.flat, self.sizes = loader._flat, loader._sizes
            self.scale = loader._scale
            # Epoch and first batch: shared memory, so persistent workers see set_epoch/load_state_dict.
            self.shared = torch.multiprocessing.Array("q", 2, lock=False)

        def __iter__(self):
            info = get_worker_info()
            wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
            epoch, start = int(self.shared[0]), int(self.shared[1])
            plan = EpochPlan(self.sizes, self.seed, epoch, self.shuffle, self.batch_size, self.drop_last, self.rank, self.world_size)
            maps = {}
            # The maps close when the last view on them goes (a batch's images are copies).
            for i in range(start + wid, plan.steps, nw):
                yield self._batch(plan, i, maps)

        def _mapped(self, maps, file):
            if file not in maps:
                maps[file] = map_shard(self.outdir, file)
            return maps[file]

        def _batch(self, plan, i, maps):
            a, b, padded = plan.batch(i)
            runs = list(plan.pieces(a, b))
            recs = []
            for k, s0, n in runs:
                file, entry = self.flat[int(plan.order[k])]
                recs.append((record_at(self._mapped(maps, file), entry, f"{file} record {entry['index']}"), s0, n))
            _, h, w, c = recs[0][0]["_images"].shape
            src_dt = recs[0][0]["_images"].dtype
            out_dt = np.dtype(self.dtype) if self.dtype else src_dt
            shape = (b - a, c, h, w) if self.layout == "NCHW" else (b - a, h, w, c)
            out = np.empty(shape, dtype=out_dt)
            labels = np.empty(b - a, dtype=np.int64)
            meta = {"StudyInstanceUID": [], "SeriesInstanceUID": [], "SOPInstanceUID": [], "record": [], "slot": []}
            extra = []  # per slice, its record's `extra` (e.g. slice context: the neighbours' SOPs)
            o = 0
            for rec, s0, n in recs:
                view = rec["_images"][s0 : s0 + n]
                if view.shape[1:] != (h, w, c) or view.dtype != src_dt:
                    raise ShardError(f"record {rec['index']}: images {list(view.shape[1:])} {view.dtype}, the batch has {[h, w, c]} {src_dt}")
                src = view.transpose(0, 3, 1, 2) if self.layout == "NCHW" else view
                dst = out[o : o + n]
                # The one copy: page cache → the array handed over, converted on the way.
                if self.scale is not None and src_dt == np.uint8 and out_dt.kind == "f":
                    np.multiply(src, out_dt.type(self.scale), out=dst, casting="unsafe")
                else:
                    np.copyto(dst, src, casting="unsafe")
                labels[o : o + n] = rec["labels"][s0 : s0 + n]
                for key, alias in META_ALIASES.items():
                    meta[alias].extend(rec[key][s0 : s0 + n])
                meta["record"].extend([rec["index"]] * n)
                extra.extend([rec.get("extra")] * n)
                meta["slot"].extend(range(s0, s0 + n))
                o += n
            for key, alias in META_ALIASES.items():
                meta[key] = meta[alias]  # short aliases, kept for format version 2
            if any(x is not None for x in extra):
                meta["extra"] = extra
            meta["padded"] = padded
            meta["batch"] = i
            item = (torch.from_numpy(out), torch.from_numpy(labels), meta)
            return self.transform(*item) if self.transform else item

    return _ShardBatches


__getattr__ = lazy_classes(__name__, globals(), {"_ShardBatches": _batches_dataset_class})


class ShardLoader:
    """A PyTorch loader over a ctwindow dataset folder: (images, labels, meta) torch batches.

    Rank and world size come from torch.distributed when it is initialised (create the loader
    after init_process_group), or from `rank` / `world_size`. `dtype`: None keeps the shard's
    element type; "float32" / "float16" convert (uint8 shards scaled to [0, 1]). `layout`:
    "NHWC" as written, or "NCHW" (contiguous). `transform(images, labels, meta)` runs in the
    workers. Unknown keyword arguments are refused here, not later inside a worker.
    """

    def __init__(self, outdir, split="train", *, batch_size, num_workers=0, seed=0, epoch=0, shuffle=True, drop_last=False,
                 layout="NHWC", dtype=None, persistent_workers=False, pin_memory=False, prefetch_factor=2, transform=None,
                 rank=None, world_size=None, scale_uint8=True):
        import torch

        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        if dtype not in OUT_DTYPES:
            raise ValueError(f"dtype must be one of {OUT_DTYPES}, got {dtype!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers needs num_workers > 0")
        if transform is not None and not callable(transform):
            raise ValueError("transform must be callable (images, labels, meta) -> (images, labels, meta)")
        dist = torch.distributed
        live = dist.is_available() and dist.is_initialized()
        self.rank = rank if rank is not None else (dist.get_rank() if live else 0)
        self.world_size = world_size if world_size is not None else (dist.get_world_size() if live else 1)
        if not (isinstance(self.world_size, int) and self.world_size >= 1 and isinstance(self.rank, int) and 0 <= self.rank < self.world_size):
            raise ValueError(f"rank must be in [0, world_size), got rank={self.rank!r}, world_size={self.world_size!r}")
        self.outdir, self.split = outdir, split
        self.batch_size, self.num_workers, self.seed, self.shuffle, self.drop_last = batch_size, num_workers, int(seed), bool(shuffle), bool(drop_last)
        self.layout, self.dtype, self.transform = layout, dtype, transform
        self.persistent_workers, self.pin_memory, self.prefetch_factor = persistent_workers, pin_memory, prefetch_factor
        self.manifest, indexes = load_split(outdir, split)
        self._flat = [(idx["file"], e) for idx in indexes for e in idx["entries"]]
        self._sizes = [e["slices"] for _, e in self._flat]
        self._scale = (1.0 / 255.0) if scale_uint8 else None
        self._epoch, self._start, self._seen = int(epoch), 0, 0
        self._dataset = __getattr__("_ShardBatches")(self)
        self._loader = None

    def _plan(self):
        return EpochPlan(self._sizes, self.seed, self._epoch, self.shuffle, self.batch_size, self.drop_last, self.rank, self.world_size)

    def __len__(self):
        """Batches of this rank in one epoch (the same on every rank)."""
        return self._plan().steps

    @property
    def epoch(self):
        return self._epoch

    def set_epoch(self, epoch):
        """The next iteration is epoch `epoch`; a loaded state of that epoch is kept (its position)."""
        if int(epoch) != self._epoch:
            self._epoch, self._start = int(epoch), 0
        self._seen = self._start

    def state_dict(self):
        """Where this rank is: the next batch of the epoch. Exact at any step, for any num_workers."""
        return {"epoch": self._epoch, "seed": self.seed, "batches_seen": self._seen, "batch_size": self.batch_size,
                "world_size": self.world_size, "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state):
        for k in ("seed", "batch_size", "world_size", "shuffle", "drop_last"):
            if k in state and state[k] != getattr(self, k):
                raise ValueError(f"load_state_dict: the state has {k}={state[k]!r}, this loader {getattr(self, k)!r}; resume with the same settings")
        self._epoch, self._start = int(state["epoch"]), int(state["batches_seen"])
        self._seen = self._start

    def __iter__(self):
        from torch.utils.data import DataLoader

        self._dataset.shared[0], self._dataset.shared[1] = self._epoch, self._start
        self._seen = self._start
        if self._loader is None or not self.persistent_workers:
            kw = {"prefetch_factor": self.prefetch_factor, "persistent_workers": self.persistent_workers} if self.num_workers else {}
            self._loader = DataLoader(self._dataset, batch_size=None, num_workers=self.num_workers, pin_memory=self.pin_memory, **kw)
        for item in self._loader:
            self._seen += 1
            yield item
        # A finished epoch: the next one starts at its beginning (set_epoch chooses which).
        self._start = 0


def verify_dataset(outdir, split="train"):
    """Checks every shard's digests once (crc32c, sha256 where recorded); a list of problems, empty when intact."""
    from ._core import _digest_mismatch

    _, indexes = load_split(outdir, split)
    problems = []
    for idx in indexes:
        p = _digest_mismatch(os.path.join(outdir, _plain_name(idx["file"], outdir)), idx)
        if p:
            problems.append(f"{idx['file']}: {p}")
    return problems
