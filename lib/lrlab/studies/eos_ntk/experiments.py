"""The experiments of chapter ``eos_ntk``: the data, one gradient-descent run, the MLP grid, the two-layer linear
network, and the tidy tables the chapter shows and the claims read.

Why a loop here rather than :func:`lrlab.train.train`: that loop trains K configurations as one batched model,
whose Hessian is block-diagonal across configurations. Sharpness needs one Lanczos run per configuration on its own
block, and the matched-loss protocol makes the runs' lengths differ 25-fold across the grid (η = 0.05 needs ~2300
steps, η = 0.8 ~170), so a batched model would spend most of its time on frozen configurations. One plain
``nn.Sequential`` per run (:func:`lrlab.models.tanh_mlp`), with the GD update written out (:func:`gd_run`), keeps
every probe exact and cheap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import Tensor, nn

from lrlab import data as lrdata
from lrlab.config import Config
from lrlab.models import half_mse, scalar_net, tanh_mlp, two_layer_linear
from lrlab.probes import ntk as ntkp
from lrlab.probes.sharpness import SharpnessTracker, hessian_operator, lanczos

BAND = 0.10
"""C1: 'within 10% of 2/η', fixed before any run; also where a run counts as having reached the edge."""
LINEAR_SHARP_DT = 2.0
"""Gradient-flow time between sharpness measurements of the (short) two-layer linear runs."""
DIVERGED_LOSS = 1e4
"""A run whose loss exceeds this (or is NaN/Inf) is recorded as ``diverged``."""


# ---- data ---------------------------------------------------------------------------------------------------


@dataclass
class Data:
    """Training inputs ``x`` (n × d) and targets ``y`` (n,) or (n × k), and the checksum of the inputs."""

    name: str
    x: Tensor
    y: Tensor
    checksum: str


def parity_target(labels: np.ndarray) -> np.ndarray:
    """+1 for an even digit, −1 for an odd one (the chapter's scalar target)."""
    return np.where(np.asarray(labels) % 2 == 0, 1.0, -1.0).astype(np.float32)


def load_data(cfg: Config, device: str = "cpu") -> Data:
    """The chapter's dataset: digits with a parity target, or Cohen's ``cifar10-5k`` with one-hot targets."""
    if cfg.dataset == "digits":
        x, labels = lrdata.digits(cfg.n)
        y = parity_target(labels)
    else:
        images, labels = lrdata.cifar10("train")
        x = images[: cfg.n].reshape(cfg.n, -1)
        y = np.eye(10, dtype=np.float32)[labels[: cfg.n]]  # Cohen: one-hot, 0 elsewhere
        # lrlab.data.cifar10 standardises per channel; Cohen's code standardises per pixel (a small difference)
    return Data(cfg.dataset, torch.from_numpy(x).to(device), torch.from_numpy(y).to(device), lrdata.sha256(x))


# ---- one gradient-descent run ------------------------------------------------------------------------------


@dataclass
class Trace:
    """Follow KTA (on a fixed subset) and sharpness every ``every`` steps for ``steps`` steps from ``start``."""

    x: Tensor
    y: Tensor
    every: int
    steps: int
    start: int | None = None
    rows: list[dict] = field(default_factory=list)


@dataclass
class RunResult:
    """One GD run: its per-step history, status, final model and what its probes cost."""

    lr: float
    seed: int
    status: str
    steps: int
    history: pd.DataFrame
    model: nn.Module
    train_s: float
    sharp_s: float
    trace_s: float
    matvecs: int
    sharp_calls: int
    trace: pd.DataFrame | None = None


def sharp_every(lr: float, dt: float) -> int:
    """Steps between sharpness measurements: one per ``dt`` units of gradient-flow time η·t."""
    return max(1, math.ceil(dt / lr - 1e-9))


def gd_run(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    lr: float,
    *,
    loss_goal: float,
    max_steps: int,
    every: int,
    tol: float = 1e-3,
    early: int = 0,
    trace: Trace | None = None,
    seed: int = 0,
    v0: np.ndarray | None = None,
) -> RunResult:
    """Full-batch GD θ ← θ − η ∇L(θ) until L ≤ ``loss_goal`` (status ``stopped``), ``max_steps`` or divergence.

    The loss of step t is L(θ_t), computed in the same forward pass as the gradient. Sharpness is measured at θ_t
    every ``every`` steps, at every step before ``early``, and at the last step, by warm-started Lanczos
    (:class:`~lrlab.probes.sharpness.SharpnessTracker`; ``v0``, e.g. the eigenvector at initialisation, starts the
    first call). At those steps the step's forward pass serves both the update's gradient and the Hessian-vector
    products (:func:`lrlab.probes.sharpness.hessian_operator`), and the measurement's time counts as tracking.
    With a ``Trace``, once a sharpness measurement first reaches (1 − BAND)·2/η the trace starts: every
    ``trace.every`` steps it records the sharpness and the KTA of the NTK on ``trace.x``. A step whose loss is not
    finite or exceeds ``DIVERGED_LOSS``, or whose Hessian-vector products are not finite, ends the run as
    ``diverged``.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    tracker = SharpnessTracker(tol=tol, seed=seed, v0=v0)
    rows: list[dict] = []
    edge = (1 - BAND) * 2 / lr
    status, step = "running", 0
    t0 = time.perf_counter()
    sharp_s = trace_s = 0.0

    def loss_at() -> Tensor:
        return half_mse(model(x), y)

    def sharpness(loss: Tensor) -> tuple[float, list[Tensor]]:
        """Sharpness at this step, and the gradient for the update from the same backward pass."""
        nonlocal sharp_s
        t = time.perf_counter()
        try:
            op = hessian_operator(model, x, y, loss)
            value = tracker.measure(op).value
        finally:
            sharp_s += time.perf_counter() - t
        return value, op.gradient()

    while True:
        loss = loss_at()
        lval = float(loss.detach())
        bad = not math.isfinite(lval) or lval > DIVERGED_LOSS
        done = bad or lval <= loss_goal or step >= max_steps
        row = {"step": step, "loss": lval, "sharpness": np.nan}
        grads = None
        if not bad and (step % every == 0 or step < early or done):
            try:
                row["sharpness"], grads = sharpness(loss)
            except FloatingPointError:  # the curvature overflowed before the loss did: the run has diverged
                bad = done = True
            if trace is not None and trace.start is None and row["sharpness"] >= edge:
                trace.start = step
        if trace is not None and trace.start is not None and not bad:
            k = step - trace.start
            if k <= trace.steps and k % trace.every == 0:
                t = time.perf_counter()
                try:
                    s = row["sharpness"]
                    if not np.isfinite(s):
                        s = tracker.measure(hessian_operator(model, x, y)).value
                    kern = ntkp.empirical_ntk(model, trace.x)
                    trace.rows.append({"step": step, "loss": lval, "sharpness": s, "kta": ntkp.kta(kern, trace.y)})
                except FloatingPointError:
                    bad = done = True
                trace_s += time.perf_counter() - t
        rows.append(row)
        if done:
            status = "diverged" if bad else ("stopped" if lval <= loss_goal else "max_steps")
            break
        if grads is None:
            grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
        step += 1
    wall = time.perf_counter() - t0
    return RunResult(
        lr=lr, seed=seed, status=status, steps=step, history=pd.DataFrame(rows), model=model,
        train_s=wall - sharp_s - trace_s, sharp_s=sharp_s, trace_s=trace_s, matvecs=tracker.matvecs,
        sharp_calls=tracker.calls,
        trace=pd.DataFrame(trace.rows) if trace is not None else None,
    )


# ---- the MLP grid ------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the chapter shows and the scorecard judges.

    - ``runs``: one row per (seed, η): status, steps, final loss, sharpness at start/end, λ_max(K)/n, KTA and
      A_k at init and at the end, cost of training and of the probes;
    - ``history``: (seed, η, step, loss, sharpness) for every step (sharpness NaN where not measured);
    - ``spectra``: (seed, η, when ∈ {init, final}, i, λ_i/‖λ‖₂, a_i, A_i) for the top ``n_show`` eigenpairs;
    - ``trace``: (seed, η, step, loss, sharpness, kta) along the EoS phase of ``trace_lr``;
    - ``linear``, ``linear_history``: the same for the two-layer linear network.
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    spectra: pd.DataFrame
    trace: pd.DataFrame
    linear: pd.DataFrame | None = None
    linear_history: pd.DataFrame | None = None
    timing: dict = field(default_factory=dict)


def _spectrum_rows(stats_: ntkp.KernelStats, seed: int, lr: float, when: str, n_show: int) -> list[dict]:
    m = min(n_show, stats_.alignment.size)
    cum = np.cumsum(stats_.alignment[:m])
    return [
        {"seed": seed, "lr": lr, "when": when, "i": i + 1, "normalized": float(stats_.normalized[i]),
         "alignment": float(stats_.alignment[i]), "cumulative": float(cum[i])}
        for i in range(m)
    ]


def run_grid(cfg: Config, data: Data, progress: Callable[[str], None] | None = None, n_show: int = 50) -> Results:
    """Train every (seed, η) of the grid to the matched loss; NTK at init and at the end; the C4 trace.

    Every η of one seed starts from the same initialisation (seed ``cfg.seed + s``).
    """
    runs, hist, spec, traces = [], [], [], []
    x, y = data.x, data.y
    d_out = 1 if y.dim() == 1 else y.shape[1]
    xk, yk = x[: cfg.ntk_n], y[: cfg.ntk_n].reshape(-1)
    xt, yt = x[: cfg.trace_n], y[: cfg.trace_n].reshape(-1)
    t_start = time.perf_counter()
    ntk_s = 0.0
    for s in range(cfg.n_seeds):
        seed = cfg.seed + s
        base = scalar_net(tanh_mlp(x.shape[1], cfg.widths, d_out, seed), d_out).to(x.device)
        t = time.perf_counter()
        init = ntkp.kernel_stats(ntkp.empirical_ntk(base, xk), yk)
        ntk_s += time.perf_counter() - t
        top0 = lanczos(hessian_operator(base, x, y), tol=cfg.lanczos_tol,
                       seed=seed)  # every η of this seed starts here: its eigenvector warm-starts each run
        s0 = top0.value
        spec += _spectrum_rows(init, seed, np.nan, "init", n_show)
        for lr in cfg.lrs:
            if progress is not None:
                progress(f"seed {seed}, η = {lr:g}")
            model = scalar_net(tanh_mlp(x.shape[1], cfg.widths, d_out, seed), d_out).to(x.device)
            trace = Trace(xt, yt, cfg.trace_every, cfg.trace_steps) if lr == cfg.trace_lr else None
            early = cfg.catapult_steps if 2 / lr < s0 else 0  # the catapult side: watch the first steps
            r = gd_run(model, x, y, lr, loss_goal=cfg.loss_goal, max_steps=cfg.max_steps,
                       every=sharp_every(lr, cfg.sharp_dt), tol=cfg.lanczos_tol, early=early, trace=trace,
                       seed=seed, v0=top0.vector)
            h = r.history.assign(seed=seed, lr=lr)
            hist.append(h)
            measured = h["sharpness"].dropna()
            row = {"seed": seed, "lr": lr, "status": r.status, "steps": r.steps,
                   "final_loss": float(h["loss"].iloc[-1]),
                   "sharp_init": float(measured.iloc[0]) if len(measured) else np.nan,
                   "sharp_final": float(measured.iloc[-1]) if r.status != "diverged" and len(measured) else np.nan,
                   "kta_init": init.kta, f"A{cfg.top_k}_init": init.top(cfg.top_k),
                   "train_s": r.train_s, "sharp_s": r.sharp_s, "trace_s": r.trace_s, "matvecs": r.matvecs,
                   "sharp_calls": r.sharp_calls}
            if r.status != "diverged":
                t = time.perf_counter()
                fin = ntkp.kernel_stats(ntkp.empirical_ntk(r.model, xk), yk)
                ntk_s += time.perf_counter() - t
                row.update({"kta_final": fin.kta, f"A{cfg.top_k}_final": fin.top(cfg.top_k),
                            "a1_final": float(fin.alignment[0]), "ntk_lmax_over_n": fin.lambda_max / len(yk)})
                spec += _spectrum_rows(fin, seed, lr, "final", n_show)
            runs.append(row)
            if r.trace is not None and len(r.trace):
                traces.append(r.trace.assign(seed=seed, lr=lr))
    runs_df = pd.DataFrame(runs)
    timing = {"grid_s": time.perf_counter() - t_start, "ntk_s": ntk_s,
              "train_s": float(runs_df["train_s"].sum()), "sharp_s": float(runs_df["sharp_s"].sum()),
              "trace_s": float(runs_df["trace_s"].sum())}
    trace_df = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame(
        columns=["step", "loss", "sharpness", "kta", "seed", "lr"])
    return Results(runs_df, pd.concat(hist, ignore_index=True), pd.DataFrame(spec), trace_df, timing=timing)


# ---- the two-layer linear network --------------------------------------------------------------------------


def linear_teacher(n: int, d: int, seed: int) -> tuple[Tensor, Tensor]:
    """x ~ N(0, diag(σ²)) with σ_j² = 1/j (anisotropic), y = xβ, β ~ N(0, I/d), y rescaled to unit variance.

    A realisable linear teacher, the setting of the paper's two-layer linear analysis (its exact data model is not
    at hand; this one is chosen in this chapter).
    """
    rng = np.random.default_rng(seed)
    var = 1.0 / np.arange(1, d + 1)
    x = rng.standard_normal((n, d)) * np.sqrt(var)
    beta = rng.standard_normal(d) / np.sqrt(d)
    y = x @ beta
    y = y / y.std()
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def linear_ntk(model: nn.Sequential, x: Tensor) -> Tensor:
    """The closed form K = X (WᵀW + ‖v‖² I) Xᵀ of f(x) = vᵀWx (∂f/∂v = Wx, ∂f/∂W = v xᵀ); used to check."""
    W, v = model[0].weight.detach(), model[1].weight.detach().reshape(-1)
    return x @ (W.T @ W + v.square().sum() * torch.eye(W.shape[1])) @ x.T


def run_linear(cfg: Config, progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the two-layer linear network on the linear teacher at each η of ``linear_lrs``, every seed.

    Returns one row per (seed, η) (KTA, a_1, A_k at init and end, sharpness) and the per-step history. Its runs
    are short (~100–250 steps), so sharpness is measured every ⌈LINEAR_SHARP_DT/η⌉ steps.
    """
    x, y = linear_teacher(cfg.linear_n, cfg.linear_d, cfg.seed)
    k = cfg.linear_top_k
    rows, hist = [], []
    for s in range(cfg.n_seeds):
        seed = cfg.seed + s
        init = ntkp.kernel_stats(ntkp.empirical_ntk(two_layer_linear(cfg.linear_d, cfg.linear_width, seed), x), y)
        for lr in cfg.linear_lrs:
            if progress is not None:
                progress(f"linear: seed {seed}, η = {lr:g}")
            model = two_layer_linear(cfg.linear_d, cfg.linear_width, seed)
            r = gd_run(model, x, y, lr, loss_goal=cfg.linear_loss_goal, max_steps=cfg.max_steps,
                       every=sharp_every(lr, LINEAR_SHARP_DT), tol=cfg.lanczos_tol, seed=seed)
            h = r.history.assign(seed=seed, lr=lr)
            hist.append(h)
            measured = h["sharpness"].dropna()
            row = {"seed": seed, "lr": lr, "status": r.status, "steps": r.steps,
                   "sharp_init": float(measured.iloc[0]), "sharp_max": float(measured.max()),
                   "sharp_final": float(measured.iloc[-1]) if r.status != "diverged" else np.nan,
                   "kta_init": init.kta, "a1_init": float(init.alignment[0]), f"A{k}_init": init.top(k)}
            if r.status != "diverged":
                fin = ntkp.kernel_stats(ntkp.empirical_ntk(r.model, x), y)
                row.update({"kta_final": fin.kta, "a1_final": float(fin.alignment[0]), f"A{k}_final": fin.top(k)})
            rows.append(row)
    return pd.DataFrame(rows), pd.concat(hist, ignore_index=True)


