"""The CIFAR-10 CNN: time to 78 % test accuracy with helpers.train.fit, in float32 and in mixed precision.

    CNN_BOOK_DATA=/path/with/cifar10 .venv/bin/python benchmarks/cifar_speed.py [--seeds 3] [--epochs 15]

Measured in this one process on one machine, side by side:

1. ``fit`` trains the lecture's CNN (545,098 parameters) with chapter 07's recipe (chosen there on a
   validation split: batch 128, AdamW, peak lr 3e-3, no weight decay, one-cycle over ``--epochs``
   epochs, flip + 4-pixel crop), once per seed in float32 (``amp=False``) and once in mixed
   precision (``amp=True``: bfloat16 autocast on a CPU), the two precisions alternating in order
   from seed to seed so that a change of machine load hits both alike. "Time to 78 %" is the
   training time (evaluation not timed) up to the end of the first epoch whose test accuracy is at
   least 78 %; printed per precision as median and range over the seeds (``common.TimeToTarget``:
   a seed that misses 78 % counts as the slowest), with the final test
   accuracy as mean ± std and whether the precisions differ by more than the spread
   (``helpers.analysis.spread.inside_spread``) -- the accuracy effect of mixed precision, measured
   before it is used for speed.
2. One epoch of the same model and recipe fed the way PyTorch's CIFAR-10 tutorials do it: a
   ``DataLoader`` over ``torchvision.datasets.ImageFolder`` decoding every file, with per-image
   RandomCrop / RandomHorizontalFlip / ToTensor / Normalize, batch 64 (``--baseline-images``
   limits it to part of an epoch) -- training examples per second of both, and their ratio.
3. Training-step throughput of the CNN with the NCHW and channels-last memory layouts.

Needs the CIFAR-10 image-folder copy (``$CNN_BOOK_DATA/cifar10/{train,test}/<class>/``) for step 2.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import first_reaching, machine_line, ratio_of_medians, real_data, TimeToTarget
from helpers.analysis.spread import format_spread, inside_spread, mean_std
from helpers.config import data_root
from helpers.models.classic import CifarCNN
from helpers.training.speed import step_throughput, tutorial_loader
from helpers.training.devices import pick_device, set_seed
from helpers.training.loop import fit

TARGET = 0.78
RECIPE = dict(batch_size=128, lr=3e-3, weight_decay=0.0, augment=("flip", "crop"))  # chapter 07's choice
BUDGET_S = 180  # the goal: 78 % within three minutes of training on the book's 2-core CPU


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
    parser.add_argument("--seeds", type=int, default=3, help="runs per precision (seeds 0, 1, ...)")
    parser.add_argument("--baseline-images", type=int, default=10_000, help="images the baseline trains on")
    args = parser.parse_args()
    train, test = real_data("cifar10")
    device = pick_device()
    print(f"{machine_line(device)}\ndata: {train.source}\nrecipe: {RECIPE}, {args.epochs} epochs, "
          f"seeds 0..{args.seeds - 1}")

    names = {False: "float32", True: "mixed precision"}
    reached, final, rates = {False: [], True: []}, {False: [], True: []}, {False: [], True: []}
    for seed in range(args.seeds):
        for amp in ((False, True) if seed % 2 == 0 else (True, False)):
            set_seed(seed)
            history = fit(CifarCNN(), train, test, epochs=args.epochs, seed=seed, progress=False, amp=amp, **RECIPE)
            curve = [(e, round(t, 1), round(a, 4)) for e, t, a in zip(history.epoch, history.seconds, history.val_acc)]
            reached[amp].append(first_reaching(history, TARGET))
            final[amp].append(history.val_acc[-1])
            rates[amp].append(len(train) * args.epochs / history.seconds[-1])
            print(f"seed {seed}, {names[amp]} ({history.settings['amp']}), (epoch, seconds, test acc): {curve}",
                  flush=True)

    print(f"\ntime to {TARGET:.0%} and final test accuracy over {args.seeds} seeds, device {device}, "
          f"{torch.get_num_threads()} threads:")
    sides = {amp: TimeToTarget(tuple(reached[amp]), TARGET, f"{args.epochs} epochs") for amp in (False, True)}
    for amp in (False, True):
        print(f"  {names[amp]:<16} {sides[amp]}; final test accuracy {format_spread(final[amp])}; "
              f"{statistics.median(rates[amp]):,.0f} training images/s")
    verdict = "inside the spread" if inside_spread(final[True], final[False]) else "larger than the spread"
    print(f"  mixed precision - float32, final test accuracy: "
          f"{100 * (mean_std(final[True])[0] - mean_std(final[False])[0]):+.2f} points ({verdict})")
    ratio = ratio_of_medians(sides[False], sides[True])
    if ratio is not None:
        print(f"  mixed precision reaches {TARGET:.0%} {ratio:.2f}x sooner (ratio of medians)")
    for amp in (False, True):
        if sides[amp].median is not None:
            print(f"  goal {TARGET:.0%} within {BUDGET_S} s, {names[amp]}: "
                  f"{'met' if sides[amp].median <= BUDGET_S else 'not met'} (median {sides[amp].median:.1f} s)")

    folder = data_root() / "cifar10" / "train"
    fit_rate = statistics.median(rates[False])
    if folder.is_dir():
        base_rate = tutorial_epoch(folder, args.baseline_images, device, 0)
        print(f"training examples/second, float32: fit {fit_rate:,.0f}, tutorial DataLoader {base_rate:,.0f} "
              f"({fit_rate / base_rate:.1f}x)")
    else:
        print(f"no image folder at {folder}: tutorial-pipeline comparison skipped")
    nchw = step_throughput(CifarCNN, (3, 32, 32), 128, device=device, seconds=5)
    nhwc = step_throughput(CifarCNN, (3, 32, 32), 128, channels_last=True, device=device, seconds=5)
    print(f"training steps, batch 128: NCHW {nchw:,.0f} images/s, channels-last {nhwc:,.0f} images/s "
          f"({nhwc / nchw:.2f}x)")


if __name__ == "__main__":
    main()
