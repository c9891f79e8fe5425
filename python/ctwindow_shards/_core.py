"""Read ctwindow shards (formats 1 and 2, docs/shard-format.md) with only numpy + msgpack.

Checking a format-2 shard's digest (verify=True) is fast with the `crc32c` module (Debian
python3-crc32c, or `pip install crc32c`); without it, a pure-Python CRC-32C is used (slow).

    from ctwindow_shards import iter_batches, ShardDataset

    for images, labels, meta in iter_batches("out/", split="train"):
        ...  # images: ndarray [B,H,W,C] of the shard dtype; labels: ndarray [B]; meta: dict of UIDs

    ds = ShardDataset("out/", rank=0, world_size=8, worker_id=0, num_workers=4, seed=1, epoch=0)
    for image, label, meta in ds:  # granularity='records' (per slice)
        ...
    state = ds.state_dict()        # {epoch, seed, samples_seen, world_size}

The partition rule, hash and generator are the same as src/shards/partition.ts: the same
seed/epoch/rank/worker gives the same order in Node and Python.

For training with PyTorch, use ShardLoader (loader.py): exact resume with DataLoader workers.

Command line (used by tests and the read benchmark):
    python3 -m ctwindow_shards dump OUTDIR [--split train]          JSON lines, one per record, values included
    python3 -m ctwindow_shards order OUTDIR --world-size W --num-workers K --rank R --worker I
                                       [--seed S] [--epoch E] [--granularity records|batches]
                                       [--no-shuffle] [--drop-last] [--samples-seen N] [--limit N]
    python3 -m ctwindow_shards bench OUTDIR [--split train]         records/s and MB/s as JSON
"""
import errno
import hashlib
import json
import os
import stat
import struct
import sys
import time

import msgpack
import numpy as np

from ._lazy import lazy_classes

FORMAT_VERSIONS = (1, 2)  # manifest/index layouts read here (2: crc32c per shard, sha256 optional)
PAYLOAD_VERSION = 1  # the record payload's "v"
FRAME_OVERHEAD = 16
MASK_DELTA = 0xA282EAD8
DTYPES = {"uint8": np.dtype("u1"), "float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
M32 = 0xFFFFFFFF

# ---------------------------------------------------------------------------------------------
# crc32c (Castagnoli). The `crc32c` module (hardware CRC, ~1.3 GB/s) when installed; else a
# table-driven pure-Python fallback, since the standard library has only CRC-32 (zlib). It is
# used for the 8 length bytes of every frame, for payloads with verify="full", and for the
# whole shard with verify=True on a format-2 folder (format 1: sha256, hashlib).
try:
    import crc32c as _crc32c_mod

    _fast_crc32c = getattr(_crc32c_mod, "crc32c", None)
except ImportError:  # pragma: no cover - depends on the machine
    _fast_crc32c = None

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data, value=0):
    """CRC-32C of data, continuing from value (the CRC of what came before)."""
    if _fast_crc32c is not None:
        return _fast_crc32c(data, value)
    crc = value ^ 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & M32) + MASK_DELTA) & M32


class ShardError(Exception):
    """A damaged or inconsistent shard; the message names the shard and the record."""


# ---------------------------------------------------------------------------------------------
# Manifest and indexes


MAX_JSON_BYTES = 256 << 20  # a manifest or index larger than this is refused, not parsed


def _is_s3(outdir):
    return isinstance(outdir, str) and outdir.startswith("s3://")


def _is_http(outdir):
    return isinstance(outdir, str) and (outdir.startswith("https://") or outdir.startswith("http://"))


def _plain_name(name, where):
    """name when it is a plain file name inside the folder (no directory part, not . or ..)."""
    ok = isinstance(name, str) and 0 < len(name.encode("utf-8", "surrogatepass")) <= 255 and name not in (".", "..") and not any(c in name for c in "/\\\0")
    if not ok:
        raise ShardError(f"{where}: {json.dumps(name)} is not a plain file name inside the dataset folder")
    return name


