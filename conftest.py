"""Test-wide settings: quick mode for every notebook kernel the tests start."""

import os

# Notebook kernels inherit this process's environment: small subsets and few epochs.
os.environ["CNN_BOOK_MODE"] = "quick"
# One thread per kernel: the machines that run the tests have two cores and run two things at once.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Figures render off-screen.
os.environ.setdefault("MPLBACKEND", "Agg")
