"""Training K configurations of a small model: one after another, in parallel processes, and batched.

The workload is the sphere chapter's regime map at scale ``book`` (``sphere_regimes``: K = 10 ELRs × 3 seeds = 30
scale-invariant BN MLPs 196-64-64-10, projected SGD, batch 128). Every variant trains the same K configurations
for the same epochs on the same data, and configuration k must end with the same weights in all of them:

- ``sequential``: one process, one thread, one configuration at a time;
- ``processes``: two worker processes (one thread each), each training its half one configuration at a time;
- ``batched``: one process, one thread, all K as one batched ``bmm`` computation (:mod:`lrlab.nn`);
- ``batched x 2 processes``: two worker processes, each training its half batched (both cores busy).

One training step is also timed on its own, three ways: one configuration at a time, ``torch.func.vmap`` over
``grad``, and the hand-batched ``bmm`` model the chapters use (:func:`step_rows`); and parts of it against what
they replaced: batch norm, and batch norm with its ReLU as one compiled layer (:func:`bn_rows`), the padded head
(:func:`head_rows`) and the loss (:func:`loss_rows`); and the fluctuations chapter's Adam step, compiled, against
torch's operations (:func:`adam_rows`).

Throughput is model-steps per second of steady-state training: each variant runs ``--epochs`` and 2 epochs, in
turn, ``--repeats`` times, and the difference of the two wall times (medians of repeats) prices the extra steps
alone, without the fixed costs both runs share (building the models, the probes at the start and the end). The
workers are started and warmed up before the clock runs. The arithmetic floor is the step's floating-point
operations (torch's ``FlopCounterMode``) at the matrix-multiply rate of the cores the variant uses, measured in the
processes that run it (both workers at once for a two-process variant) just before each of its repeats, the
median taken: the floor sees the machine state the runs saw (a VM's speed drifts by tens of percent over seconds).

    OMP_NUM_THREADS=1 python benchmarks/bench_training.py [--epochs 22] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

import common
from lrlab import runtime
from lrlab.nn import batch_normalize, bn_relu, unfused
from lrlab.studies import sphere_regimes as st

_DATA: dict = {}


def _config(epochs: int):
    return st.SPEC.resolve(scale="book", epochs=epochs, probe_every=epochs)


def _data(cfg):
    if "d" not in _DATA:
        _DATA["d"] = st.load_data(cfg)
    return _DATA["d"]


def _init() -> None:
    runtime.set_threads(1)


def matmul_rate(n: int, seconds: float = 0.5) -> float:
    """GFLOP/s of n×n×n float32 products on this process's thread: the median over at least 7 products and at
    least ``seconds``, long enough that the two workers' measurements overlap however their starts are skewed."""
    fn, ops = common.matmul(n)
    times = []
    end = time.perf_counter() + seconds
    while len(times) < 7 or time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return ops / float(np.median(times)) / 1e9


def cores_rate(pool: ProcessPoolExecutor | None, n: int) -> float:
    """The aggregate matrix-multiply rate of the cores a variant uses: this process alone (``pool`` None), or both
    workers at once (each on its own core, as the variant runs)."""
    if pool is None:
        return matmul_rate(n)
    return sum(f.result() for f in [pool.submit(matmul_rate, n) for _ in range(2)])


def train_part(elrs: list[float], seeds: list[int], epochs: int, batched: bool) -> list[np.ndarray]:
    """Train the given configurations (all at once, or one at a time); return each one's first-layer weights."""
    cfg = _config(epochs)
    d = _data(cfg)
    if batched:
        _, net = st.train_on_sphere(cfg, d, elrs, seeds, epochs, desc="batched")
        w = next(net.parameters()).detach()
        return [w[k].numpy().copy() for k in range(len(elrs))]
    out = []
    for e, s in zip(elrs, seeds):
        _, net = st.train_on_sphere(cfg, d, [e], [s], epochs, desc="one")
        out.append(next(net.parameters()).detach()[0].numpy().copy())
    return out


