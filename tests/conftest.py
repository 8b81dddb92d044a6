"""Shared test set-up: one torch thread per process (tests run in parallel workers)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("LRLAB_PROGRESS", "0")

import torch  # noqa: E402

torch.set_num_threads(1)
