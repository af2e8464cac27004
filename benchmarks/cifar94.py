"""CIFAR-10 two ways on one device: chapter 13's recipe to 94 % against chapter 07's CNN to 78 %.

    CNN_BOOK_DATA=/path/with/cifar10 .venv/bin/python benchmarks/cifar94.py [--fp32]
    .venv/bin/python benchmarks/cifar94.py --quick      # a smoke test on subsets (numbers mean nothing)

Measured in this one process, one after the other, on one device, seed 0, one run each:

1. chapter 07's recipe: the lecture's CNN (545,098 parameters) trained with ``fit`` (batch 128,
   AdamW, peak lr 3e-3, no weight decay, one-cycle over 15 epochs, flip + 4-pixel crop);
   "time to 78 %" is the training time up to the end of the first epoch whose test accuracy is
   at least 78 % (evaluation not timed), as in ``cifar_speed.py``;
2. chapter 13's recipe (airbench94's settings, ``helpers.training.speedrun.SpeedRecipe()``): the
   compact network for 9.9 epochs, then one test evaluation with six-view test-time augmentation;
   its time is training (whitening included) plus that evaluation, since the recipe is only
   scored once, at the end. It reaches 94 % or it does not.

Precision: on CUDA, ``amp_dtype(device)`` for both (``fit``'s default); on a CPU, each recipe the way
its chapter chooses it: chapter 07's with ``helpers.training.speed.choose_precision`` (bfloat16 where
it makes training steps at least 1.25x faster, as chapter 07 measured and checked on validation),
the speed recipe the same way (``choose_precision`` on its own network: bfloat16 autocast where that
is 1.25x faster, as chapter 13 measured and chose; float32 on a CPU without bfloat16 units, where
bfloat16 is emulated and several times slower); ``--fp32`` runs both in float32. Threads: ``helpers.training.devices.cpu_threads()``
for both (``OMP_NUM_THREADS`` when set; on a CPU shared with other work, ``OMP_NUM_THREADS=1`` can
be much faster, as chapter 13 measured).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from common import first_reaching, machine_line, real_data
from helpers.data.datasets import load_dataset
from helpers.models.classic import CifarCNN
from helpers.models.speedrun import SpeedrunNet
from helpers.training.devices import amp_dtype, cpu_threads, pick_device, set_seed
from helpers.training.loop import fit
from helpers.training.speed import choose_precision
from helpers.training.speedrun import SpeedRecipe, evaluate_speedrun, train_speedrun

from cifar_speed import RECIPE as CH07  # chapter 07's recipe, as cifar_speed.py times it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fp32", action="store_true", help="train both recipes in float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="subsets and short runs: tests the script only")
    args = parser.parse_args()
    torch.set_num_threads(cpu_threads())  # what fit uses too
    device = pick_device()
    if args.quick:
        train, test = load_dataset("cifar10").subset(2_048, seed=0), load_dataset("cifar10", train=False).subset(500)
    else:
        train, test = real_data("cifar10")
    print(f"{machine_line(device)}\ndata: {train.source}\ntest: {test.source}")

    epochs07 = 1 if args.quick else 15
    set_seed(args.seed)
    if device.type == "cuda" or args.fp32:
        amp07 = False if args.fp32 else None  # None: fit's default on CUDA, amp_dtype(device)
    else:
        choice = choose_precision(CifarCNN, (3, 32, 32), CH07["batch_size"], device=device,
                                  seconds=0.3 if args.quick else 2.0)
        print(f"chapter 07 CNN, {choice}")
        amp07 = choice.amp
    history = fit(CifarCNN(), train, test, epochs=epochs07, seed=args.seed, device=device, progress=False,
                  amp=amp07, **CH07)
    curve = [(e, round(s, 1), round(a, 4)) for e, s, a in zip(history.epoch, history.seconds, history.val_acc)]
    reached07 = first_reaching(history, 0.78)
    reached07 = reached07[1] if reached07 is not None else None
    print(f"chapter 07 CNN, fit {CH07}, {history.settings['amp']}, {epochs07} epochs (epoch, seconds, test acc): "
          f"{curve}")

    names = {torch.bfloat16: "bfloat16", torch.float16: "float16"}
    recipe = SpeedRecipe()
    if args.quick:
        recipe = replace(recipe, epochs=1, batch_size=256, widths=(16, 32, 32))
    amp = None if args.fp32 else names.get(amp_dtype(device), "bfloat16" if device.type == "cpu" else None)
    if amp is not None and device.type == "cpu":
        choice = choose_precision(lambda: SpeedrunNet(recipe.widths), (3, 32, 32), 512, device=device,
                                  seconds=0.3 if args.quick else 2.0)
        print(f"chapter 13 network, {choice}")
        amp = amp if choice.amp else None
    recipe = replace(recipe, amp=amp)
    result = train_speedrun(train, recipe, seed=args.seed, device=device)
    score = evaluate_speedrun(result, test)
    total13 = result.seconds + score["seconds"]
    print(f"chapter 13 recipe {recipe.changes() or '(airbench94 settings)'}, {recipe.epochs:g} epochs, "
          f"{result.steps} steps, {amp or 'float32'}: training {result.seconds:.1f} s + TTA test "
          f"{score['seconds']:.1f} s, test accuracy {score['accuracy']:.2%}")

    print(f"\ndevice {device}, {torch.get_num_threads()} threads:")
    print("  chapter 07 CNN to 78 %:    " + (f"{reached07:.1f} s ({reached07 / 60:.1f} min)" if reached07 is not None
                                            else f"not reached in {epochs07} epochs (last {curve[-1][2]:.2%})"))
    print("  chapter 13 recipe to 94 %: " + (f"{total13:.1f} s ({total13 / 60:.1f} min)" if score["accuracy"] >= 0.94
                                            else f"not reached ({score['accuracy']:.2%} after {total13:.1f} s)"))
    if reached07 is not None and score["accuracy"] >= 0.94:
        print(f"  the 94 % recipe takes {total13 / reached07:.2f}x the time of the 78 % one")


if __name__ == "__main__":
    main()
