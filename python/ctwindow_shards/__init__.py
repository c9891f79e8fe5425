"""ctwindow_shards: read ctwindow CT shards (docs/shard-format.md) with numpy + msgpack.

    from ctwindow_shards import ShardLoader, iter_batches, verify_dataset

`ShardLoader` (PyTorch) is the training loader: exact state_dict at any step for any
num_workers, NCHW / float output, memory-mapped reads. `iter_batches` yields the written
records as numpy arrays; `ShardDataset` / `torch_dataset` implement the cross-language
partition rule (src/shards/partition.ts).
"""
from ._core import (  # noqa: F401
    FORMAT_VERSIONS,
    EpochOrder,
    ShardDataset,
    ShardError,
    hash_seed,
    iter_batches,
    iter_records,
    load_split,
    main,
    permutation,
    read_index,
    read_manifest,
    record_images,
    torch_dataset,
)
from .loader import EpochPlan, ShardLoader, verify_dataset  # noqa: F401

__version__ = "0.2.0"


def __getattr__(name):
    # torch-dependent classes, built on first use so that importing the package never imports torch.
    if name == "TorchShardDataset":
        from . import _core

        return _core.TorchShardDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
