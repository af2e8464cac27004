"""LeNet-5 on MNIST: time to 99.0 % test accuracy with ``fit`` and with PyTorch's MNIST example, over seeds.

    CNN_BOOK_DATA=/path/with/MNIST .venv/bin/python benchmarks/mnist_speed.py [--seeds 3] [--threads 1]

Both sides train the same LeNet-5 (44,426 parameters, ``helpers.models.classic.LeNet5``) on the CPU,
in this one process, so that what differs is the training procedure, not the network:

* baseline -- PyTorch's MNIST example (github.com/pytorch/examples, ``mnist/main.py``) written out
  as it does it: ``torch.manual_seed(seed)``; ``datasets.MNIST`` with ``ToTensor()`` and
  ``Normalize((0.1307,), (0.3081,))``; ``DataLoader`` with batch 64 (and, as in the example, the
  workers, pinned memory and shuffling only on an accelerator: on the CPU it reads the training
  set in order; ``--shuffle-baseline`` shuffles it as on an accelerator); ``Adadelta(lr=1.0)``;
  ``StepLR(step_size=1, gamma=0.7)`` stepped after each epoch's test; ``model.train()``,
  ``zero_grad``, forward, loss, ``backward``, ``step``, and every 10th batch the example's log line
  with ``loss.item()`` (formatted, then written to a buffer instead of the terminal). The example's own network ends in ``log_softmax`` and uses
  ``F.nll_loss``; LeNet5 returns logits, so ``F.cross_entropy`` (the same loss) stands for both;
* fit -- ``helpers.training.loop.fit`` with ``FIT_RECIPE`` (AdamW, one-cycle over ``--fit-epochs``
  epochs, batch ``--batch-size``, peak rate ``--lr``; float32 unless ``--amp``): the data set as
  one uint8 tensor, batches by permutation.

Per seed the two sides run one after the other, in alternating order (fit first for even seeds,
the baseline first for odd ones), so that a change of machine load falls on both alike, after one
untimed warm-up of each on 2,048 images. Both use the same number of threads (``--threads``,
default :func:`cpu_threads`: fit's own choice).

Time counts training only: the test-set evaluation after each epoch is not timed. "Time to
99.0 %" is the training time up to the end of the first epoch whose test accuracy is at least
99.0 %. The baseline stops there or after ``--max-epochs`` (its budget); fit runs its schedule of
``--fit-epochs`` (its budget). A seed that does not reach 99.0 % within its side's budget is
reported as not reached and counts as infinitely slow in the median; the ratio of the medians is
printed only when both medians are finite.
"""

from __future__ import annotations

import argparse
import io
import os
import time

import torch
import torch.nn.functional as F

from common import first_reaching, load_line, machine_line, ratio_of_medians, real_data, TimeToTarget
from helpers.config import data_root
from helpers.models.classic import LeNet5
from helpers.training.devices import cpu_threads, set_seed
from helpers.training.loop import evaluate, fit

TARGET = 0.99
FIT_RECIPE = dict(batch_size=128, lr=4e-3, epochs=3)  # fit's settings here (--batch-size, --lr, --fit-epochs)


