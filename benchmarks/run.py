"""Benchmarks of lrlab, reported as ratios measured in one run (never as timed tests).

    python benchmarks/run.py [--repeats 5] [--only NAME]

Each benchmark runs both sides in this process on the same inputs, checks that they agree, and prints the median
time of each side over the repeats and their ratio. Results are also written to ``_build/bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from lrlab import optim  # noqa: E402
from lrlab.nn import BMLP  # noqa: E402
from lrlab.train import Batches, train  # noqa: E402

torch.set_num_threads(1)
BENCHES: dict[str, Callable[[int], dict]] = {}


def bench(fn: Callable[[int], dict]) -> Callable[[int], dict]:
    BENCHES[fn.__name__] = fn
    return fn


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _loss(model, x, y):
    return (model(x) - (y if y.dim() == 3 else y.unsqueeze(0))).square().sum(dim=2).mean(dim=1)


def _fit(seeds: list[int], lrs: list[float], x: torch.Tensor, epochs: int):
    model = BMLP([784, 128, 16, 128, 784], seeds, out_activation=torch.nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lrs)
    train(model, _loss, Batches(x, x, 64, seeds), opt, epochs, progress=False)
    return model


@bench
def batched_training(repeats: int) -> dict:
    """K = 9 autoencoders of the fluctuations chapter (3 η × 3 seeds): one at a time vs one batched computation."""
    x = torch.rand(256, 784).round()
    seeds, lrs, epochs = [0, 1, 2] * 3, [1e-2] * 3 + [1e-3] * 3 + [1e-4] * 3, 5
    together = _fit(seeds, lrs, x, epochs)
    alone = [_fit([s], [lr], x, epochs) for s, lr in zip(seeds, lrs)]
    for k, m in enumerate(alone):
        torch.testing.assert_close(together.linears()[0].weight[k], m.linears()[0].weight[0], rtol=1e-4, atol=1e-5)
    t_seq = median_time(lambda: [_fit([s], [lr], x, epochs) for s, lr in zip(seeds, lrs)], repeats)
    t_bat = median_time(lambda: _fit(seeds, lrs, x, epochs), repeats)
    steps = len(seeds) * epochs * 4
    return {"one_at_a_time_s": t_seq, "batched_s": t_bat, "speedup": t_seq / t_bat,
            "batched_model_steps_per_s": steps / t_bat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=sorted(BENCHES))
    args = parser.parse_args()
    results = {}
    for name, fn in BENCHES.items():
        if args.only and name != args.only:
            continue
        results[name] = fn(args.repeats)
        print(f"{name}: " + ", ".join(f"{k} {v:.3g}" for k, v in results[name].items()))
    out = Path(__file__).resolve().parents[1] / "_build" / "bench" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
