"""Joining the processes torchrun started: the rendezvous variables, the backend, the process
group, and each process's :class:`Shard` of the data (see :mod:`helpers.training.distributed`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from helpers.training.loop import evaluate

__all__ = ["RENDEZVOUS_VARIABLES", "SetupError", "Shard", "backend_for", "process_group"]


#: what torchrun sets in every process it starts, and :func:`process_group` reads
RENDEZVOUS_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class SetupError(RuntimeError):
    """The processes cannot train together: a torchrun variable missing, too few GPUs, no group."""


@dataclass(frozen=True)
class Shard:
    """This process's part of data-parallel training: rank ``rank`` of ``world_size``, on ``device``.

    The sampler of the book's tensor pipeline: every process holds the whole training set on its
    device, draws the same seeded permutation of it each epoch and cuts it into the same global
    batches of ``batch_size``; process ``rank`` takes its own contiguous part of each
    (:meth:`split`). Together the processes compute exactly the batch that one process would.
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    local_rank: int = 0  # the process's number on its own machine (which GPU it drives)

    def __post_init__(self):
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.rank, self.world_size))
        if not ok or self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"a Shard needs 0 <= rank < world_size; got rank={self.rank!r}, "
                             f"world_size={self.world_size!r}")

    def plan(self, n: int, batch_size: int) -> tuple[int, int]:
        """``(steps per epoch, examples they hold)`` for ``n`` examples in global batches of ``batch_size``.

        A last batch with fewer examples than processes is dropped (at most ``world_size - 1``
        examples, different ones each epoch, since the permutation changes).

        Raises:
            ValueError: ``batch_size`` is not a multiple of ``world_size``, or ``n < world_size``.
        """
        w = self.world_size
        if batch_size % w:
            lower, upper = batch_size // w * w, -(-batch_size // w) * w
            raise ValueError(f"batch_size={batch_size} is the global batch, split over {w} processes, so it "
                             f"must be a multiple of {w}: try {lower or upper} or {upper}")
        if n < w:
            raise ValueError(f"train_data has {n} examples, fewer than the {w} processes (world size): "
                             "each process needs at least one example per batch; start fewer processes "
                             "(--nproc_per_node) or train on more data")
        full, rest = divmod(n, batch_size)
        return (full + 1, n) if rest >= w else (full, full * batch_size)

    def split(self, idx: torch.Tensor) -> tuple[torch.Tensor, float]:
        """This process's rows of the global batch ``idx`` and their weight in its mean loss.

        ``idx: int tensor[B]`` -> ``(idx_r, share)``: the ``rank``-th of ``world_size`` contiguous
        parts (sizes differ by one at most), and ``share = len(idx_r) * world_size / B``.
        ``DistributedDataParallel`` averages the processes' gradients, so each process scales its
        mean loss by ``share``: the average is then the gradient of the whole batch's mean loss,
        even when the parts are unequal (``share`` is 1 when they are equal).
        """
        mine = idx.tensor_split(self.world_size)[self.rank]
        return mine, len(mine) * self.world_size / len(idx)

    def seed(self, seed: int) -> int:
        """This process's seed for dropout and augmentation: ``seed`` alone when it trains alone, else
        one drawn from ``(seed, rank)`` -- random per process, the same for the same seed every run."""
        if self.world_size == 1:
            return seed
        return int(np.random.SeedSequence([seed % 2**63, self.rank]).generate_state(1)[0])

    def settings(self, batch_size: int) -> dict:
        """What :class:`History` records about the processes."""
        return dict(world_size=self.world_size, batch_per_process=batch_size // self.world_size,
                    backend=backend_for(self.device))

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in ``DistributedDataParallel``: rank 0's weights copied to every process now, and
        the gradients averaged over the processes (all-reduce) during every ``backward``."""
        if not dist.is_initialized():
            raise SetupError("no process group: join the others first (with process_group(): ...)")
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (all-reduce, in place): the same result in each."""
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def evaluate(self, model: nn.Module, data, *, device=None) -> dict[str, float]:
        """:func:`evaluate` on ``data``, each process scoring its ``1 / world_size`` and the sums
        all-reduced: every process gets the same accuracy and mean loss."""
        images, labels = (data.images, data.labels) if hasattr(data, "images") else data
        images, labels = torch.as_tensor(images), torch.as_tensor(labels)
        part = images.tensor_split(self.world_size)[self.rank], labels.tensor_split(self.world_size)[self.rank]
        k = part[1].numel()
        scores = evaluate(model, part, device=device) if k else {"accuracy": 0.0, "loss": 0.0}
        total = self.sum(torch.tensor([scores["accuracy"] * k, scores["loss"] * k, k], dtype=torch.float64,
                                      device=self.device))
        return {"accuracy": (total[0] / total[2]).item(), "loss": (total[1] / total[2]).item()}


