"""The GPU run: time to accuracy and throughput on one device, written as a markdown table.

    CNN_BOOK_DATA=/folder/with/MNIST+cifar10 .venv/bin/python benchmarks/gpu_report.py [--quick] [--out FILE]

``benchmarks/gpu.sh`` prepares the data folder and calls this; run that instead. Measured here, on
the GPU if there is one (else the CPU, said in the table):

1. LeNet-5 to 99.0 % MNIST test accuracy and the chapter-07 CNN (``CifarCNN``) to 78 % CIFAR-10
   test accuracy, each with ``fit``'s precision left to its default (``amp=None``:
   ``amp_dtype(device)``), forced off (``amp=False``, float32) and forced on (``amp=True``).
   The recipes are the benchmarks' own: ``cifar_speed.RECIPE`` for the CNN, and for LeNet-5
   ``mnist_speed.FIT_RECIPE`` (batch 128, peak lr 4e-3, 3 epochs). "Time to X" is training time
   (evaluation not timed) up to the end of the first epoch at or above X, as in those scripts.
   One untimed warm-up run first, so CUDA's start-up is not charged to the first model.
2. CIFAR-10 throughput: ``fit`` against a plain PyTorch ``DataLoader`` loop (``cifar_speed``'s
   tutorial epoch: ``ImageFolder`` + per-image transforms, batch 64); the input pipelines alone
   (``helpers.training.speed.pipeline_seconds``: the tutorial loader with 0 and N workers, and
   ``fit``'s tensor path); training steps on a fixed batch (``step_throughput``) in float32 and
   mixed precision, NCHW and channels-last.

``--quick`` shrinks everything (subsets, one epoch, short timings) so that the script's CPU path can
be tested in about a minute; its numbers are not results.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cifar_speed  # noqa: E402  (the CIFAR recipe, target and tutorial-DataLoader epoch)
import mnist_speed  # noqa: E402  (the MNIST target)
from common import first_reaching  # noqa: E402

from helpers.config import data_root  # noqa: E402
from helpers.data.datasets import load_dataset  # noqa: E402
from helpers.models.classic import CifarCNN, LeNet5  # noqa: E402
from helpers.training.devices import amp_dtype, pick_device, set_seed  # noqa: E402
from helpers.training.loop import fit  # noqa: E402
from helpers.training.speed import pipeline_seconds, step_throughput, tutorial_loader  # noqa: E402

MNIST_RECIPE = {k: v for k, v in mnist_speed.FIT_RECIPE.items() if k != "epochs"}  # mnist_speed.py's fit run
MNIST_EPOCHS, CIFAR_EPOCHS = mnist_speed.FIT_RECIPE["epochs"], 15  # the schedules of mnist_speed.py and chapter 07
PRECISIONS = ((None, "default"), (False, "off"), (True, "on"))


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor})"
    return f"no GPU: CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def _fmt_s(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"


def time_to(build, train, test, *, target: float, epochs: int, recipe: dict, amp, device, seed: int) -> dict:
    """One ``fit`` run: time to ``target``, the epoch it came, final accuracy, examples/s, precision."""
    set_seed(seed)
    history = fit(build(), train, test, epochs=epochs, seed=seed, device=device, amp=amp, progress=False,
                  **recipe)
    reached = first_reaching(history, target)
    return {"seconds": reached[1] if reached else None, "epoch": reached[0] if reached else None,
            "final": history.val_acc[-1], "rate": len(train) * epochs / history.seconds[-1],
            "precision": history.settings.get("amp", "?"), "total": history.seconds[-1]}


def accuracy_rows(name: str, build, train, test, *, target: float, epochs: int, recipe: dict, device,
                  seed: int) -> tuple[list[str], dict]:
    """Table rows of :func:`time_to` for each precision, and the results by ``amp`` value."""
    rows, results = [], {}
    for amp, label in PRECISIONS:
        r = results[amp] = time_to(build, train, test, target=target, epochs=epochs, recipe=recipe, amp=amp,
                                   device=device, seed=seed)
        when = f"{_fmt_s(r['seconds'])}" + (f" (epoch {r['epoch']})" if r["epoch"] else "")
        rows.append(f"| {name} | {target:.1%} | {label} (`amp={amp}`): {r['precision']} | {epochs} | {when} | "
                    f"{_fmt_s(r['total'])} | {r['final']:.2%} | {r['rate']:,.0f} |")
        print(rows[-1], flush=True)
    return rows, results


def throughput_rows(train, device, fitted: dict, *, images: int, seconds: float, seed: int) -> list[str]:
    """``fitted``: the CNN's default-precision result from :func:`accuracy_rows` (its whole run)."""
    folder = data_root() / "cifar10" / "train"
    rows = []

    def row(what: str, rate: float) -> None:
        rows.append(f"| {what} | {rate:,.0f} |")
        print(rows[-1], flush=True)

    row(f"training, `fit` (batch {cifar_speed.RECIPE['batch_size']}, flip + crop, default precision "
        f"{fitted['precision']}; the whole run above)", fitted["rate"])
    if folder.is_dir():
        row(f"training, plain `DataLoader` loop (ImageFolder + transforms, batch 64, 0 workers; "
            f"{images:,} images)", cifar_speed.tutorial_epoch(folder, images, device, seed))
        workers = min(8, os.cpu_count() or 1)
        for n in sorted({0, workers}):
            loader = tutorial_loader(str(folder), batch_size=64, num_workers=n)
            row(f"input pipeline alone, `DataLoader` with {n} workers", images / pipeline_seconds(loader, limit=images))
    else:
        rows.append(f"| (no image folder at {folder}: the DataLoader rows are missing) | - |")
    row("input pipeline alone, `fit`'s tensor path (uint8 on the device, batch 128, flip + crop)",
        min(images, len(train)) / pipeline_seconds(train, device=device, limit=images))
    for amp in (False, True):
        for channels_last in (False, True):
            rate = step_throughput(CifarCNN, (3, 32, 32), 128, channels_last=channels_last, mixed_precision=amp,
                                   device=device, seconds=seconds)
            row(f"training steps on one batch of 128, {'mixed precision' if amp else 'float32'}, "
                f"{'channels-last' if channels_last else 'NCHW'}", rate)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget: test the script, not the GPU")
    parser.add_argument("--device", default=None, help="default: the GPU if there is one, else the CPU")
    parser.add_argument("--out", default="gpu-results.md", help="the markdown file to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else pick_device()
    start = time.perf_counter()

    mnist = load_dataset("mnist"), load_dataset("mnist", train=False)
    cifar = load_dataset("cifar10"), load_dataset("cifar10", train=False)
    stand_ins = [d.source for d in (*mnist, *cifar) if d.source.startswith("stand-in")]
    if stand_ins and not args.quick:
        raise SystemExit(f"this needs the real data sets (run it through benchmarks/gpu.sh): {stand_ins}")
    mnist_epochs, cifar_epochs = MNIST_EPOCHS, CIFAR_EPOCHS
    images, seconds = 10_000, 5.0
    if args.quick:
        mnist = mnist[0].subset(2_000, seed=args.seed), mnist[1].subset(1_000, seed=args.seed)
        cifar = cifar[0].subset(2_000, seed=args.seed), cifar[1].subset(1_000, seed=args.seed)
        mnist_epochs = cifar_epochs = 1
        images, seconds = 256, 0.3

    # warm-up (untimed): CUDA context, cuDNN and the autocast kernels, before the first measurement
    fit(CifarCNN(), cifar[0].subset(min(1_024, len(cifar[0])), seed=0), epochs=1, device=device, progress=False)

    lines = [f"# GPU run: {_device_name(device)}", "",
             f"{datetime.date.today().isoformat()}; torch {torch.__version__}"
             + (f", CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}" if device.type == "cuda" else "")
             + f", Python {platform.python_version()}, {os.cpu_count()} CPU cores; "
             f"`amp_dtype({device.type})` = {amp_dtype(device)}; seed {args.seed}"
             + ("; **--quick: tiny budget, not results**" if args.quick else ""), "",
             f"Data: {mnist[0].source}; {cifar[0].source}", "",
             "## Time to accuracy", "",
             "| model, data | target | fit's precision | epochs | time to target | training time | "
             "final test acc | training examples/s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows, _ = accuracy_rows("LeNet-5, MNIST", LeNet5, *mnist, target=mnist_speed.TARGET, epochs=mnist_epochs,
                            recipe=MNIST_RECIPE, device=device, seed=args.seed)
    lines += rows
    rows, cnn = accuracy_rows("CifarCNN (ch. 07), CIFAR-10", CifarCNN, *cifar, target=cifar_speed.TARGET,
                              epochs=cifar_epochs, recipe=cifar_speed.RECIPE, device=device, seed=args.seed)
    lines += rows
    lines += ["", "## CIFAR-10 throughput: fit against a plain DataLoader loop", "",
              "| what | images/s |", "| --- | --- |"]
    lines += throughput_rows(cifar[0], device, cnn[None], images=images, seconds=seconds, seed=args.seed)
    lines += ["", f"Whole run: {time.perf_counter() - start:.0f} s (`benchmarks/gpu.sh`)."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
