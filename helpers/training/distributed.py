"""Data-parallel training under ``torchrun``: several processes, one model, the book's one loop.

``torchrun`` starts one process per GPU (or per share of the CPU cores), on one machine or many,
and tells each its place through environment variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT``). In each process,
:func:`helpers.training.processes.process_group` joins the others (NCCL for CUDA, Gloo for the CPU)
and :func:`fit_distributed` trains: it is :func:`helpers.training.loop.fit` -- the same code, step
for step -- with a :class:`~helpers.training.processes.Shard` that gives the process its rows of
every global batch, averages the gradients over the processes (``DistributedDataParallel``) and
sums the metrics. ``batch_size`` is the *global* batch, as in ``fit``: with ``W`` processes each
computes ``batch_size // W`` examples per step, so the same settings give the same training, only
split over the processes.

The module is also the entry point that trains the chapter-07 CNN on CIFAR-10 this way (it ships
with the package, so it runs wherever ``helpers`` is installed, Colab included)::

    torchrun --nproc_per_node=2 -m helpers.training.distributed --epochs 2      # one machine
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-id=cifar --rdzv-backend=c10d \\
             --rdzv-endpoint=HOST:29500 -m helpers.training.distributed          # on each machine

Only rank 0 prints, draws a progress bar and saves the checkpoint. :func:`launch` runs that
command from Python on this machine (the appendix and the tests use it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch
import torch.distributed as dist
from torch import nn

from helpers.config import describe
from helpers.data.core import DataError
from helpers.training.devices import cpu_threads
from helpers.training.history import History
from helpers.training.inputs import AUGMENTATIONS
from helpers.training.loop import fit_shard
from helpers.training.processes import SetupError, Shard, backend_for, process_group

__all__ = ["CHECKPOINT", "fit_distributed", "torchrun_command", "launch", "Launch", "error_lines", "main"]


#: the file the entry point saves in ``helpers.training.checkpoints.checkpoints_folder()`` by default
CHECKPOINT = "cifar_cnn_distributed.pt"


def fit_distributed(model: nn.Module, train_data, val_data=None, **fit_arguments) -> History:
    """:func:`helpers.training.loop.fit` for one of the processes of a group (inside :func:`process_group`).

    Takes ``fit``'s arguments, with the same defaults; ``batch_size`` is the global batch (a multiple
    of the world size) and ``device`` defaults to the group's. Every process must call it with the
    same data and settings. Returns the same :class:`History` in every process (metrics summed over
    the processes; ``seconds`` is this process's own clock).
    """
    if not dist.is_initialized():
        raise SetupError("fit_distributed trains inside a process group: call it in a script that torchrun "
                         "starts, inside `with process_group(): ...`")
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else \
        torch.device("cpu")
    asked = torch.device(fit_arguments.pop("device", None) or device)
    if asked.type != device.type:
        raise ValueError(f"device={asked} does not match the process group's {dist.get_backend()} "
                         f"backend (device {device})")
    local_rank = int(os.environ.get("LOCAL_RANK", "0") or 0)
    shard = Shard(dist.get_rank(), dist.get_world_size(), device if asked.index is None else asked, local_rank)
    return fit_shard(shard, model, train_data, val_data, device=shard.device, **fit_arguments)


def torchrun_command(nproc: int, args: Sequence[str] = ()) -> list[str]:
    """``torchrun --standalone --nproc_per_node=<nproc> -m helpers.training.distributed <args>``, run by
    this Python (``python -m torch.distributed.run`` is the torchrun program), so the processes import
    the same ``helpers``. ``--standalone``: one machine, the rendezvous on a free local port."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive int (processes); got {nproc!r}")
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "helpers.training.distributed", *(str(a) for a in args)]


@dataclass
class Launch:
    """A finished :func:`launch`: the command (as typed, no machine path), what rank 0 printed, the
    wall-clock seconds (process start-up and data loading included), the CPU threads per process,
    and every process's :class:`History` (``histories[r]`` from rank ``r``)."""

    command: str
    output: str
    seconds: float
    threads: int
    histories: list[History]


_CAUSES = ("Error", "Exception", "terminate called", "what():")


def error_lines(output: str) -> list[str]:
    """What a failed job's output says went wrong: the entry point's own error lines when it wrote
    some; else the lines of the processes that name a cause (Python exceptions, C++ aborts such as
    ``terminate called ...`` and ``what(): ...``), then torchrun's closing summary (the last 15
    lines), each line once."""
    lines = output.strip().splitlines()
    ours = [ln for ln in lines if ln.startswith("helpers.training.distributed") and ": error: " in ln]
    if ours:
        return list(dict.fromkeys(ours))
    summary = lines[-15:]
    causes = [ln for ln in lines[:-15] if any(c in ln for c in _CAUSES)][-10:]
    return list(dict.fromkeys(causes + summary))


