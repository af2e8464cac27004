"""LeNet-5 on MNIST: time to 99.0 % test accuracy, helpers.train.fit against PyTorch's example way.

    CNN_BOOK_DATA=/path/with/MNIST .venv/bin/python benchmarks/mnist_speed.py [--max-epochs 8]

Both runs train the same LeNet-5 (44,426 parameters) in this one process on the same machine:

* baseline -- the way PyTorch's own MNIST example trains: a ``DataLoader`` over
  ``torchvision.datasets.MNIST`` with ``ToTensor()`` and ``Normalize((0.1307,), (0.3081,))``,
  batch 64, shuffled, Adadelta (lr 1.0) with StepLR(gamma 0.7);
* fit -- ``helpers.train.fit`` with batch 256, peak lr 6e-3 and 4 epochs (``--fit-epochs``)
  (the data set as one tensor, batches by permutation, one-cycle schedule).

Time counts training only (evaluation after each epoch is not timed); "time to 99.0 %" is the
training time up to the end of the first epoch whose test accuracy is at least 99.0 %.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from common import machine_line, real_data
from helpers.config import data_root
from helpers.models.classic import LeNet5
from helpers.training.devices import set_seed
from helpers.training.loop import fit

TARGET = 0.99


def baseline(train_root, test_data, max_epochs: int, seed: int) -> tuple[float | None, list, float]:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST(train_root, train=True, download=False, transform=transform)
    test = datasets.MNIST(train_root, train=False, download=False, transform=transform)
    set_seed(seed)
    model = LeNet5()
    loader = DataLoader(train, batch_size=64, shuffle=True)
    test_loader = DataLoader(test, batch_size=1000)
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    elapsed, curve, reached = 0.0, [], None
    for epoch in range(1, max_epochs + 1):
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        sched.step()
        elapsed += time.perf_counter() - start
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (model(x).argmax(1) == y).sum().item()
        acc = correct / len(test)
        curve.append((epoch, round(elapsed, 1), acc))
        if acc >= TARGET and reached is None:
            reached = elapsed
            break
    return reached, curve, len(train) * len(curve) / elapsed


def ours(train_data, test_data, epochs: int, seed: int) -> tuple[float | None, list, float]:
    set_seed(seed)
    model = LeNet5()
    history = fit(model, train_data, test_data, epochs=epochs, batch_size=256, lr=6e-3, seed=seed,
                  progress=False, device="cpu")
    curve = list(zip(history.epoch, history.seconds, history.val_acc))
    reached = next((s for _, s, a in curve if a >= TARGET), None)
    return reached, curve, len(train_data) * epochs / history.seconds[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-epochs", type=int, default=8, help="baseline epochs at most")
    parser.add_argument("--fit-epochs", type=int, default=4, help="epochs of the fit schedule")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = real_data("mnist")
    print(f"{machine_line()}; data: {train.source}")
    t_fit, curve_fit, ex_fit = ours(train, test, args.fit_epochs, args.seed)
    print("fit      (epoch, seconds, test acc):", curve_fit)
    t_base, curve_base, ex_base = baseline(str(data_root()), test, args.max_epochs, args.seed)
    print("baseline (epoch, seconds, test acc):", curve_base)
    print(f"examples/second: fit {ex_fit:,.0f}, baseline {ex_base:,.0f} ({ex_fit / ex_base:.1f}x)")
    if t_fit is None or t_base is None:
        print(f"time to {TARGET:.1%}: fit {t_fit}, baseline {t_base} (not reached within the epochs given)")
        return
    print(f"time to {TARGET:.1%}: fit {t_fit:.1f} s, baseline {t_base:.1f} s -> fit is {t_base / t_fit:.1f}x sooner")


if __name__ == "__main__":
    main()
