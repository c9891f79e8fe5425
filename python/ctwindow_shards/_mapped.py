"""Shards read in place: a shard memory-mapped, a record's payload walked without copying it (the
small fields decoded with msgpack, `images` located and returned as a numpy view on the map).
Used by ShardLoader and by iter_batches (verify other than "full")."""
import mmap
import struct

import numpy as np

from ._core import DTYPES, FRAME_OVERHEAD, PAYLOAD_VERSION, ShardError, _open_in_folder, masked_crc32c


def map_shard(outdir, file):
    """A read-only map of a shard inside outdir (regular file, no symlink); b"" for an empty file.
    The map stays open while any view on it lives. An s3:// folder: the object (S3Object), each
    record then read with one ranged GET."""
    f, size = _open_in_folder(outdir, file)
    if hasattr(f, "fetch"):
        return f
    with f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""


# ---------------------------------------------------------------------------------------------
# msgpack, walked in place: the payload's small fields are decoded, `images` is located (never copied)


def _skip(buf, p):
    """Offset just past the msgpack object at p (the types ctwindow writes)."""
    t = buf[p]
    if t <= 0x7F or t >= 0xE0 or t in (0xC0, 0xC2, 0xC3):
        return p + 1
    if 0xA0 <= t <= 0xBF:
        return p + 1 + (t & 0x1F)
    if 0x90 <= t <= 0x9F or 0x80 <= t <= 0x8F:
        n = t & 0x0F
        p += 1
        for _ in range(n * (2 if t <= 0x8F else 1)):
            p = _skip(buf, p)
        return p
    fixed = {0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9, 0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9, 0xCA: 5, 0xCB: 9}
    if t in fixed:
        return p + fixed[t]
    if t in (0xC4, 0xD9):
        return p + 2 + buf[p + 1]
    if t in (0xC5, 0xDA):
        return p + 3 + struct.unpack_from(">H", buf, p + 1)[0]
    if t in (0xC6, 0xDB):
        return p + 5 + struct.unpack_from(">I", buf, p + 1)[0]
    if t in (0xDC, 0xDE):
        n, p = struct.unpack_from(">H", buf, p + 1)[0], p + 3
    elif t in (0xDD, 0xDF):
        n, p = struct.unpack_from(">I", buf, p + 1)[0], p + 5
    else:
        raise ShardError(f"unexpected msgpack type 0x{t:02x} at payload byte {p}")
    for _ in range(n * (2 if t in (0xDE, 0xDF) else 1)):
        p = _skip(buf, p)
    return p


def _bin_at(buf, p):
    """(offset, length) of the bytes of the msgpack bin at p."""
    t = buf[p]
    if t == 0xC4:
        return p + 2, buf[p + 1]
    if t == 0xC5:
        return p + 3, struct.unpack_from(">H", buf, p + 1)[0]
    if t == 0xC6:
        return p + 5, struct.unpack_from(">I", buf, p + 1)[0]
    raise ShardError(f"`images` is msgpack type 0x{t:02x}, expected bin")


def record_at(mm, entry, where):
    """The payload of an index entry in a memory-mapped shard: its fields (images as a view)."""
    import msgpack

    off, n = entry["offset"], entry["length"]
    if off + n + FRAME_OVERHEAD > len(mm):
        raise ShardError(f"{where}: the index places it at bytes {off}-{off + n + FRAME_OVERHEAD}, the shard has {len(mm)} bytes")
    if hasattr(mm, "fetch"):  # an object in S3: the record's frame in one ranged GET
        mm, off = mm.fetch(off, n + FRAME_OVERHEAD), 0
    (length,) = struct.unpack_from("<Q", mm, off)
    if length != n or struct.unpack_from("<I", mm, off + 8)[0] != masked_crc32c(mm[off : off + 8]):
        raise ShardError(f"{where}: frame length {length} or its CRC does not match the index ({n})")
    start, end = off + 12, off + 12 + n
    p = start
    t = mm[p]
    if 0x80 <= t <= 0x8F:
        count, p = t & 0x0F, p + 1
    elif t == 0xDE:
        count, p = struct.unpack_from(">H", mm, p + 1)[0], p + 3
    elif t == 0xDF:
        count, p = struct.unpack_from(">I", mm, p + 1)[0], p + 5
    else:
        raise ShardError(f"{where}: payload is not a msgpack map")
    rec, images = {}, None
    for _ in range(count):
        k_end = _skip(mm, p)
        key = msgpack.unpackb(mm[p:k_end], raw=False)
        v_end = _skip(mm, k_end)
        if v_end > end:
            raise ShardError(f"{where}: field {key!r} runs past the payload")
        if key == "images":
            images = _bin_at(mm, k_end)
        elif key != "pad":
            rec[key] = msgpack.unpackb(mm[k_end:v_end], raw=False)
        p = v_end
    if rec.get("v") != PAYLOAD_VERSION:
        raise ShardError(f"{where}: record format version {rec.get('v')}, this reader supports {PAYLOAD_VERSION}")
    if images is None:
        raise ShardError(f"{where}: no images")
    dt = DTYPES.get(rec.get("dtype"))
    shape = tuple(rec.get("shape") or ())
    if dt is None or len(shape) != 4 or images[1] != int(np.prod(shape)) * dt.itemsize:
        raise ShardError(f"{where}: images of {images[1]} bytes do not match shape {list(shape)} {rec.get('dtype')}")
    rec["images"] = memoryview(mm)[images[0] : images[0] + images[1]]  # the payload's bytes, not copied
    rec["_images"] = np.frombuffer(mm, dtype=dt, count=int(np.prod(shape)), offset=images[0]).reshape(shape)
    return rec


