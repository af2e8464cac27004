"""The CIFAR-10 CNN: time to 78 % test accuracy with helpers.train.fit, and the input pipeline's cost.

    CNN_BOOK_DATA=/path/with/cifar10 .venv/bin/python benchmarks/cifar_speed.py [--epochs 15]

Measured in this one process on one machine, side by side:

1. ``fit`` trains the lecture's CNN (545,098 parameters) with chapter 07's recipe (batch 128, AdamW,
   peak lr 3e-3, weight decay 0.05, one-cycle over ``--epochs`` epochs, flip + 4-pixel crop, seed 0);
   "time to 78 %" is the training time (evaluation not timed) up to the end of the first epoch
   whose test accuracy is at least 78 %.
2. One epoch of the same model and recipe fed the way PyTorch's CIFAR-10 tutorials do it: a
   ``DataLoader`` over ``torchvision.datasets.ImageFolder`` decoding every file, with per-image
   RandomCrop / RandomHorizontalFlip / ToTensor / Normalize, batch 64 (``--baseline-images``
   limits it to part of an epoch) -- training examples per second of both, and their ratio.
3. Training-step throughput of the CNN with the NCHW and channels-last memory layouts.

Needs the CIFAR-10 image-folder copy (``$CNN_BOOK_DATA/cifar10/{train,test}/<class>/``) for step 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import machine_line, real_data
from helpers.config import data_root
from helpers.models.classic import CifarCNN
from helpers.training.speed import step_throughput, tutorial_loader
from helpers.training.devices import pick_device, set_seed
from helpers.training.loop import fit

TARGET = 0.78
RECIPE = dict(batch_size=128, lr=3e-3, weight_decay=0.05, augment=("flip", "crop"))


def tutorial_epoch(folder: Path, limit: int, device: torch.device, seed: int) -> float:
    """Training examples per second of the CNN fed by the tutorial DataLoader (same optimiser)."""
    set_seed(seed)
    model = CifarCNN().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
    seen, start = 0, time.perf_counter()
    for x, y in tutorial_loader(str(folder), batch_size=64):
        x, y = x.to(device), y.to(device)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        seen += len(x)
        if seen >= limit:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="epochs of the fit schedule")
    parser.add_argument("--baseline-images", type=int, default=10_000, help="images the baseline trains on")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = real_data("cifar10")
    device = pick_device()
    print(f"{machine_line(device)}\ndata: {train.source}")

    set_seed(args.seed)
    history = fit(CifarCNN(), train, test, epochs=args.epochs, seed=args.seed, progress=False, **RECIPE)
    curve = [(e, s, round(a, 4)) for e, s, a in zip(history.epoch, history.seconds, history.val_acc)]
    print(f"fit {RECIPE}, {args.epochs} epochs (epoch, seconds, test acc):", curve)
    reached = next((s for _, s, a in curve if a >= TARGET), None)
    fit_rate = len(train) * args.epochs / history.seconds[-1]
    print(f"time to {TARGET:.0%}: " + (f"{reached:.1f} s ({reached / 60:.1f} min)" if reached is not None
                                       else f"not reached in {args.epochs} epochs"))

    folder = data_root() / "cifar10" / "train"
    if folder.is_dir():
        base_rate = tutorial_epoch(folder, args.baseline_images, device, args.seed)
        print(f"training examples/second: fit {fit_rate:,.0f}, tutorial DataLoader {base_rate:,.0f} "
              f"({fit_rate / base_rate:.1f}x)")
    else:
        print(f"no image folder at {folder}: tutorial-pipeline comparison skipped")
    nchw = step_throughput(CifarCNN, (3, 32, 32), 128, device=device, seconds=5)
    nhwc = step_throughput(CifarCNN, (3, 32, 32), 128, channels_last=True, device=device, seconds=5)
    print(f"training steps, batch 128: NCHW {nchw:,.0f} images/s, channels-last {nhwc:,.0f} images/s "
          f"({nhwc / nchw:.2f}x)")


if __name__ == "__main__":
    main()