def backend_for(device: torch.device | str) -> str:
    """The collective-communication library for ``device``: ``"nccl"`` for CUDA, ``"gloo"`` otherwise."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def _place() -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` from torchrun's variables; ``(0, 0, 1)`` when run alone."""
    env = {v: os.environ.get(v, "").strip() for v in RENDEZVOUS_VARIABLES}
    if not env["RANK"] and env["WORLD_SIZE"] in ("", "1"):
        return 0, 0, 1  # plain `python -m ...`: a world of one
    missing = [v for v, value in env.items() if not value]
    if missing:
        asked = (f"WORLD_SIZE={env['WORLD_SIZE']} asks for {env['WORLD_SIZE']} processes" if env["WORLD_SIZE"]
                 else f"RANK={env['RANK']} says this is one of several processes")
        raise SetupError(f"{asked}, but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
                         "torchrun sets them in every process it starts: launch with it, e.g. "
                         "`torchrun --nproc_per_node=2 -m helpers.training.distributed` on one machine")
    try:
        rank, local_rank, world = (int(env[v]) for v in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    except ValueError:
        raise SetupError(f"RANK, LOCAL_RANK and WORLD_SIZE must be integers; got {env}") from None
    if not 0 <= rank < world:
        raise SetupError(f"RANK={rank} must lie in 0..WORLD_SIZE-1 = {world - 1}")
    return rank, local_rank, world


def _device(device, local_rank: int) -> torch.device:
    """The process's device: GPU ``local_rank`` under CUDA (made current), else the CPU."""
    device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise SetupError(f"data-parallel training runs on CUDA GPUs (NCCL) or CPUs (Gloo); got device {device}")
    if not torch.cuda.is_available():
        raise SetupError("device 'cuda' was asked for, but this process sees no CUDA GPU")
    count, index = torch.cuda.device_count(), device.index if device.index is not None else local_rank
    if index >= count:
        raise SetupError(f"the process with LOCAL_RANK={local_rank} needs GPU {index}, but this machine shows "
                         f"{count}: start at most {count} processes per machine (--nproc_per_node={count})")
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


@contextlib.contextmanager
def process_group(device: torch.device | str | None = None) -> Iterator[Shard]:
    """Join the processes torchrun started; yield this one's :class:`Shard`; leave at the end.

    Reads :data:`RENDEZVOUS_VARIABLES`; outside torchrun (none of them set) it forms a world of one.
    ``device``: default GPU ``LOCAL_RANK`` when CUDA is there, else the CPU; it chooses the backend.

    Raises:
        SetupError: a variable missing (say ``WORLD_SIZE=2`` without ``RANK``), more processes on a
            machine than GPUs, or a group already joined.
    """
    rank, local_rank, world = _place()
    device = _device(device, local_rank)
    if dist.is_initialized():
        raise SetupError("this process already belongs to a process group")
    if os.environ.get("RANK", "").strip():  # started by torchrun: meet the others where it says
        dist.init_process_group(backend_for(device), init_method="env://", rank=rank, world_size=world)
    else:  # alone: the group lives in this process's memory
        dist.init_process_group(backend_for(device), store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield Shard(rank, world, device, local_rank)
    finally:
        dist.destroy_process_group()