def in_processes(pool: ProcessPoolExecutor, elrs, seeds, epochs: int, batched: bool) -> list[np.ndarray]:
    half = len(elrs) // 2
    parts = [(list(elrs[:half]), list(seeds[:half])), (list(elrs[half:]), list(seeds[half:]))]
    futures = [pool.submit(train_part, e, s, epochs, batched) for e, s in parts]
    return [w for f in futures for w in f.result()]


def step_flops(elrs, seeds) -> float:
    """Matmul FLOPs of one model-step: (two epochs − one epoch) of batched training, over K × steps per epoch."""
    def run(epochs):
        cfg = _config(epochs)
        return common.flops(lambda: st.train_on_sphere(cfg, _data(cfg), elrs, seeds, epochs, desc="count"))

    cfg = _config(1)
    steps = -(-cfg.n_train // cfg.batch_size)
    return (run(2) - run(1)) / (len(elrs) * steps)


def step_rows(K: int = 30, B: int = 128, steps: int = 20, repeats: int = 5) -> list[dict]:
    """One projected-SGD step of K SI MLPs 196-64-64-10 (the regime map's model and batch), three ways, from the
    same weights on the same per-configuration batches, which must end equal:

    - ``one at a time``: K forward/backward passes of a one-configuration model (plain autograd);
    - ``vmap``: ``torch.func.vmap`` over ``torch.func.grad`` of the one-configuration loss;
    - ``batched``: the K-configuration model's ``bmm`` layers (:mod:`lrlab.nn`), one backward pass.

    The weight update and the projection onto each configuration's sphere are the same batched tensor operations
    in all three; only the gradient differs in how it is computed.
    """
    from torch.func import functional_call, grad, vmap

    from lrlab.models import SIMLP

    sizes = [196, 64, 64, 10]
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(K, B, sizes[0], generator=gen), torch.randint(0, sizes[-1], (K, B), generator=gen)
    lr = torch.linspace(0.1, 1.0, K).view(-1, 1, 1)
    many, one = SIMLP(sizes, list(range(K))), SIMLP(sizes, [0])
    names = [n for n, p in many.named_parameters() if p.requires_grad]
    w0 = [p.detach().clone() for n, p in many.named_parameters() if p.requires_grad]
    head = many.head.weight.detach()
    rho0 = torch.sqrt(sum(w.flatten(1).square().sum(1) for w in w0))

    def step(ws, grads):  # SGD, then each configuration's SI weights back to norm rho0 (si.Projector's formula)
        ws = [w - lr * g for w, g in zip(ws, grads)]
        r = torch.sqrt(sum(w.flatten(1).square().sum(1) for w in ws))
        return [w * (rho0 / r).view(-1, 1, 1) for w in ws]

    def loss_one(ws, h, xk, yk):  # configuration k alone, every tensor with a leading axis of 1
        out = functional_call(one, {**dict(zip(names, ws)), "head.weight": h}, (xk,))
        return torch.nn.functional.cross_entropy(out[0], yk)

    def grads_one_at_a_time(ws):
        per = []
        for k in range(K):
            wk = [w[k : k + 1].clone().requires_grad_() for w in ws]
            per.append(torch.autograd.grad(loss_one(wk, head[k : k + 1], x[k : k + 1], y[k]), wk))
        return [torch.cat(g) for g in zip(*per)]

    vmapped = vmap(grad(lambda ws, h, xk, yk: loss_one([w[None] for w in ws], h[None], xk[None], yk)))

    def grads_batched(ws):
        ws = [w.clone().requires_grad_() for w in ws]
        out = functional_call(many, dict(zip(names, ws)), (x,))
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, sizes[-1]), y.reshape(-1), reduction="none")
        return list(torch.autograd.grad(loss.view(K, B).mean(1).sum(), ws))

    variants = {"one at a time": grads_one_at_a_time, "vmap": lambda ws: vmapped(ws, head, x, y),
                "batched": grads_batched}

    def train(grads_fn):
        ws = w0
        for _ in range(steps):
            ws = step(ws, grads_fn(ws))
        return ws

    seconds, final = {}, {}
    for name, fn in variants.items():
        seconds[name], final[name] = common.median_time(lambda fn=fn: train(fn), repeats)
    with unfused():  # vmap runs torch's BN (torch.func cannot trace the fused layer): its reference does too
        torch_ops = train(grads_one_at_a_time)
    for name, ref in (("vmap", torch_ops), ("batched", final["one at a time"])):
        for a, b in zip(ref, final[name]):
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=f"{name}: weights differ after {steps} steps")
    rate = {name: K * steps / t for name, t in seconds.items()}
    note = f"{K} configurations, batch {B}, {steps} steps; median of {repeats}; equal weights at the end"
    return [common.row(f"training step, K = {K}, one thread: {name} vs one at a time", name, rate[name],
                       "one at a time", rate["one at a time"], rate[name] / rate["one at a time"], "", None,
                       unit="model-steps/s", note=note) for name in ("vmap", "batched")]


