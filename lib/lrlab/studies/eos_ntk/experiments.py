"""The experiments of chapter ``eos_ntk``: the data, the settings (an architecture on a target), one
gradient-descent run, the grid of runs per setting, and the two-layer linear network.

Why a loop here rather than :func:`lrlab.train.train`: that loop trains K configurations as one batched model,
whose Hessian is block-diagonal across configurations. Sharpness needs one Lanczos run per configuration on its own
block, and the matched-loss protocol makes the runs' lengths differ many-fold across the grid (a small η needs
thousands of steps, the largest a few hundred), so a batched model would spend most of its time on frozen
configurations. One plain ``nn.Sequential`` per run (:func:`lrlab.models.mlp`), with the GD update written out
(:func:`gd_run`), keeps every probe exact and cheap.

Three names are the chapter's single points of contact with what its claims are about, so that a mutant
(:mod:`lrlab.studies.eos_ntk.mutants`) can break one of them without touching the rest: :func:`measure_sharpness` (the
sharpness), :func:`gd_step` (the update, and so the step size), :func:`kernel` (the NTK whose alignment is measured).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lrlab import data as lrdata
from lrlab.config import Config
from lrlab.models import half_mse, mlp, scalar_net, two_layer_linear
from lrlab.probes import ntk as ntkp
from lrlab.probes.sharpness import HessianOperator, SharpnessTracker, hessian_operator

BAND = 0.10
"""A run *reaches the edge* when a sharpness measurement gets to (1 − BAND)·2/η after starting below that."""
LINEAR_SHARP_DT = 2.0
"""Gradient-flow time between sharpness measurements of the (short) two-layer linear runs."""
DIVERGED_LOSS = 1e4
"""A run whose loss exceeds this (or is NaN/Inf) is recorded as ``diverged``."""
CLASSES = 10
"""Digits' classes: the multi-class target is one-hot over them (0 elsewhere, as in Cohen et al.'s code)."""


# ---- data and settings -------------------------------------------------------------------------------------


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


def onehot_target(labels: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """One-hot rows, 1 for the label and 0 elsewhere (Cohen et al.'s MSE targets)."""
    return np.eye(classes, dtype=np.float32)[np.asarray(labels)]


def load_data(cfg: Config, device: str = "cpu") -> Data:
    """The chapter's dataset: digits with a parity target, or Cohen's ``cifar10-5k`` with one-hot targets."""
    if cfg.dataset == "digits":
        x, labels = lrdata.digits(cfg.n)
        y = parity_target(labels)
    else:
        images, labels = lrdata.cifar10("train")
        x = images[: cfg.n].reshape(cfg.n, -1)
        y = onehot_target(labels[: cfg.n])
        # lrlab.data.cifar10 standardises per channel; Cohen's code standardises per pixel (a small difference)
    return Data(cfg.dataset, torch.from_numpy(x).to(device), torch.from_numpy(y).to(device), lrdata.sha256(x))


def load_multiclass(cfg: Config, device: str = "cpu") -> Data:
    """The multi-class setting's data: the first ``multi_n`` digits with one-hot targets over the ten classes."""
    x, labels = lrdata.digits(cfg.multi_n)
    return Data("digits-onehot", torch.from_numpy(x).to(device), torch.from_numpy(onehot_target(labels)).to(device),
                lrdata.sha256(x))


@dataclass
class Setting:
    """One architecture on one target, trained at each η of ``lrs``.

    ``ntk_n``: the NTK is computed on the first ``ntk_n`` examples; ``k``: A_k counts the top ``k`` eigenvectors
    (``top_k`` per output: with d outputs the kernel is (n·d) × (n·d) and, at initialisation, close to d copies
    of one n × n kernel); ``trace_from``: every η from it up that starts below the edge has its EoS phase traced
    (None: no trace).
    """

    name: str
    label: str
    activation: str
    widths: tuple[int, ...]
    data: Data
    lrs: tuple[float, ...]
    ntk_n: int
    k: int
    trace_from: float | None = None

    @property
    def d_out(self) -> int:
        return 1 if self.data.y.dim() == 1 else int(self.data.y.shape[1])

    def model(self, seed: int) -> nn.Sequential:
        x = self.data.x
        return scalar_net(mlp(x.shape[1], self.widths, self.d_out, seed, self.activation), self.d_out).to(x.device)


def settings(cfg: Config, device: str = "cpu", data: Data | None = None) -> list[Setting]:
    """The chapter's settings: Cohen's fc-tanh on the main target; with ``relu``, fc-relu on the same data; with
    ``multiclass``, fc-tanh on the ten-class one-hot digits target."""
    data = load_data(cfg, device) if data is None else data
    target = "parity" if data.y.dim() == 1 else "one-hot"
    d_out = 1 if data.y.dim() == 1 else data.y.shape[1]
    out = [Setting("tanh", f"tanh MLP, {target}", "tanh", cfg.widths, data, cfg.lrs, cfg.ntk_n, cfg.top_k * d_out,
                   cfg.trace_lr)]
    if cfg.relu:
        out.append(Setting("relu", f"ReLU MLP, {target}", "relu", cfg.widths, data, cfg.relu_lrs, cfg.ntk_n,
                           cfg.top_k * d_out))
    if cfg.multiclass:
        multi = load_multiclass(cfg, device)
        out.append(Setting("multiclass", "tanh MLP, 10 classes", "tanh", cfg.widths, multi, cfg.multi_lrs,
                           cfg.multi_ntk_n, cfg.top_k * CLASSES))
    return out


# ---- the three points of contact ---------------------------------------------------------------------------


def sharp_every(lr: float, dt: float) -> int:
    """Steps between sharpness measurements: about ``dt`` units of gradient-flow time η·t, rounded up to an even
    number. At the edge the iterates oscillate with period two; an even stride measures them on the same side of
    the valley every time instead of alternating between the two."""
    return 2 * max(1, math.ceil(dt / (2 * lr) - 1e-9))


def measure_sharpness(tracker: SharpnessTracker, op: HessianOperator) -> float:
    """The sharpness λ_max(∇²L) at the operator's parameters, by the tracker's warm-started Lanczos: every
    sharpness the chapter records goes through here."""
    return tracker.measure(op).value


def gd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> None:
    """One full-batch gradient-descent update θ ← θ − η ∇L(θ), in place."""
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(lr * g)


def kernel(model: nn.Module, x: Tensor) -> Tensor:
    """The empirical NTK of ``model`` on ``x`` (:func:`lrlab.probes.ntk.empirical_ntk`), rows example-major."""
    return ntkp.empirical_ntk(model, x)


# ---- one gradient-descent run ------------------------------------------------------------------------------


@dataclass
class Trace:
    """Follow the sharpness and the NTK on a fixed subset (KTA, A_k, λ_max/n) every ``every`` steps for ``steps``
    steps from ``start``, the first stride measurement at the edge after one below it."""

    x: Tensor
    y: Tensor
    every: int
    steps: int
    k: int
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
    """Full-batch GD (:func:`gd_step`) until L ≤ ``loss_goal`` (status ``stopped``), ``max_steps`` or divergence.

    The loss of step t is L(θ_t), computed in the same forward pass as the gradient. Sharpness
    (:func:`measure_sharpness`) is measured at θ_t every ``every`` steps (``probe`` = ``stride``), at every step
    before ``early`` (``early``) and at the last step (``final``), by warm-started Lanczos (``v0``, e.g. the
    eigenvector at initialisation, starts the first call). At those steps the step's forward pass serves both the
    update's gradient and the Hessian-vector products, and the measurement's time counts as tracking. With a
    ``Trace``, once a stride measurement reaches (1 − BAND)·2/η after one below it, the trace starts: every
    ``trace.every`` steps it records the sharpness and the NTK's KTA, A_k and λ_max/n on ``trace.x``. A step
    whose loss is not finite or exceeds ``DIVERGED_LOSS``, or whose Hessian-vector products are not finite, ends
    the run as ``diverged``.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    tracker = SharpnessTracker(tol=tol, seed=seed, v0=v0)
    rows: list[dict] = []
    edge = (1 - BAND) * 2 / lr
    status, step, below = "running", 0, False
    t0 = time.perf_counter()
    sharp_s = trace_s = 0.0

    def sharpness(loss: Tensor) -> tuple[float, list[Tensor]]:
        """Sharpness at this step, and the gradient for the update from the same backward pass."""
        nonlocal sharp_s
        t = time.perf_counter()
        try:
            op = hessian_operator(model, x, y, loss)
            value = measure_sharpness(tracker, op)
        finally:
            sharp_s += time.perf_counter() - t
        return value, op.gradient()

    while True:
        loss = half_mse(model(x), y)
        lval = float(loss.detach())
        bad = not math.isfinite(lval) or lval > DIVERGED_LOSS
        done = bad or lval <= loss_goal or step >= max_steps
        row = {"step": step, "loss": lval, "sharpness": np.nan, "probe": ""}
        grads = None
        probe = "stride" if step % every == 0 else "early" if step < early else "final" if done else ""
        if not bad and probe:
            try:
                row["sharpness"], grads = sharpness(loss)
                row["probe"] = probe
            except FloatingPointError:  # the curvature overflowed before the loss did: the run has diverged
                bad = done = True
            if trace is not None and probe == "stride" and math.isfinite(row["sharpness"]):
                if row["sharpness"] < edge:
                    below = True
                elif below and trace.start is None:
                    trace.start = step
        if trace is not None and trace.start is not None and not bad:
            k = step - trace.start
            if k <= trace.steps and k % trace.every == 0:
                t = time.perf_counter()
                try:
                    s = row["sharpness"]
                    if not np.isfinite(s):
                        s = measure_sharpness(tracker, hessian_operator(model, x, y))
                    st = ntkp.kernel_stats(kernel(model, trace.x), trace.y)
                    trace.rows.append({"step": step, "loss": lval, "sharpness": s, "kta": st.kta,
                                       "A": st.top(min(trace.k, st.alignment.size)),
                                       "lmax_over_n": st.lambda_max / len(trace.x)})
                except FloatingPointError:
                    bad = done = True
                trace_s += time.perf_counter() - t
        rows.append(row)
        if done:
            status = "diverged" if bad else ("stopped" if lval <= loss_goal else "max_steps")
            break
        if grads is None:
            grads = torch.autograd.grad(loss, params)
        gd_step(params, grads, lr)
        step += 1
    wall = time.perf_counter() - t0
    return RunResult(
        lr=lr, seed=seed, status=status, steps=step, history=pd.DataFrame(rows), model=model,
        train_s=wall - sharp_s - trace_s, sharp_s=sharp_s, trace_s=trace_s, matvecs=tracker.matvecs,
        sharp_calls=tracker.calls, trace=pd.DataFrame(trace.rows) if trace is not None else None,
    )


# ---- the grid of one setting -------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the chapter shows and the scorecard judges.

    - ``runs``: one row per (setting, seed, η): status, steps, final loss, sharpness at start/end, KTA and A_k
      at init and at the end, λ_max(K)/ntk_n, cost of training and of the probes;
    - ``history``: (setting, seed, η, step, loss, sharpness, probe) for every step (sharpness NaN where not
      measured; ``probe`` says why it was: ``stride``, ``early`` or ``final``);
    - ``spectra``: (setting, seed, η, when ∈ {init, final}, i, λ_i/‖λ‖₂, a_i, A_i) for the top ``n_show``
      eigenpairs;
    - ``trace``: (setting, seed, η, step, loss, sharpness, kta, A, lmax_over_n) along the traced EoS phases;
    - ``settings``: one row per setting: its label, activation, examples, outputs, ntk_n, k;
    - ``linear``, ``linear_history``: the same for the two-layer linear network.
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    spectra: pd.DataFrame
    trace: pd.DataFrame
    settings: pd.DataFrame = field(default_factory=pd.DataFrame)
    linear: pd.DataFrame | None = None
    linear_history: pd.DataFrame | None = None
    timing: dict = field(default_factory=dict)


TRACE_COLUMNS = ["setting", "seed", "lr", "step", "loss", "sharpness", "kta", "A", "lmax_over_n"]
HISTORY_COLUMNS = ["setting", "seed", "lr", "step", "loss", "sharpness", "probe"]


def _spectrum_rows(stats_: ntkp.KernelStats, setting: str, seed: int, lr: float, when: str,
                   n_show: int) -> list[dict]:
    m = min(n_show, stats_.alignment.size)
    cum = np.cumsum(stats_.alignment[:m])
    return [
        {"setting": setting, "seed": seed, "lr": lr, "when": when, "i": i + 1,
         "normalized": float(stats_.normalized[i]), "alignment": float(stats_.alignment[i]),
         "cumulative": float(cum[i])}
        for i in range(m)
    ]


def run_setting(cfg: Config, s: Setting, progress: Callable[[str], None] | None = None,
                n_show: int = 50) -> Results:
    """Train every (seed, η) of setting ``s`` to the matched loss; NTK at init and at the end; the traces.

    Every η of one seed starts from the same initialisation (seed ``cfg.seed + i``), whose sharpness s₀ and
    eigenvector are measured once: the eigenvector warm-starts each run, and an η with 2/η < s₀ (the catapult
    side) has its sharpness measured at each of its first ``catapult_steps`` steps instead of being traced.
    """
    runs, hist, spec, traces = [], [], [], []
    x, y = s.data.x, s.data.y
    xk, yk = x[: s.ntk_n], y[: s.ntk_n].reshape(-1)
    xt, yt = x[: cfg.trace_n], y[: cfg.trace_n].reshape(-1)
    k = min(s.k, len(yk))
    ntk_s = 0.0
    for i in range(cfg.n_seeds):
        seed = cfg.seed + i
        base = s.model(seed)
        t = time.perf_counter()
        init = ntkp.kernel_stats(kernel(base, xk), yk)
        ntk_s += time.perf_counter() - t
        start = SharpnessTracker(tol=cfg.lanczos_tol, seed=seed)
        s0 = measure_sharpness(start, hessian_operator(base, x, y))
        spec += _spectrum_rows(init, s.name, seed, np.nan, "init", n_show)
        for lr in s.lrs:
            if progress is not None:
                progress(f"{s.name}: seed {seed}, η = {lr:g}")
            catapult = 2 / lr < s0
            traced = s.trace_from is not None and lr >= s.trace_from and not catapult
            trace = Trace(xt, yt, cfg.trace_every, cfg.trace_steps, cfg.top_k * s.d_out) if traced else None
            r = gd_run(s.model(seed), x, y, lr, loss_goal=cfg.loss_goal, max_steps=cfg.max_steps,
                       every=sharp_every(lr, cfg.sharp_dt), tol=cfg.lanczos_tol,
                       early=cfg.catapult_steps if catapult else 0, trace=trace, seed=seed, v0=start.last)
            h = r.history.assign(setting=s.name, seed=seed, lr=lr)
            hist.append(h)
            measured = h["sharpness"].dropna()
            row = {"setting": s.name, "seed": seed, "lr": lr, "status": r.status, "steps": r.steps,
                   "final_loss": float(h["loss"].iloc[-1]), "s0": s0,
                   "sharp_final": float(measured.iloc[-1]) if r.status != "diverged" and len(measured) else np.nan,
                   "k": k, "kta_init": init.kta, "A_init": init.top(k),
                   "kta_final": np.nan, "A_final": np.nan, "a1_final": np.nan, "ntk_lmax_over_n": np.nan,
                   "train_s": r.train_s, "sharp_s": r.sharp_s, "trace_s": r.trace_s, "matvecs": r.matvecs,
                   "sharp_calls": r.sharp_calls}
            if r.status != "diverged":
                t = time.perf_counter()
                fin = ntkp.kernel_stats(kernel(r.model, xk), yk)
                ntk_s += time.perf_counter() - t
                row.update({"kta_final": fin.kta, "A_final": fin.top(k), "a1_final": float(fin.alignment[0]),
                            "ntk_lmax_over_n": fin.lambda_max / s.ntk_n})
                spec += _spectrum_rows(fin, s.name, seed, lr, "final", n_show)
            runs.append(row)
            if r.trace is not None and len(r.trace):
                traces.append(r.trace.assign(setting=s.name, seed=seed, lr=lr))
    meta = pd.DataFrame([{"setting": s.name, "label": s.label, "activation": s.activation, "n": len(x),
                          "outputs": s.d_out, "ntk_n": s.ntk_n, "k": k, "lrs": list(s.lrs)}])
    return Results(
        pd.DataFrame(runs), pd.concat(hist, ignore_index=True)[HISTORY_COLUMNS], pd.DataFrame(spec),
        pd.concat(traces, ignore_index=True)[TRACE_COLUMNS] if traces else pd.DataFrame(columns=TRACE_COLUMNS),
        settings=meta, timing={f"{s.name}_s": 0.0, "ntk_s": ntk_s},
    )


def combine(parts: Sequence[Results]) -> Results:
    """The results of several settings as one (tables stacked; timings summed)."""
    def cat(name: str) -> pd.DataFrame:
        frames = [getattr(p, name) for p in parts if len(getattr(p, name))]
        return pd.concat(frames, ignore_index=True) if frames else getattr(parts[0], name)

    timing: dict = {}
    for p in parts:
        for key, v in p.timing.items():
            timing[key] = timing.get(key, 0.0) + v
    return Results(cat("runs"), cat("history"), cat("spectra"), cat("trace"), cat("settings"), timing=timing)


def run_grid(cfg: Config, data: Data, progress: Callable[[str], None] | None = None, n_show: int = 50) -> Results:
    """Every setting of :func:`settings` on ``data`` (the main target), each to the matched loss."""
    parts = []
    for s in settings(cfg, str(data.x.device), data):
        t = time.perf_counter()
        part = run_setting(cfg, s, progress, n_show)
        part.timing[f"{s.name}_s"] = time.perf_counter() - t
        parts.append(part)
    return combine(parts)


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
    are short (~100–250 steps), so sharpness is measured every :func:`sharp_every` (η, LINEAR_SHARP_DT) steps.
    """
    x, y = linear_teacher(cfg.linear_n, cfg.linear_d, cfg.seed)
    k = cfg.linear_top_k
    rows, hist = [], []
    for i in range(cfg.n_seeds):
        seed = cfg.seed + i
        init = ntkp.kernel_stats(kernel(two_layer_linear(cfg.linear_d, cfg.linear_width, seed), x), y)
        for lr in cfg.linear_lrs:
            if progress is not None:
                progress(f"linear: seed {seed}, η = {lr:g}")
            model = two_layer_linear(cfg.linear_d, cfg.linear_width, seed)
            r = gd_run(model, x, y, lr, loss_goal=cfg.linear_loss_goal, max_steps=cfg.max_steps,
                       every=sharp_every(lr, LINEAR_SHARP_DT), tol=cfg.lanczos_tol, seed=seed)
            h = r.history.assign(setting="linear", seed=seed, lr=lr)
            hist.append(h)
            measured = h["sharpness"].dropna()
            row = {"setting": "linear", "seed": seed, "lr": lr, "status": r.status, "steps": r.steps,
                   "s0": float(measured.iloc[0]) if len(measured) else np.nan,
                   "sharp_max": float(measured.max()) if len(measured) else np.nan,
                   "sharp_final": float(measured.iloc[-1]) if r.status != "diverged" and len(measured) else np.nan,
                   "k": k, "kta_init": init.kta, "a1_init": float(init.alignment[0]), "A_init": init.top(k),
                   "kta_final": np.nan, "a1_final": np.nan, "A_final": np.nan}
            if r.status != "diverged":
                fin = ntkp.kernel_stats(kernel(r.model, x), y)
                row.update({"kta_final": fin.kta, "a1_final": float(fin.alignment[0]), "A_final": fin.top(k)})
            rows.append(row)
    return pd.DataFrame(rows), pd.concat(hist, ignore_index=True)[HISTORY_COLUMNS]


def run(cfg: Config, device: str = "cpu", progress: Callable[[str], None] | None = None) -> Results:
    """The whole chapter: every setting's grid (with the traces) and the two-layer linear network."""
    t = time.perf_counter()
    res = run_grid(cfg, load_data(cfg, device), progress)
    res.timing["grid_s"] = time.perf_counter() - t
    t = time.perf_counter()
    res.linear, res.linear_history = run_linear(cfg, progress)
    res.timing["linear_s"] = time.perf_counter() - t
    return res