def pytorch_example(root: str, max_epochs: int, seed: int, limit: int | None = None,
                    shuffle: bool = False) -> list:
    """PyTorch's MNIST example with LeNet-5; ``[(epoch, training seconds, test accuracy), ...]``
    up to the first epoch at ``TARGET`` or ``max_epochs``. ``limit``: train on that many images
    only, for the warm-up (no test then). ``shuffle``: shuffle the training set, as the example
    does on an accelerator only (a variant; the example on the CPU does not)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    torch.manual_seed(seed)
    device = torch.device("cpu")
    train_kwargs, test_kwargs = {"batch_size": 64}, {"batch_size": 1000}
    if device.type != "cpu":  # the example's accelerator settings; none of them on the CPU
        train_kwargs.update(num_workers=1, persistent_workers=True, shuffle=True)
        test_kwargs.update(num_workers=1, persistent_workers=True, shuffle=True)
    if shuffle:  # --shuffle-baseline: the accelerator path's shuffling, without its workers
        train_kwargs.update(shuffle=True)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset1 = datasets.MNIST(root, train=True, download=False, transform=transform)
    dataset2 = datasets.MNIST(root, train=False, download=False, transform=transform)
    if limit is not None:
        dataset1 = Subset(dataset1, range(limit))
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)
    model = LeNet5().to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    log = io.StringIO()  # the example prints these lines; here they go to a buffer
    elapsed, curve = 0.0, []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()  # the example's train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.cross_entropy(output, target)  # = the example's F.nll_loss of its log_softmax
            loss.backward()
            optimizer.step()
            if batch_idx % 10 == 0:
                print("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item()), file=log)
        elapsed += time.perf_counter() - start
        if limit is not None:
            return curve
        model.eval()  # the example's test(), not timed
        correct = 0
        with torch.no_grad():
            for data, target in test_loader:
                correct += (model(data).argmax(1) == target).sum().item()
        scheduler.step()
        curve.append((epoch, round(elapsed, 2), correct / len(dataset2)))
        if curve[-1][2] >= TARGET:
            break
    return curve


def with_fit(train, test, recipe: dict, seed: int, amp: bool) -> list:
    """``fit`` with ``recipe``; ``[(epoch, training seconds, test accuracy), ...]`` (every epoch)."""
    set_seed(seed)
    model = LeNet5()
    history = fit(model, train, test, seed=seed, progress=False, device="cpu", amp=amp, **recipe)
    return [(e, round(s, 2), a) for e, s, a in zip(history.epoch, history.seconds, history.val_acc)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 for each side (default 3)")
    parser.add_argument("--max-epochs", type=int, default=8, help="the baseline's budget in epochs (default 8)")
    parser.add_argument("--fit-epochs", type=int, default=FIT_RECIPE["epochs"],
                        help=f"fit's schedule and budget in epochs (default {FIT_RECIPE['epochs']})")
    parser.add_argument("--batch-size", type=int, default=FIT_RECIPE["batch_size"])
    parser.add_argument("--lr", type=float, default=FIT_RECIPE["lr"], help="fit's peak learning rate")
    parser.add_argument("--amp", action="store_true", help="fit in bfloat16 autocast (fit(amp=True))")
    parser.add_argument("--threads", type=int, default=cpu_threads(), help="torch threads for both sides")
    parser.add_argument("--shuffle-baseline", action="store_true",
                        help="shuffle the baseline's training set each epoch (the example does so only "
                             "on an accelerator)")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # fit's cpu_threads() reads it
    torch.set_num_threads(args.threads)
    recipe = dict(batch_size=args.batch_size, lr=args.lr, epochs=args.fit_epochs)
    train, test = real_data("mnist")
    root = str(data_root())
    print(f"{machine_line()}; data: {train.source}")
    print(f"{load_line()} (start)")
    order = "shuffled (--shuffle-baseline)" if args.shuffle_baseline else "in order, as on the CPU"
    print(f"fit: {recipe}, amp {args.amp}; baseline: PyTorch's MNIST example (batch 64, Adadelta lr 1.0, "
          f"StepLR gamma 0.7, training set {order}), at most {args.max_epochs} epochs; {args.seeds} seeds; LeNet-5 on both sides; "
          "training time only (evaluation not timed)")
    warm = (train.images[:2048], train.labels[:2048])
    fit(LeNet5(), warm, epochs=1, batch_size=args.batch_size, progress=False, device="cpu", amp=args.amp)
    pytorch_example(root, 1, 0, limit=2048)
    runs = {"fit": [], "baseline": []}
    for seed in range(args.seeds):
        sides = [("fit", lambda: with_fit(train, test, recipe, seed, args.amp)),
                 ("baseline", lambda: pytorch_example(root, args.max_epochs, seed,
                                                      shuffle=args.shuffle_baseline))]
        for name, run in (sides if seed % 2 == 0 else sides[::-1]):
            curve = run()
            runs[name].append(first_reaching(curve, TARGET))
            print(f"seed {seed} {name:8s} (epoch, seconds, test acc): "
                  + " ".join(f"({e}, {s:.1f}, {a:.4f})" for e, s, a in curve), flush=True)
    print(load_line(), "(end)")
    sides = {"fit": TimeToTarget(tuple(runs["fit"]), TARGET, f"{args.fit_epochs} epochs"),
             "baseline": TimeToTarget(tuple(runs["baseline"]), TARGET, f"{args.max_epochs} epochs")}
    for name, side in sides.items():
        print(f"{name:8s} time {side}")
    ratio = ratio_of_medians(sides["baseline"], sides["fit"])
    if ratio is None:
        print("ratio of medians: none (a median is 'not reached')")
    else:
        print(f"ratio of medians: fit reaches {TARGET:.1%} {ratio:.1f}x sooner than the baseline")


if __name__ == "__main__":
    main()