def run(cfg: Config, device: str = "cpu", progress: Callable[[str], None] | None = None) -> Results:
    """The whole chapter: the MLP grid (with the trace) and the two-layer linear network."""
    data = load_data(cfg, device)
    res = run_grid(cfg, data, progress)
    t = time.perf_counter()
    res.linear, res.linear_history = run_linear(cfg, progress)
    res.timing["linear_s"] = time.perf_counter() - t
    return res


# ---- analysis ----------------------------------------------------------------------------------------------


def edge_table(res: Results) -> pd.DataFrame:
    """C1, per (seed, η): does the run reach the edge by progressive sharpening, and does it then stay there?

    ``s0`` initial sharpness; ``progressive``: s0 < (1 − BAND)·2/η (it must sharpen to get there); ``reached``:
    some later measurement ≥ (1 − BAND)·2/η; the *EoS phase* runs from that measurement to the end;
    ``in_band``: the share of its measurements within ±BAND of 2/η; ``median_ratio``: median sharpness·η/2 there;
    ``catapult``: 2/η < s0.
    """
    rows = []
    for (seed, lr), g in res.history.groupby(["seed", "lr"]):
        m = g.dropna(subset=["sharpness"])
        ratio = (m["sharpness"] * lr / 2).to_numpy()
        s0 = float(m["sharpness"].iloc[0])
        progressive = bool(ratio[0] < 1 - BAND)
        hit = np.flatnonzero(ratio >= 1 - BAND)
        reached = progressive and hit.size > 0
        phase = ratio[hit[0]:] if reached else np.array([])
        rows.append({
            "seed": seed, "lr": lr, "two_over_lr": 2 / lr, "s0": s0, "catapult": bool(2 / lr < s0),
            "progressive": progressive, "reached": reached,
            "entry_step": int(m["step"].iloc[hit[0]]) if reached else np.nan,
            "eos_points": int(phase.size),
            "in_band": float(np.mean(np.abs(phase - 1) <= BAND)) if phase.size else np.nan,
            "median_ratio": float(np.median(phase)) if phase.size else np.nan,
            "max_ratio": float(phase.max()) if phase.size else np.nan,
        })
    return pd.DataFrame(rows)