def launch(nproc: int, args: Sequence[str] = (), *, threads: int | None = None,
           timeout: float | None = 3600) -> Launch:
    """Run :func:`torchrun_command` on this machine, wait for it, and collect what it reports.

    Args:
        nproc: how many processes.
        args: the entry point's options, e.g. ``["--epochs", "2", "--checkpoint", ""]`` (``--help``).
        threads: CPU threads per process (``OMP_NUM_THREADS``); default this machine's cores
            (:func:`~helpers.training.devices.cpu_threads`) shared equally, at least one each.
        timeout: seconds before the job is stopped.

    Raises:
        RuntimeError: the job failed; the message holds the processes' own error lines.
    """
    threads = threads if threads is not None else max(1, cpu_threads() // nproc)
    with tempfile.TemporaryDirectory() as folder:
        command = torchrun_command(nproc, [*args, "--history-dir", folder])
        start = time.perf_counter()
        done = subprocess.run(command, env=dict(os.environ, OMP_NUM_THREADS=str(threads)), capture_output=True,
                              text=True, timeout=timeout)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"torchrun with {nproc} process(es) failed (exit status {done.returncode}):\n"
                               + "\n".join(error_lines(done.stdout + done.stderr)))
        histories = [History(**json.loads((Path(folder) / f"rank{r}.json").read_text())) for r in range(nproc)]
    shown = " ".join(["torchrun", *command[3:7], *(str(a) if str(a) else "''" for a in args)])
    return Launch(shown, done.stdout, seconds, threads, histories)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun [torchrun options] -m helpers.training.distributed",
        description="Train the chapter-07 CNN (CifarCNN) on CIFAR-10, data-parallel: one process per GPU, "
                    "or per share of the CPU cores. Defaults: the chapter's recipe.")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=128,
                   help="the global batch, all processes together: a multiple of their number (default 128)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--augment", nargs="*", default=["flip", "crop"], choices=AUGMENTATIONS,
                   help="batch augmentations (default: flip crop; none: --augment)")
    p.add_argument("--train-size", type=int, help="a class-balanced subset of the training split")
    p.add_argument("--val-size", type=int, help="a class-balanced subset of the test split")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("cuda", "cpu"),
                   help="default: GPU number LOCAL_RANK when CUDA is there, else the CPU")
    p.add_argument("--checkpoint", help=f"where rank 0 saves the weights (default: {CHECKPOINT} in the "
                   "checkpoints folder); --checkpoint '' saves none")
    p.add_argument("--history-dir", type=Path,
                   help="every process writes its History there as rank<N>.json, to compare them")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


@contextlib.contextmanager
def _first_on_each_machine(shard: Shard) -> Iterator[None]:
    """Local rank 0 runs the block first (decoding the data once, writing its cache), then the others."""
    if shard.local_rank != 0:
        dist.barrier()
    yield
    if shard.local_rank == 0:
        dist.barrier()


def _train(args: argparse.Namespace, shard: Shard) -> None:
    from helpers.data.datasets import load_dataset
    from helpers.models.classic import CifarCNN
    from helpers.training.checkpoints import checkpoints_folder, save_checkpoint, show_path

    chief = shard.rank == 0
    with _first_on_each_machine(shard), contextlib.redirect_stdout(sys.stdout if chief else io.StringIO()):
        train, val = load_dataset("cifar10"), load_dataset("cifar10", train=False)
    train = train.subset(args.train_size, seed=args.seed) if args.train_size else train
    val = val.subset(args.val_size, seed=args.seed) if args.val_size else val
    shard.plan(len(train), args.batch_size)  # a bad batch size or world size fails here, in every process
    if chief:
        print(f"{describe()} | {shard.world_size} process(es) on {shard.device.type}, "
              f"{backend_for(shard.device)} backend | batch {args.batch_size} = {shard.world_size} x "
              f"{args.batch_size // shard.world_size}\ntrain: {train.source}\nval:   {val.source}", flush=True)
    torch.manual_seed(args.seed)
    model = CifarCNN()
    history = fit_distributed(model, train, val, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                              weight_decay=args.weight_decay, augment=tuple(args.augment), seed=args.seed,
                              progress=not args.no_progress)
    if args.history_dir is not None:
        args.history_dir.mkdir(parents=True, exist_ok=True)
        (args.history_dir / f"rank{shard.rank}.json").write_text(json.dumps(history.to_dict()))
    if chief:
        print(history, flush=True)
    path = Path(args.checkpoint) if args.checkpoint is not None else checkpoints_folder() / CHECKPOINT
    if chief and args.checkpoint != "":
        path = save_checkpoint(path, model, data_source=train.source, epochs=args.epochs,
                               val_accuracy=history.val_acc[-1], settings=history.settings)
        print(f"rank 0 saved {show_path(path)}", flush=True)
    dist.barrier()  # the job ends when rank 0 has written the checkpoint


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point: ``torchrun [...] -m helpers.training.distributed [options]`` (``--help``)."""
    args = _parser().parse_args(argv)
    try:
        with process_group(args.device) as shard:
            _train(args, shard)
    except (SetupError, ValueError, DataError) as exc:  # a bad set-up: its message, not a traceback
        rank = os.environ.get("RANK", "").strip()
        raise SystemExit(f"helpers.training.distributed{f' (rank {rank})' if rank else ''}: error: {exc}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
