"""Batched vs one-after-another training of the sphere chapter's regime map (chapter ``sphere_regimes``).

The regime map is K = len(elrs) × n_seeds independent runs of a small scale-invariant MLP. This benchmark trains
them as one batched computation (:func:`lrlab.studies.sphere_regimes.train_on_sphere` with every configuration)
and one at a time (the same function, one configuration per call), on the same data, for the same epochs; checks
that configuration k ends with the same loss both ways; and prints the ratio of the times (median of repeats).

    OMP_NUM_THREADS=1 python benchmarks/sphere_batched.py [--epochs 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lrlab import runtime
from lrlab.studies import sphere_regimes as st


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    runtime.setup(0)
    cfg = st.SPEC.resolve(scale="book", epochs=args.epochs, probe_every=args.epochs)
    data = st.load_data(cfg)
    elrs = np.repeat(cfg.elrs, cfg.n_seeds)
    seeds = np.tile(np.arange(cfg.n_seeds), len(cfg.elrs))

    def batched():
        return st.train_on_sphere(cfg, data, elrs, seeds, cfg.epochs, desc="batched", probe_every=cfg.epochs)

    def sequential():
        return [st.train_on_sphere(cfg, data, elrs[k : k + 1], seeds[k : k + 1], cfg.epochs, desc="one",
                                   probe_every=cfg.epochs) for k in range(len(elrs))]

    t_b, t_s = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        together = batched()
        t_b.append(time.perf_counter() - start)
        start = time.perf_counter()
        alone = sequential()
        t_s.append(time.perf_counter() - start)
    for k, (_run, model) in enumerate(alone):
        w_one = [p.detach() for p in model.parameters()][0][0]
        w_all = [p.detach() for p in together[1].parameters()][0][k]
        torch.testing.assert_close(w_one, w_all, rtol=1e-4, atol=1e-5)
    b, s = statistics.median(t_b), statistics.median(t_s)
    print(f"K = {len(elrs)} configurations, {cfg.epochs} epochs: batched {b:.2f} s, one at a time {s:.2f} s, "
          f"ratio {s / b:.2f}x (threads: {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