def bn_rows() -> list[dict]:
    """Batch normalisation forward + backward at the regime map's shape (K, B, W) = (30, 128, 64): torch's fused
    kernel (:func:`lrlab.nn.batch_normalize`) against the formula written out, which the profile showed dominating."""
    x0 = torch.randn(30, 128, 64, generator=torch.Generator().manual_seed(0))
    w = torch.randn_like(x0)

    def written_out(x):
        mean = x.mean(dim=1, keepdim=True)
        return (x - mean) / torch.sqrt((x - mean).square().mean(dim=1, keepdim=True) + 1e-5)

    def fused(x):
        return batch_normalize(x, None, 1e-5)

    def fwd_bwd(fn):
        x = x0.clone().requires_grad_()
        (fn(x) * w).sum().backward()
        return x.grad

    torch.testing.assert_close(fwd_bwd(fused), fwd_bwd(written_out), rtol=1e-4, atol=1e-5)
    t_fused, _ = common.median_time(lambda: [fwd_bwd(fused) for _ in range(20)], 5)
    t_out, _ = common.median_time(lambda: [fwd_bwd(written_out) for _ in range(20)], 5)
    rows = [common.row("batch norm (30, 128, 64), forward + backward: fused kernel vs formula written out",
                       "fused", t_fused / 20, "written out", t_out / 20, t_out / t_fused, "", None)]

    def compiled(x):  # lrlab.nn.bn_relu: BN and the ReLU after it, one compiled pass each way
        return bn_relu(x, 1e-5)

    def torch_ops(x):
        return torch.relu(batch_normalize(x, None, 1e-5))

    torch.testing.assert_close(fwd_bwd(compiled), fwd_bwd(torch_ops), rtol=1e-5, atol=1e-5)
    t = common.interleaved({"compiled": lambda: fwd_bwd(compiled), "torch": lambda: fwd_bwd(torch_ops)}, 41, block=3)
    rows.append(common.row("batch norm + ReLU (30, 128, 64), forward + backward: one compiled pass each way "
                           "(lrlab.nn.bn_relu) vs torch's kernels", "compiled", t["compiled"], "torch's kernels",
                           t["torch"], t["torch"] / t["compiled"], "", None))
    return rows