def rank_by_seed(table: pd.DataFrame, column: str) -> pd.Series:
    """Spearman rank correlation between η and ``column``, per seed, over the runs that did not diverge."""
    out = {}
    for seed, g in table.groupby("seed"):
        g = g.dropna(subset=[column])
        out[seed] = float(stats.spearmanr(g["lr"], g[column]).statistic) if len(g) >= 2 else np.nan
    return pd.Series(out, name=f"spearman_{column}")


def trace_changes(trace: pd.DataFrame) -> pd.DataFrame:
    """C4, per seed: correlation of the per-interval changes ΔKTA and Δsharpness along the EoS trace.

    Also the summed ΔKTA over intervals in which the sharpness fell and over those in which it rose.
    """
    rows = []
    for seed, g in trace.groupby("seed"):
        g = g.sort_values("step")
        ds, dk = np.diff(g["sharpness"].to_numpy()), np.diff(g["kta"].to_numpy())
        corr = float(np.corrcoef(ds, dk)[0, 1]) if ds.size >= 3 and ds.std() > 0 and dk.std() > 0 else np.nan
        rows.append({"seed": seed, "lr": float(g["lr"].iloc[0]), "points": len(g), "corr": corr,
                     "dkta_when_falling": float(dk[ds < 0].sum()), "dkta_when_rising": float(dk[ds > 0].sum())})
    return pd.DataFrame(rows, columns=["seed", "lr", "points", "corr", "dkta_when_falling", "dkta_when_rising"])


