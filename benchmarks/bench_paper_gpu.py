"""Scale ``paper`` on a GPU: the epoch time of each torch chapter's training run, and what a whole run takes at it.

A chapter at scale ``paper`` trains for hundreds of epochs; what one epoch costs decides whether a reader can
afford it. For each torch chapter this script runs the chapter's own training function (the same call the
notebook makes) with the paper's configuration twice, for 1 and for 1 + P epochs, where P is the paper's
``probe_every``; the difference is P epochs and one round of probes, so

    epoch time = (T(1 + P) − T(1)) / P

is the time per epoch with the probes at the paper's cadence, and set-up, warm-up and the first probes cancel.
The whole run is then estimated as epochs × epoch time: an estimate, and labelled so. ``eos_ntk`` trains by
full-batch gradient descent, so its unit is a step: the time per step and per sharpness measurement, and from
them a bound on its grid (every run to ``max_steps``; runs that reach the loss goal stop sooner).

CIFAR-10 cannot be fetched on the machines this book is built and measured on. With ``--standin-cifar`` the
script writes random images of CIFAR-10's shape in its official format and the chapters load them through
``lrlab.data.cifar10``: the time of an epoch does not depend on the pixel values, and that is all this measures.

    python benchmarks/bench_paper_gpu.py --device cuda --standin-cifar   # writes results/paper_gpu.json
    python benchmarks/bench_paper_gpu.py --smoke                         # the same code on a small CPU problem

``--smoke`` shrinks the data so the whole script runs in a minute on a CPU (a check of the script, not a result).
Each chapter is measured on its own: one that fails is recorded with its error and the others go on, and the
results file is rewritten after every chapter, so nothing measured is lost if the run is cut short.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import pickle
import platform
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lrlab import runtime
from lrlab.runtime import write_json

RESULTS = Path(__file__).resolve().parent / "results"
CHAPTERS = ("convnet_step", "eos_ntk", "fluctuations", "sphere_regimes", "periodic_bn_wd")


def standin_cifar10(folder: Path, seed: int = 0, n_train: int = 50_000, n_test: int = 10_000) -> Path:
    """Random uint8 images and labels in CIFAR-10's python format (``data_batch_1..5``, ``test_batch``)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-n_train // 5)
    sizes = [(f"data_batch_{i + 1}", min(per, n_train - i * per)) for i in range(5)] + [("test_batch", n_test)]
    for name, n in sizes:
        batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, size=n).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return folder


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _timed(fn: Callable[[], object], device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def two_runs(fn: Callable[[int, int], object], probe_every: int, device: str, cap_s: float) -> dict:
    """T(1 epoch, probes every epoch) and T(1 + P epochs, probes every P): P epochs and one round of probes apart.

    An untimed first run warms up (CUDA's libraries, the convolution algorithms). If the first timed run alone takes
    more than ``cap_s`` the second is skipped and the epoch time is bounded by it.
    """
    fn(1, 1)
    t1 = _timed(lambda: fn(1, 1), device)
    if t1 > cap_s:
        return {"t_s": [t1], "epochs_timed": [1], "epoch_s": t1, "bound": True}
    t2 = _timed(lambda: fn(1 + probe_every, probe_every), device)
    return {"t_s": [t1, t2], "epochs_timed": [1, 1 + probe_every], "epoch_s": (t2 - t1) / probe_every,
            "bound": False}


def _shrink(smoke: bool, **sizes) -> dict:
    return sizes if smoke else {}


def fluctuations(device: str, smoke: bool, cap_s: float) -> list[dict]:
    from lrlab.studies import fluctuations as study

    small = _shrink(smoke, per_class=8, n_seeds=1, contrast_seeds=1)
    paper = study.SPEC.resolve("paper", **small)
    ds = study.load_data(paper, device=device)
    rows = []
    for optimizer, n_seeds in ((paper.optimizer, paper.n_seeds), ("adam", paper.contrast_seeds)):
        def fn(epochs: int, every: int, optimizer=optimizer, n_seeds=n_seeds) -> object:
            cfg = study.SPEC.resolve("paper", **small, epochs=epochs, probe_every=every)
            return study.run_grid(cfg, ds, optimizer, n_seeds=n_seeds)

        k = len(paper.lrs) * n_seeds
        rows.append({"chapter": "fluctuations", "run": f"{optimizer.upper()} grid",
                     "setup": f"784-128-16-128-784 autoencoder, {len(ds.x)} shapes, batch {paper.batch_size}",
                     "configs": k, "steps_per_epoch": -(-len(ds.x) // paper.batch_size),
                     "paper_epochs": paper.epochs, "probe_every": paper.probe_every,
                     **two_runs(fn, paper.probe_every, device, cap_s)})
    return rows


def sphere_regimes(device: str, smoke: bool, cap_s: float) -> list[dict]:
    from lrlab.studies import sphere_regimes as study

    small = _shrink(smoke, n_train=256, n_test=128, width=4)
    paper = study.SPEC.resolve("paper", **small)
    d = study.load_data(paper, device)

    def fn(epochs: int, every: int) -> object:
        return study.regime_map(study.SPEC.resolve("paper", **small, epochs=epochs, probe_every=every), d)

    k = len(paper.elrs) * paper.n_seeds
    return [{"chapter": "sphere_regimes", "run": "regime map",
             "setup": f"ConvNetSI-{paper.width}, {len(d.x)} CIFAR-10 images, batch {paper.batch_size}",
             "configs": k, "steps_per_epoch": -(-len(d.x) // paper.batch_size), "paper_epochs": paper.epochs,
             "probe_every": paper.probe_every, **two_runs(fn, paper.probe_every, device, cap_s)}]


def periodic_bn_wd(device: str, smoke: bool, cap_s: float) -> list[dict]:
    from lrlab.studies import periodic_bn_wd as study

    small = _shrink(smoke, n_train=256, n_test=128, width=4, gd_n=256)
    paper = study.SPEC.resolve("paper", **small)
    ds = study.dataset(paper, device=device)
    labels = study.sgd_grid(paper)

    def fn(epochs: int, every: int) -> object:
        cfg = study.SPEC.resolve("paper", **small, epochs=epochs, probe_every=every)
        return study.run(cfg, ds, labels, name="sgd", epochs=epochs, batch_size=cfg.batch_size, progress=False)

    return [{"chapter": "periodic_bn_wd", "run": "SGD grid",
             "setup": f"ConvNetSI-{paper.width}, {len(ds.x)} CIFAR-10 images, batch {paper.batch_size}",
             "configs": len(labels), "steps_per_epoch": -(-len(ds.x) // paper.batch_size),
             "paper_epochs": paper.epochs, "probe_every": paper.probe_every,
             **two_runs(fn, paper.probe_every, device, cap_s)}]


def eos_ntk(device: str, smoke: bool, cap_s: float) -> list[dict]:
    from lrlab import models
    from lrlab.probes import ntk as ntkp
    from lrlab.studies import eos_ntk as study

    paper = study.SPEC.resolve("paper", **_shrink(smoke, n=200, ntk_n=100, trace_n=100))
    data = study.load_data(paper, device)
    x, y = data.x, data.y
    d_out = 1 if y.dim() == 1 else y.shape[1]
    lr, seed, every = paper.lrs[len(paper.lrs) // 2], paper.seed, 20
    steps = 60 if smoke else 400

    def net():
        return models.scalar_net(models.tanh_mlp(x.shape[1], paper.widths, d_out, seed), d_out).to(x.device)

    study.gd_run(net(), x, y, lr, loss_goal=0.0, max_steps=20, every=every, tol=paper.lanczos_tol, seed=seed)
    _sync(device)
    r = study.gd_run(net(), x, y, lr, loss_goal=0.0, max_steps=steps, every=every, tol=paper.lanczos_tol,
                     seed=seed)
    _sync(device)
    step_s = r.train_s / r.steps
    call_s = r.sharp_s / max(r.sharp_calls, 1)
    model = net()
    ntkp.empirical_ntk(model, x[: paper.ntk_n])
    ntk_s = _timed(lambda: ntkp.empirical_ntk(model, x[: paper.ntk_n]), device)
    bound = 0.0
    for lr_ in paper.lrs:
        calls = math.ceil(paper.max_steps / study.sharp_every(lr_, paper.sharp_dt))
        bound += paper.n_seeds * (paper.max_steps * step_s + calls * call_s + ntk_s)
    setup = (f"tanh MLP {'-'.join(map(str, paper.widths))}, {len(x)} CIFAR-10 images (cifar10-5k), full batch; "
             f"η = {lr:g}, sharpness every {every} steps")
    return [{"chapter": "eos_ntk", "run": "GD grid", "setup": setup,
             "configs": len(paper.lrs) * paper.n_seeds, "steps_timed": r.steps, "step_s": step_s,
             "sharpness_s": call_s, "sharpness_calls": r.sharp_calls,
             "matvecs_per_call": r.matvecs / max(r.sharp_calls, 1),
             "ntk_s": ntk_s, "ntk_n": paper.ntk_n, "paper_max_steps": paper.max_steps, "estimate_s": bound,
             "estimate": "upper bound: every run to max_steps, sharpness at the paper's cadence, NTK at start and end"}]


def convnet_step(device: str, smoke: bool, _cap_s: float) -> list[dict]:
    """One training step of ConvNetSI-32 (batch 128) for K configurations: the K convolutions of a layer one after
    another against one grouped convolution. The two take turns; the median of 7 blocks of 5 steps each."""
    from lrlab.models import ConvNetSI, cross_entropy

    width, batch = (4, 16) if smoke else (32, 128)
    rows = []
    for k in (8, 21):
        seeds = list(range(k))
        models = {"loop": ConvNetSI(seeds, width).to(device),
                  "grouped": ConvNetSI(seeds, width, grouped=True).to(device)}
        gen = torch.Generator().manual_seed(k)
        x = torch.randn(k, batch, 3, 32, 32, generator=gen).to(device)
        y = torch.randint(0, 10, (k, batch), generator=gen).to(device)
        with torch.no_grad():
            out = {name: m(x) for name, m in models.items()}
        diff = float((out["loop"] - out["grouped"]).abs().max() / out["loop"].abs().max())

        def step(m: torch.nn.Module, x: torch.Tensor = x, y: torch.Tensor = y) -> None:
            for p in m.parameters():
                p.grad = None
            cross_entropy(m, x, y).sum().backward()

        for m in models.values():
            for _ in range(3):
                step(m)
        times: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(7):
            for name, m in models.items():
                times[name].append(_timed(lambda m=m: [step(m) for _ in range(5)], device) / 5)
        med = {name: statistics.median(t) for name, t in times.items()}
        rows.append({"chapter": "ConvNetSI step", "run": f"K = {k}", "configs": k,
                     "setup": f"ConvNetSI-{width}, batch {batch}, forward and backward",
                     "loop_ms": 1e3 * med["loop"], "grouped_ms": 1e3 * med["grouped"],
                     "grouped_speedup": med["loop"] / med["grouped"], "max_rel_diff": diff})
    return rows


MEASURES: dict[str, Callable[[str, bool, float], list[dict]]] = {
    "convnet_step": convnet_step,
    "fluctuations": fluctuations, "sphere_regimes": sphere_regimes, "periodic_bn_wd": periodic_bn_wd,
    "eos_ntk": eos_ntk,
}


def machine(device: str) -> dict:
    info = {"device": device, "torch": torch.__version__, "python": platform.python_version(),
            "cpu_threads": torch.get_num_threads()}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update({"gpu": props.name, "gpu_memory_gib": round(props.total_memory / 2**30, 1),
                     "multiprocessors": props.multi_processor_count, "cuda": torch.version.cuda,
                     "cudnn": torch.backends.cudnn.version()})
    return info


def complete(row: dict) -> dict:
    """Add the derived figures: model-steps per second and the estimated wall time of the whole run."""
    if "epoch_s" in row and row["epoch_s"] > 0:
        row["model_steps_per_s"] = row["configs"] * row["steps_per_epoch"] / row["epoch_s"]
        row["estimate_s"] = row["paper_epochs"] * row["epoch_s"]
        row["estimate"] = "paper epochs × epoch time" + (" (bounded by one epoch with set-up)" if row["bound"] else "")
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=("cpu", "cuda"))
    ap.add_argument("--chapters", nargs="+", default=list(CHAPTERS), choices=CHAPTERS)
    ap.add_argument("--standin-cifar", action="store_true",
                    help="write random images of CIFAR-10's shape and load them as CIFAR-10 (timing only)")
    ap.add_argument("--smoke", action="store_true", help="small data: check the script, measure nothing")
    ap.add_argument("--cap", type=float, default=120.0, help="skip the second run of a chapter whose first took longer")
    ap.add_argument("--out", type=Path, default=None, help="results file (default results/paper_gpu.json)")
    args = ap.parse_args(argv)
    os.environ.setdefault("LRLAB_PROGRESS", "0")
    runtime.setup(0, prefer_device=args.device)  # as every chapter starts: seeds, one CPU thread, the device
    out = args.out or (Path(tempfile.gettempdir()) / "lrlab-paper-smoke.json" if args.smoke
                      else RESULTS / "paper_gpu.json")
    tmp = tempfile.TemporaryDirectory(prefix="lrlab-cifar-")
    cifar = "stand-in" if args.standin_cifar or args.smoke else "CIFAR-10 ($LRLAB_CIFAR10)"
    if args.standin_cifar or args.smoke:
        os.environ["LRLAB_CIFAR10"] = str(standin_cifar10(Path(tmp.name), n_train=50_000 if not args.smoke else 512,
                                                          n_test=10_000 if not args.smoke else 256))
    doc = {"name": "paper_gpu", "measured_on": dt.date.today().isoformat(), "machine": machine(args.device),
           "cifar10": cifar, "smoke": args.smoke, "rows": [], "errors": {}}
    for name in args.chapters:
        start = time.perf_counter()
        if args.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        try:
            rows = MEASURES[name](args.device, args.smoke, args.cap)
        except Exception as exc:  # noqa: BLE001 — one chapter's failure is recorded, the others go on
            doc["errors"][name] = "".join(traceback.format_exception(exc))[-4000:]
            print(f"{name}: FAILED\n{doc['errors'][name]}", flush=True)
            rows = []
        for row in rows:
            row["chapter_measure_s"] = time.perf_counter() - start
            if args.device == "cuda":
                row["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
            doc["rows"].append(complete(row))
            print({k: v for k, v in row.items() if k != "setup"}, flush=True)
        write_json(out, doc)
    tmp.cleanup()
    print(f"wrote {out}")
    return 1 if doc["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
