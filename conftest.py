"""Test-wide settings: quick mode for every notebook kernel the tests start.

At the repository root so that it applies however pytest is called, also to one notebook alone
(`pytest chapters/07_cifar10.ipynb`), not only when tests/ is collected.
"""

import os

# Notebook kernels inherit this process's environment: small subsets and few epochs.
os.environ["CNN_BOOK_MODE"] = "quick"
# One thread per kernel: the machines that run the tests have two cores and run two things at once.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Figures render off-screen.
os.environ.setdefault("MPLBACKEND", "Agg")