def catapult_table(res: Results, early: int) -> pd.DataFrame:
    """C6, per (seed, η) with 2/η < initial sharpness: over the first ``early`` steps, the highest loss relative to
    the initial one, the lowest sharpness relative to 2/η, and the run's status."""
    rows = []
    edges = edge_table(res)
    for r in edges[edges["catapult"]].itertuples():
        g = res.history[(res.history["seed"] == r.seed) & (res.history["lr"] == r.lr)]
        first = g[g["step"] <= early]
        run = res.runs[(res.runs["seed"] == r.seed) & (res.runs["lr"] == r.lr)].iloc[0]
        rows.append({"seed": r.seed, "lr": r.lr, "s0": r.s0, "status": run["status"],
                     "loss_peak_ratio": float(first["loss"].max() / first["loss"].iloc[0]),
                     "min_sharp_ratio": float(first["sharpness"].min() * r.lr / 2),
                     "step_of_min": int(first.loc[first["sharpness"].idxmin(), "step"])})
    return pd.DataFrame(rows, columns=["seed", "lr", "s0", "status", "loss_peak_ratio", "min_sharp_ratio",
                                       "step_of_min"])


def cost_table(res: Results) -> pd.DataFrame:
    """What the probes cost, per η (summed over seeds): training, sharpness tracking, the trace, and the ratio of
    tracking to training. Runs on the catapult side also measure every one of their first steps."""
    g = res.runs.groupby("lr")
    out = g[["steps", "train_s", "sharp_s", "trace_s", "matvecs", "sharp_calls"]].sum()
    out["matvecs_per_call"] = out["matvecs"] / out["sharp_calls"]
    out["sharp_over_train"] = out["sharp_s"] / out["train_s"]
    out["ms_per_step"] = 1000 * out["train_s"] / out["steps"]
    return out