def head_rows() -> list[dict]:
    """The regime map's head, (K, B, 64) → 10 classes at (K, B) = (30, 128), forward and backward with the ReLU
    before it and the cross-entropy after it: :class:`lrlab.nn.BLinear`, which pads a layer narrower than
    ``lrlab.nn.NARROW`` outputs with zero columns, against a plain ``bmm``, interleaved; the gradients must agree."""
    import lrlab.nn as bnn

    K, B, width, classes = 30, 128, 64, 10
    gen = torch.Generator().manual_seed(0)
    z0, y = torch.randn(K, B, width, generator=gen), torch.randint(0, classes, (K * B,), generator=gen)
    head = bnn.BLinear(width, classes, bnn.generators(range(K)), bias=False)

    def fwd_bwd(padded: bool):
        z = z0.clone().requires_grad_()
        h = torch.relu(z)
        out = head(h) if padded else torch.bmm(h, head.weight)
        torch.nn.functional.cross_entropy(out.reshape(-1, classes), y).backward()
        return z.grad

    torch.testing.assert_close(fwd_bwd(True), fwd_bwd(False), rtol=1e-5, atol=1e-7)
    t = common.interleaved({"padded": lambda: fwd_bwd(True), "plain": lambda: fwd_bwd(False)}, 41, block=3)
    return [common.row(f"head ({K}, {B}, {width}) → {classes}, forward + backward: padded to {bnn.NARROW} outputs vs "
                       "plain bmm", "padded", t["padded"], "plain bmm", t["plain"], t["plain"] / t["padded"], "",
                       None)]