def _open_in_folder(outdir, name, where=None):
    """Opens outdir/name for binary reading: a regular file, not through a symlink, never blocking
    (a dataset folder is untrusted data: a FIFO must not hang the reader nor a device fill memory);
    an s3://bucket/prefix folder: the object, read by ranged GETs (boto3)."""
    _plain_name(name, where or outdir)
    if _is_s3(outdir):
        from ._s3 import open_object

        return open_object(outdir, name)
    if _is_http(outdir):
        from ._http import open_url

        return open_url(outdir, name)
    path = os.path.join(outdir, name)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ShardError(f"{path}: file not found") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ShardError(f"{path}: a symbolic link; a dataset folder's files are read only when they are regular files inside it") from None
        raise ShardError(f"{path}: cannot open ({e.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file"
        raise ShardError(f"{path}: {kind}, not a regular file")
    return os.fdopen(fd, "rb"), st.st_size


def _read_json(outdir, name, where=None):
    f, size = _open_in_folder(outdir, name, where)
    with f:
        if size > MAX_JSON_BYTES:
            raise ShardError(f"{os.path.join(outdir, name)}: {size} bytes, more than the {MAX_JSON_BYTES} expected")
        try:
            return json.loads(f.read(size).decode("utf-8"))
        except ValueError as e:
            raise ShardError(f"{os.path.join(outdir, name)}: not valid JSON ({e})") from None


def _count(d, k, where):
    v = d.get(k) if isinstance(d, dict) else None
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ShardError(f"{where}.{k} must be a non-negative integer, got {json.dumps(v)}")
    return v


def read_manifest(outdir):
    path = os.path.join(outdir, "manifest.json")
    if not (_is_s3(outdir) or _is_http(outdir)) and not os.path.lexists(path):
        raise ShardError(f"{path}: no manifest.json (not a ctwindow dataset, or its run did not finish)")
    m = _read_json(outdir, "manifest.json")
    if not isinstance(m, dict) or m.get("formatVersion") not in FORMAT_VERSIONS:
        raise ShardError(f"{path}: formatVersion {m.get('formatVersion') if isinstance(m, dict) else None}, this reader supports {' and '.join(map(str, FORMAT_VERSIONS))}")
    if not isinstance(m.get("splits"), dict):
        raise ShardError(f"{path}: field \"splits\" missing")
    for split, s in m["splits"].items():
        if not isinstance(s, dict) or not isinstance(s.get("shards"), list):
            raise ShardError(f"{path}: splits.{split}.shards must be an array")
        for i, sh in enumerate(s["shards"]):
            where = f"{path}: splits.{split}.shards[{i}]"
            if not isinstance(sh, dict):
                raise ShardError(f"{where} must be an object")
            _plain_name(sh.get("file"), f"{where}.file")
            _plain_name(sh.get("index"), f"{where}.index")
            for k in ("records", "bytes"):
                _count(sh, k, where)
    return m


def read_index(outdir, name):
    idx = _read_json(outdir, name)
    if not isinstance(idx, dict) or idx.get("formatVersion") not in FORMAT_VERSIONS or not isinstance(idx.get("entries"), list) or len(idx["entries"]) != idx.get("records"):
        raise ShardError(f"{name}: bad index (formatVersion {idx.get('formatVersion') if isinstance(idx, dict) else None}, entries and records must agree)")
    need = "sha256" if idx["formatVersion"] == 1 else "crc32c"
    if need not in idx:
        raise ShardError(f"{name}: field \"{need}\" missing (format {idx['formatVersion']})")
    _plain_name(idx.get("file"), f"{name}: field \"file\"")
    size = _count(idx, "bytes", name)
    for i, e in enumerate(idx["entries"]):
        for k in ("offset", "length", "index"):
            _count(e, k, f"{name}: entries[{i}]")
        # A frame must lie inside the shard: no length read from an index is allocated before this holds.
        if e["offset"] + e["length"] + FRAME_OVERHEAD > size:
            raise ShardError(f"{name}: entries[{i}] (offset {e['offset']}, length {e['length']}) ends past the shard's {size} bytes")
    return idx


def load_split(outdir, split="train"):
    """(manifest, [index, ...]) of one split, indexes checked against the manifest."""
    m = read_manifest(outdir)
    s = m["splits"].get(split)
    if s is None:
        raise ShardError(f"{outdir}: manifest has no '{split}' split (has {', '.join(m['splits']) or 'none'})")
    indexes = []
    for info in s["shards"]:
        idx = read_index(outdir, info["index"])
        if any(idx.get(k) != info.get(k) for k in ("crc32c", "sha256", "records")):
            raise ShardError(f"{info['index']}: does not match manifest.json; run ctwindow verify {outdir}")
        indexes.append(idx)
    return m, indexes


def _digest_mismatch(path, idx):
    """Recomputes the digests the index records (crc32c, sha256) of the shard at path; a message or None."""
    want_crc, want_sha = "crc32c" in idx, "sha256" in idx
    crc, h = 0, hashlib.sha256() if want_sha else None
    f, _ = _open_in_folder(os.path.dirname(path), os.path.basename(path))
    with f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            if want_crc:
                crc = crc32c(chunk, crc)
            if h is not None:
                h.update(chunk)
    if want_crc and f"{crc:08x}" != idx["crc32c"]:
        return f"crc32c {crc:08x} does not match the index's {idx['crc32c']}"
    if h is not None and h.hexdigest() != idx["sha256"]:
        return f"sha256 {h.hexdigest()[:12]}… does not match the index's {idx['sha256'][:12]}…"
    return None


def read_frame(f, entry, where, full_crc=False):
    """Reads the frame of an index entry from an open shard file; returns the decoded payload dict."""
    size = f.size if hasattr(f, "size") else os.fstat(f.fileno()).st_size
    if entry["offset"] + entry["length"] + FRAME_OVERHEAD > size:
        raise ShardError(f"{where}: the index places it at bytes {entry['offset']}-{entry['offset'] + entry['length'] + FRAME_OVERHEAD}, the shard has {size} bytes (truncated or a damaged index)")
    f.seek(entry["offset"])
    buf = f.read(entry["length"] + FRAME_OVERHEAD)
    if len(buf) < FRAME_OVERHEAD:
        raise ShardError(f"{where}: truncated frame ({len(buf)} bytes)")
    (n,) = struct.unpack_from("<Q", buf, 0)
    (len_crc,) = struct.unpack_from("<I", buf, 8)
    if len_crc != masked_crc32c(buf[:8]):
        raise ShardError(f"{where}: length CRC mismatch (length bytes damaged)")
    if n != entry["length"] or len(buf) != n + FRAME_OVERHEAD:
        raise ShardError(f"{where}: payload length {n}, index says {entry['length']}, {len(buf) - FRAME_OVERHEAD} bytes available")
    payload = buf[12 : 12 + n]
    if full_crc:
        (pcrc,) = struct.unpack_from("<I", buf, 12 + n)
        if pcrc != masked_crc32c(payload):
            raise ShardError(f"{where}: payload CRC mismatch (payload damaged)")
    rec = msgpack.unpackb(payload, raw=False)
    rec.pop("pad", None)  # alignment bytes only (docs/shard-format.md §3)
    if rec.get("v") != PAYLOAD_VERSION:
        raise ShardError(f"{where}: record format version {rec.get('v')}, this reader supports {PAYLOAD_VERSION}")
    return rec


def record_images(rec, where="record"):
    """images of a decoded payload as an ndarray [B,H,W,C] of its dtype (a read-only view)."""
    dt = DTYPES.get(rec["dtype"])
    if dt is None:
        raise ShardError(f"{where}: unknown dtype {rec['dtype']!r}")
    shape = tuple(rec["shape"])
    arr = np.frombuffer(rec["images"], dtype=dt)
    if arr.size != int(np.prod(shape)):
        raise ShardError(f"{where}: images hold {arr.size} values, shape {list(shape)} needs {int(np.prod(shape))}")
    return arr.reshape(shape)


def _meta(rec, shard, position):
    meta = {k: rec[k] for k in ("study", "series", "sop", "index", "strategy", "channels", "split")}
    # The RSNA column names; the short ones stay as aliases for this format version.
    meta["StudyInstanceUID"], meta["SeriesInstanceUID"], meta["SOPInstanceUID"] = rec["study"], rec["series"], rec["sop"]
    meta["shard"] = shard
    meta["position"] = position
    if "extra" in rec:
        meta["extra"] = rec["extra"]
    return meta


def iter_records(outdir, split="train", verify=False):
    """Decoded payload dicts of a split in written order, each with `shard` and `position` added."""
    _, indexes = load_split(outdir, split)
    for idx in indexes:
        path = os.path.join(outdir, idx["file"])
        problem = _digest_mismatch(path, idx) if verify is True else None
        if problem:
            raise ShardError(f"{idx['file']}: {problem} (shard damaged); run ctwindow verify {outdir}")
        if verify == "full":
            # Every payload CRC checked: read and decoded from the file.
            f, _ = _open_in_folder(outdir, idx["file"])
            with f:
                for pos, e in enumerate(idx["entries"]):
                    rec = read_frame(f, e, f"{idx['file']} record {e['index']}", full_crc=True)
                    rec["shard"], rec["position"] = idx["file"], pos
                    yield rec
            continue
        # The hot path: memory-mapped, images handed over as views on the page cache (no copy).
        from ._mapped import map_shard, record_at

        mm = map_shard(outdir, idx["file"])
        for pos, e in enumerate(idx["entries"]):
            rec = record_at(mm, e, f"{idx['file']} record {e['index']}")
            rec["shard"], rec["position"] = idx["file"], pos
            yield rec


def iter_batches(outdir, split="train", verify=False):
    """Yields (images [B,H,W,C] ndarray of the shard dtype, labels [B] int64 ndarray, meta dict).

    verify=False (the default) checks only the frames' length CRCs: the hot path. Check a dataset
    once with verify_dataset(outdir) (or `ctwindow verify`), or pass
    verify=True to check each shard's digests (crc32c, and sha256 where recorded) before yielding
    any of its records (fast with the crc32c module; format-1 folders: sha256, hashlib);
    verify="full" instead checks every frame's payload CRC before yielding it, so an error names the
    damaged record (pure-Python crc32c: slow). Images are read-only arrays: views on the memory-
    mapped shard (verify="full": on the payload bytes).
    """
    for rec in iter_records(outdir, split, verify):
        where = f"{rec['shard']} record {rec['index']}"
        images = rec["_images"] if "_images" in rec else record_images(rec, where)
        yield images, np.asarray(rec["labels"], dtype=np.int64), _meta(rec, rec["shard"], rec["position"])


# ---------------------------------------------------------------------------------------------
# Partition rule (docs/shard-format.md §7), identical to src/shards/partition.ts


def fmix32(h):
    h &= M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def hash_seed(*xs):
    h = 0x811C9DC5
    for x in xs:
        h = fmix32(((h * 0x01000193) & M32) ^ (int(x) & M32))
    return h


def mulberry32(seed):
    a = seed & M32

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & M32
        t = ((a ^ (a >> 15)) * (1 | a)) & M32
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & M32)) & M32) ^ t
        return (t ^ (t >> 14)) & M32

    return nxt


