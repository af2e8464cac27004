"""Evaluation in batches of 1,000 images against the device's ``eval_batch_size`` (128 on a CPU).

    .venv/bin/python benchmarks/eval_batch.py [--images 5000] [--repeats 5] [--threads N]

``helpers.training.loop.evaluate`` (which ``fit`` calls after every epoch on the validation split)
and ``predict`` ran in batches of 1,000 images; they now take ``eval_batch_size(device)``. For each
model of the chapters that train on the CPU -- chapter 06's LeNet-5 on 28x28 digits, chapter 07's
CNN and MLP and chapter 08's ResNet on 32x32 colour images -- this times ``evaluate`` on
``--images`` random images (the arithmetic does not depend on the pixel values) at both batch
sizes, in turn, ``--repeats`` times each after one round that is not kept, in one process. Prints
each side's median and range of wall-clock and CPU seconds and the ratio of the medians, then
checks that both sides give the same accuracy and (to float rounding) the same loss.

No data files needed.
"""

from __future__ import annotations

import argparse
import time

import torch
from common import print_sides

from helpers.models.classic import MLP, CifarCNN, LeNet5
from helpers.models.resnets import CifarResNet
from helpers.training.devices import cpu_threads, eval_batch_size, pick_device
from helpers.training.loop import evaluate

MODELS = {
    "LeNet-5 (chapter 06)": (LeNet5, (1, 28, 28)),
    "CNN (chapter 07)": (CifarCNN, (3, 32, 32)),
    "MLP (chapter 07)": (lambda: MLP([3072, 1536, 768, 384, 128, 10]), (3, 32, 32)),
    "ResNet (chapter 08)": (CifarResNet, (3, 32, 32)),
}


def timed(action) -> tuple[tuple[float, float], dict]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = action()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: as fit sets them)")
    args = parser.parse_args()
    if args.repeats < 1 or args.images < 1:
        parser.error("--repeats and --images must be at least 1")
    device = pick_device()
    torch.set_num_threads(args.threads or cpu_threads())
    chosen = eval_batch_size(device)
    g = torch.Generator().manual_seed(0)
    for name, (build, shape) in MODELS.items():
        torch.manual_seed(0)
        model = build().to(device, memory_format=torch.channels_last)  # as fit leaves a model trained on images
        data = (torch.randint(0, 256, (args.images, *shape), dtype=torch.uint8, generator=g),
                torch.randint(0, 10, (args.images,), generator=g))
        sides = {"batches of 1000": 1000, f"batches of {chosen}": chosen}
        runs, results = {s: [] for s in sides}, {}
        for repeat in range(args.repeats + 1):
            for side, size in sides.items():
                seconds, results[side] = timed(lambda: evaluate(model, data, batch_size=size, device=device))
                if repeat:  # the first round warms up (oneDNN primitives, allocator)
                    runs[side].append(seconds)
        print_sides(f"{name}: evaluate() on {args.images:,} images, device {device}, "
                    f"{torch.get_num_threads()} threads, {args.repeats} repeats", runs, "CPU s", tuple(sides))
        first, second = results.values()
        same = first["accuracy"] == second["accuracy"] and abs(first["loss"] - second["loss"]) <= 1e-5 * abs(first["loss"])
        print(f"same accuracy and loss at both batch sizes: {'yes' if same else 'NO'} "
              f"(accuracy {first['accuracy']:.4f} / {second['accuracy']:.4f}, loss {first['loss']:.6f} / "
              f"{second['loss']:.6f})\n")


if __name__ == "__main__":
    main()