def loss_rows() -> list[dict]:
    """The regime map's loss, cross-entropy of (K, B) = (30, 128) examples over 10 classes, forward and backward:
    :func:`lrlab.models.example_losses` (classes as dimension 1 of a transposed view) against the flattened
    ``(K·B, C)`` call it replaced, interleaved; losses and gradients must agree."""
    from lrlab.models import example_losses

    K, B, classes = 30, 128, 10
    gen = torch.Generator().manual_seed(0)
    z0, y = torch.randn(K, B, classes, generator=gen), torch.randint(0, classes, (K, B), generator=gen)

    def fwd_bwd(ours: bool):
        z = z0.clone().requires_grad_()
        losses = example_losses(z, y) if ours else torch.nn.functional.cross_entropy(
            z.reshape(K * B, classes), y.reshape(-1), reduction="none").view(K, B)
        losses.mean(1).sum().backward()
        return losses.detach(), z.grad

    for a, b in zip(fwd_bwd(True), fwd_bwd(False)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    t = common.interleaved({"ours": lambda: fwd_bwd(True), "flat": lambda: fwd_bwd(False)}, 41, block=3)
    return [common.row(f"cross-entropy ({K}, {B}) × {classes} classes, forward + backward: classes as dimension 1 "
                       "vs the last dimension of the flattened logits", "classes as dimension 1", t["ours"],
                       "flattened", t["flat"], t["flat"] / t["ours"], "", None)]


def adam_rows() -> list[dict]:
    """One Adam step of the fluctuations chapter's grid at scale ``book`` (K = 9 autoencoders 784-128-16-128-784,
    1.85 million weights): :class:`lrlab.optim.Adam`'s compiled pass against the same step in torch's operations
    (inside :func:`lrlab.nn.unfused`), interleaved, each on its own copy of the weights and moments; ten steps of
    both must end close (they differ at rounding: torch's vectorised square root is not correctly rounded)."""
    from lrlab.optim import Adam
    from lrlab.studies.fluctuations import autoencoder

    K = 9
    model = autoencoder((128, 16), list(range(K)))
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(p.shape, generator=gen) * 0.1 for p in model.parameters()]

    def optimiser():
        ps = [p.detach().clone().requires_grad_() for p in model.parameters()]
        for p, g in zip(ps, grads):
            p.grad = g
        return ps, Adam(ps, [1e-2, 1e-3, 1e-4] * 3)

    (ours, opt), (theirs, ref) = optimiser(), optimiser()

    def torch_ops():
        with unfused():
            ref.step()

    for _ in range(10):
        opt.step()
        torch_ops()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    t = common.interleaved({"compiled": opt.step, "torch": torch_ops}, 41, block=3)
    n = sum(p.numel() for p in ours)
    return [common.row(f"Adam step, {K} autoencoders 784-128-16-128-784 ({n / 1e6:.2f} M weights): one compiled "
                       "pass (lrlab.optim.Adam) vs torch's operations", "compiled", t["compiled"], "torch's operations",
                       t["torch"], t["torch"] / t["compiled"], "", None, note="the fluctuations chapter's Adam grid "
                       "at scale book; equal to rounding after 10 steps")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=22)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    runtime.setup(0, threads=1)
    cfg = _config(args.epochs)
    elrs = np.repeat(cfg.elrs, cfg.n_seeds).tolist()
    seeds = np.tile(np.arange(cfg.n_seeds), len(cfg.elrs)).tolist()
    short = 2
    if args.epochs <= short:
        raise SystemExit(f"--epochs = {args.epochs} is not allowed: it must be > {short}")
    K, steps = len(elrs), (args.epochs - short) * -(-cfg.n_train // cfg.batch_size)
    rate, size = common.matmul_best()  # the size whose product runs fastest sets the strictest floor
    per_step = step_flops(elrs, seeds)

    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"), initializer=_init) as pool:
        in_processes(pool, elrs, seeds, 1, batched=False)  # start and warm both workers
        variants = {
            "sequential": (None, lambda e: train_part(elrs, seeds, e, batched=False)),
            "processes": (pool, lambda e: in_processes(pool, elrs, seeds, e, batched=False)),
            "batched": (None, lambda e: train_part(elrs, seeds, e, batched=True)),
            "batched x 2 processes": (pool, lambda e: in_processes(pool, elrs, seeds, e, batched=True)),
        }
        timing, weights, rates = {}, {}, {}
        for name, (where, fn) in variants.items():
            runs: dict[str, list[float]] = {"rate": [], "long": [], "short": []}
            for _ in range(args.repeats):
                runs["rate"].append(cores_rate(where, size))
                for key, epochs in (("long", args.epochs), ("short", short)):
                    seconds, out = common.median_time(lambda fn=fn, epochs=epochs: fn(epochs), 1)
                    runs[key].append(seconds)
                    if key == "long":
                        weights[name] = out
            timing[name] = float(np.median(runs["long"]) - np.median(runs["short"]))
            rates[name] = runs["rate"]
    for name, ws in weights.items():
        for k, (a, b) in enumerate(zip(weights["sequential"], ws)):
            np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4, err_msg=f"{name}: configuration {k} differs")

    throughput = {name: K * steps / t for name, t in timing.items()}
    floor = {name: float(np.median(r)) * 1e9 / per_step for name, r in rates.items()}  # model-steps/s, its cores
    rows = []
    for name in ("processes", "batched", "batched x 2 processes"):
        two = variants[name][0] is not None
        target, met = ("≥ 1.8×", throughput[name] / throughput["sequential"] >= 1.8) if two else ("", None)
        rows.append(common.row(f"training K = {K}: {name} vs sequential", name, throughput[name], "sequential",
                               throughput["sequential"], throughput[name] / throughput["sequential"], target, met,
                               unit="model-steps/s"))
    best = max(throughput, key=throughput.get)
    cores = 2 if variants[best][0] is not None else 1
    gap = floor[best] / throughput[best]
    rows.append(common.row(f"training K = {K}: fastest ({best}) vs arithmetic floor", best, throughput[best],
                           f"floor on {cores} core(s)", floor[best], gap, "≤ 3× the floor", gap <= 3,
                           unit="model-steps/s", note=f"ratio = floor throughput / measured throughput; matmul rate "
                           f"{np.median(rates[best]):.0f} GFLOP/s on the {cores} core(s), measured in the variant's "
                           f"processes before each repeat"))
    rows += step_rows() + bn_rows() + head_rows() + loss_rows() + adam_rows()
    common.save("training", "Training many configurations (sphere regime map)", rows, {
        "K": K, "steps_timed": steps, "epochs": [short, args.epochs], "seconds": timing,
        "model_steps_per_s": throughput,
        "matmul_gflops_1_thread_best": rate, "matmul_size": size, "matmul_gflops_cores_in_use": rates,
        "step_mflop": per_step / 1e6, "floor_model_steps_per_s": floor,
        "threads": torch.get_num_threads(),
    })


if __name__ == "__main__":
    main()