def permutation(n, seed):
    p = list(range(n))
    nxt = mulberry32(seed)
    for i in range(n - 1, 0, -1):
        j = nxt() % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p


class EpochOrder:
    """Unit at each epoch position: (flat record number, slice) — slice -1 for granularity 'batches'."""

    def __init__(self, slices_per_shard, seed, epoch, shuffle, granularity, block_records=4, window=256):
        if granularity not in ("batches", "records"):
            raise ValueError(f"granularity must be 'batches' or 'records', got {granularity!r}")
        if block_records < 1 or window < 1:
            raise ValueError("block_records and window must be >= 1")
        first, total = [], 0
        for s in slices_per_shard:
            first.append(total)
            total += len(s)
        order = []
        shard_order = permutation(len(slices_per_shard), hash_seed(seed, epoch, 1)) if shuffle else range(len(slices_per_shard))
        for s in shard_order:
            n = len(slices_per_shard[s])
            nb = -(-n // block_records)
            blocks = permutation(nb, hash_seed(seed, epoch, 2, s)) if shuffle else range(nb)
            for b in blocks:
                order.extend(first[s] + r for r in range(b * block_records, min(n, (b + 1) * block_records)))
        self._order = np.asarray(order, dtype=np.int64)
        flat_slices = np.asarray([x for s in slices_per_shard for x in s], dtype=np.int64)
        self.granularity = granularity
        if granularity == "batches":
            self.units = total
        else:
            self._cum = np.zeros(total + 1, dtype=np.int64)
            if total:
                np.cumsum(flat_slices[self._order], out=self._cum[1:])
            self.units = int(self._cum[-1])
        self._shuffle, self._seed, self._epoch, self._window = shuffle, seed, epoch, window
        self._cw, self._cperm = -1, None

    def _pre(self, u):
        if self.granularity == "batches":
            return int(self._order[u]), -1
        k = int(np.searchsorted(self._cum, u, side="right")) - 1
        return int(self._order[k]), int(u - self._cum[k])

    def unit_at(self, p):
        if not self._shuffle:
            return self._pre(p)
        w = p // self._window
        if w != self._cw:
            self._cw = w
            self._cperm = permutation(min(self._window, self.units - w * self._window), hash_seed(self._seed, self._epoch, 3, w))
        return self._pre(w * self._window + self._cperm[p - w * self._window])


def slot_plan(units, start, slots, slot, drop_last):
    """(per_slot, padded, dropped, position(i)) for one slot over the remaining positions [start, units)."""
    if slots < 1 or not (0 <= slot < slots) or start < 0:
        raise ValueError(f"bad slot plan: slots={slots} slot={slot} start={start}")
    remaining = max(0, units - start)
    if units == 0:
        per = 0
    elif drop_last:
        per = remaining // slots
    else:
        per = -(-remaining // slots)
    padded = 0 if drop_last else per * slots - remaining
    dropped = remaining - per * slots if drop_last else 0
    return per, padded, dropped, (lambda i: (start + slot + i * slots) % units)


class ShardDataset:
    """Iterable over one slot (rank × worker) of a split; see the module docstring.

    granularity='records' yields (image [H,W,C], label int, meta) per slice;
    granularity='batches' yields (images [B,H,W,C], labels [B], meta) per written batch.
    meta has study/series/sop, record, slice and padded (True for a unit repeated to even out slots).
    """

    def __init__(self, outdir, *, split="train", rank=0, world_size=1, worker_id=0, num_workers=1, seed=0, epoch=0,
                 granularity="records", shuffle=True, drop_last=False, block_records=4, window=256, verify=False):
        if not (0 <= rank < world_size):
            raise ValueError(f"rank must be in [0, world_size={world_size}), got {rank}")
        if not (0 <= worker_id < num_workers):
            raise ValueError(f"worker_id must be in [0, num_workers={num_workers}), got {worker_id}")
        self.outdir, self.split = outdir, split
        self.rank, self.world_size, self.worker_id, self.num_workers = rank, world_size, worker_id, num_workers
        self.seed, self.epoch, self.granularity = seed, epoch, granularity
        self.shuffle, self.drop_last, self.block_records, self.window = shuffle, drop_last, block_records, window
        self.manifest, self.indexes = load_split(outdir, split)
        if verify:
            for idx in self.indexes:
                problem = _digest_mismatch(os.path.join(outdir, idx["file"]), idx)
                if problem:
                    raise ShardError(f"{idx['file']}: {problem} (shard damaged)")
        self._flat = [(idx["file"], e) for idx in self.indexes for e in idx["entries"]]
        self._start, self._consumed = 0, 0

    @property
    def slots(self):
        return self.world_size * self.num_workers

    @property
    def slot(self):
        return self.rank * self.num_workers + self.worker_id

    def order(self):
        return EpochOrder([[e["slices"] for e in idx["entries"]] for idx in self.indexes], self.seed, self.epoch,
                          self.shuffle, self.granularity, self.block_records, self.window)

    def plan(self, order=None):
        order = order or self.order()
        return slot_plan(order.units, self._start, self.slots, self.slot, self.drop_last)

    def positions(self):
        per, _, _, pos = self.plan()
        return [pos(i) for i in range(per)]

    def set_epoch(self, epoch):
        self.epoch, self._start, self._consumed = epoch, 0, 0

    def state_dict(self):
        return {"epoch": self.epoch, "seed": self.seed, "samples_seen": self._start + self._consumed * self.slots,
                "world_size": self.world_size}

    def load_state_dict(self, s):
        for k in ("epoch", "seed", "samples_seen", "world_size"):
            if not isinstance(s.get(k), int):
                raise ValueError(f"load_state_dict: {k} must be an int, got {s.get(k)!r}")
        self.epoch, self.seed, self._start, self._consumed = s["epoch"], s["seed"], s["samples_seen"], 0

    def __len__(self):
        return self.plan()[0]

    def units(self):
        """(record dict, slice, padded) for this slot, resuming after the consumed units."""
        order = self.order()
        per, _, _, pos = self.plan(order)
        remaining = max(0, order.units - self._start)
        files, cache, cache_w = {}, {}, -1
        try:
            for i in range(self._consumed, per):
                p = pos(i)
                w = p // self.window
                if w != cache_w:
                    cache, cache_w = {}, w
                r, sl = order.unit_at(p)
                rec = cache.get(r)
                if rec is None:
                    file, entry = self._flat[r]
                    f = files.get(file)
                    if f is None:
                        f = files[file] = _open_in_folder(self.outdir, file)[0]
                    rec = read_frame(f, entry, f"{file} record {entry['index']}")
                    rec["_images"] = record_images(rec, f"{file} record {entry['index']}")
                    if self.granularity == "records":
                        cache[r] = rec
                self._consumed = i + 1
                yield rec, sl, self.slot + i * self.slots >= remaining
        finally:
            for f in files.values():
                f.close()

    def __iter__(self):
        for rec, sl, padded in self.units():
            if self.granularity == "records":
                meta = {"study": rec["study"][sl], "series": rec["series"][sl], "sop": rec["sop"][sl],
                        "record": rec["index"], "slice": sl, "padded": padded}
                yield rec["_images"][sl], int(rec["labels"][sl]), meta
            else:
                meta = {"study": rec["study"], "series": rec["series"], "sop": rec["sop"], "record": rec["index"], "padded": padded}
                yield rec["_images"], np.asarray(rec["labels"], dtype=np.int64), meta


def _make_torch_dataset_class():
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    class TorchShardDataset(IterableDataset):
        """torch.utils.data.IterableDataset over ShardDataset: rank/world size from torch.distributed
        (when initialised), worker id/count from get_worker_info(). Call set_epoch(e) each epoch."""

        def __init__(self, outdir, **kwargs):
            super().__init__()
            self.outdir, self.kwargs, self.state = outdir, dict(kwargs), None
            # Rank and world size are read here, in the trainer process (create the dataset after
            # init_process_group): DataLoader worker processes need not see the process group.
            dist = torch.distributed
            if dist.is_available() and dist.is_initialized():
                self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
            else:
                self.rank, self.world_size = 0, 1

        def set_epoch(self, epoch):
            self.kwargs["epoch"], self.state = epoch, None

        def load_state_dict(self, state):
            self.state = dict(state)

        def __iter__(self):
            info = get_worker_info()
            wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
            ds = ShardDataset(self.outdir, rank=self.rank, world_size=self.world_size, worker_id=wid, num_workers=nw, **self.kwargs)
            if self.state is not None:
                ds.load_state_dict(self.state)
            # Writable copies: the reader's arrays are read-only views on the payload bytes.
            return ((np.array(x), y, meta) for x, y, meta in ds)

    return TorchShardDataset


__getattr__ = lazy_classes(__name__, globals(), {"TorchShardDataset": _make_torch_dataset_class})


def torch_dataset(outdir, **kwargs):
    """A torch IterableDataset (TorchShardDataset) over ShardDataset; kwargs as for ShardDataset
    except rank/world_size/worker_id/num_workers, which come from torch. Images come as writable
    numpy arrays; the default collate turns them into tensors."""
    cls = globals().get("TorchShardDataset") or __getattr__("TorchShardDataset")  # noqa: F821
    return cls(outdir, **kwargs)


# ---------------------------------------------------------------------------------------------
# Command line


def _args(argv):
    pos, opts = [], {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            key = a[2:].replace("-", "_")
            if key in ("no_shuffle", "drop_last"):
                opts[key] = True
            else:
                opts[key] = argv[i + 1]
                i += 1
        else:
            pos.append(a)
        i += 1
    return pos, opts


def main(argv):
    pos, o = _args(argv)
    if len(pos) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, outdir = pos[0], pos[1]
    split = o.get("split", "train")
    if cmd == "dump":
        for images, labels, meta in iter_batches(outdir, split=split, verify=o.get("verify", "1") != "0"):
            print(json.dumps({"index": meta["index"], "shape": list(images.shape), "dtype": str(images.dtype),
                              "labels": labels.tolist(), "sop": meta["sop"], "study": meta["study"], "series": meta["series"],
                              "values": images.astype(np.float64).ravel().tolist()}))
        return 0
    if cmd == "order":
        ds = ShardDataset(outdir, split=split, rank=int(o.get("rank", 0)), world_size=int(o.get("world_size", 1)),
                          worker_id=int(o.get("worker", 0)), num_workers=int(o.get("num_workers", 1)),
                          seed=int(o.get("seed", 0)), epoch=int(o.get("epoch", 0)),
                          granularity=o.get("granularity", "records"), shuffle=not o.get("no_shuffle"),
                          drop_last=bool(o.get("drop_last")))
        if "samples_seen" in o:
            ds.load_state_dict({"epoch": ds.epoch, "seed": ds.seed, "samples_seen": int(o["samples_seen"]), "world_size": 0})
        limit = int(o.get("limit", -1))
        out = []
        for n, (rec, sl, padded) in enumerate(ds.units()):
            if n == limit:
                break
            out.append([rec["index"], sl, padded])
        print(json.dumps({"units": out, "state": ds.state_dict()}))
        return 0
    if cmd == "bench":
        t0, n, nbytes = time.perf_counter(), 0, 0
        for images, labels, meta in iter_batches(outdir, split=split, verify=o.get("verify", "1") != "0"):
            n += 1
            nbytes += np.array(images).nbytes  # an array of one's own: every byte read once, as a training step would
        dt = time.perf_counter() - t0
        print(json.dumps({"records": n, "bytes": nbytes, "seconds": dt, "records_per_s": n / dt if dt else 0, "mb_per_s": nbytes / 1e6 / dt if dt else 0}))
        return 0
    print(f"unknown command {cmd!r}", file=sys.stderr)
    return 2


def cli():
    """Console entry point (`ctwindow-shards …`)."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
