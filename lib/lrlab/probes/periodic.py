"""Periodic behaviour of SGD with weight decay on scale-invariant weights (Lobacheva et al. 2021).

Chapter ``chapters/periodic_bn_wd.ipynb``. Three groups of tools:

**The norm recursion** (derived in the chapter: weight decay pulls ρ in, every gradient step pushes it out). For SGD
with coupled weight decay, ``w_{t+1} = (1 − ηλ) w_t − η ∇L(w_t)``, and scale invariance (``⟨∇L(w), w⟩ = 0``) the
cross term vanishes, so the total norm ρ of the scale-invariant (SI) weights obeys exactly::

    ρ²_{t+1} = (1 − ηλ)² ρ²_t + η² ‖∇L(w_t)‖² = (1 − ηλ)² ρ²_t + η² ‖g̃_t‖² / ρ²_t,

with the effective gradient ``g̃ = ρ ∇L`` (the gradient at the point ``w/ρ`` on the unit sphere) and the
effective learning rate ``η̃ = η / ρ²``, which obeys ``1/η̃_{t+1} = (1 − ηλ)²/η̃_t + η̃_t ‖g̃_t‖²``. When the
network has converged (``g̃ ≈ 0``) only weight decay acts: ρ shrinks by ``(1 − ηλ)`` per step and the ELR grows
by ``(1 − ηλ)⁻²``, so a period that spans an ELR ratio ``r`` lasts ``ln r / (−2 ln(1 − ηλ)) ≈ ln r / (2ηλ)``
steps: the period scales like ``1/(ηλ)``. See :func:`norm_step`, :func:`elr_step`, :func:`predict_rho`,
:func:`wd_rate`, :func:`equilibrium_elr`, :func:`predicted_period`.

**Measurement during training**: :class:`StepRecorder` records, at every optimiser step and for every
configuration of a batched model, the batch loss, the norm of the SI gradient, ρ before and after the step and
(optionally) the smallest pre-BN variance of the batch, which tells how close BN's ε comes to breaking scale
invariance. :meth:`StepRecorder.frame` aggregates the steps into blocks (the official code's per-epoch metrics: mean
batch loss, mean effective gradient over the mini-batches, ρ and ELR at the end of the block).

**The destabilisation detector** (:func:`detect`): a destabilisation is a loss spike (the loss rises
``loss_factor``-fold above its minimum since the previous event) that coincides, within ``window`` steps, with
an effective-gradient spike (``grad_factor``-fold) and a norm jump (ρ grows by ``√elr_drop``, i.e. the ELR falls
``elr_drop``-fold): a destabilisation raises the loss and the effective gradient by orders of magnitude and resets
the ELR. :func:`periods` gives the period lengths, :func:`decay_phases` the
exponential decay rate of ρ between events against the weight-decay rate, :func:`phase_order` the order of the
phases around each event, in windows that do not presuppose it, and :func:`fit_loglog` the power law of the period
against ηλ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lrlab.nn import BBatchNorm, batch_stats

LossFn = Callable[[nn.Module, Tensor, Tensor], Tensor]

# ---- the norm and ELR recursions ------------------------------------------------------------------------------


def _check_lr_wd(lr, wd) -> tuple[np.ndarray, np.ndarray]:
    lr_a, wd_a = np.asarray(lr, dtype=float), np.asarray(wd, dtype=float)
    if np.any(lr_a <= 0) or not np.all(np.isfinite(lr_a)):
        raise ValueError(f"lr = {lr!r} is not allowed: every learning rate must be a finite number > 0")
    if np.any(wd_a < 0) or np.any(lr_a * wd_a >= 1) or not np.all(np.isfinite(wd_a)):
        raise ValueError(f"wd = {wd!r} is not allowed: it must be >= 0 with lr * wd < 1")
    return lr_a, wd_a


def norm_step(rho2, lr, wd, grad_sq=None, *, eff_grad_sq=None):
    """One step of the norm recursion: ``ρ²_{t+1}`` from ``ρ²_t`` (derived in the chapter).

    Give either ``grad_sq`` = ``‖∇L(w_t)‖²`` (raw gradient) or ``eff_grad_sq`` = ``‖g̃_t‖² = ρ²_t ‖∇L(w_t)‖²``:
    ``(1 − ηλ)² ρ² + η² ‖∇L‖² = (1 − ηλ)² ρ² + η² ‖g̃‖² / ρ²``. Works on floats and NumPy arrays.
    """
    lr_a, wd_a = _check_lr_wd(lr, wd)
    rho2 = np.asarray(rho2, dtype=float)
    if np.any(rho2 <= 0):
        raise ValueError(f"rho2 = {rho2!r} is not allowed: squared norms must be > 0")
    if (grad_sq is None) == (eff_grad_sq is None):
        raise ValueError("norm_step needs exactly one of grad_sq and eff_grad_sq")
    g2 = np.asarray(grad_sq, dtype=float) if grad_sq is not None else np.asarray(eff_grad_sq, dtype=float) / rho2
    return (1 - lr_a * wd_a) ** 2 * rho2 + lr_a**2 * g2


def elr_step(elr, lr, wd, eff_grad_sq):
    """One step of the ELR recursion: ``1/η̃_{t+1} = (1 − ηλ)²/η̃_t + η̃_t ‖g̃_t‖²`` (derived in the chapter)."""
    lr_a, wd_a = _check_lr_wd(lr, wd)
    e = np.asarray(elr, dtype=float)
    if np.any(e <= 0):
        raise ValueError(f"elr = {elr!r} is not allowed: every ELR must be > 0")
    return 1.0 / ((1 - lr_a * wd_a) ** 2 / e + e * np.asarray(eff_grad_sq, dtype=float))


def predict_rho(rho0: float, lr: float, wd: float, grad_norms: Sequence[float]) -> np.ndarray:
    """``ρ_0, ρ_1, …, ρ_T`` from the recursion driven by the measured raw gradient norms ``‖∇L(w_t)‖``, t < T."""
    g = np.asarray(grad_norms, dtype=float)
    out = np.empty(len(g) + 1)
    out[0] = rho2 = float(rho0) ** 2
    for t, gt in enumerate(g):
        rho2 = float(norm_step(rho2, lr, wd, gt * gt))
        out[t + 1] = rho2
    return np.sqrt(out)


def one_step_residual(rho_before, rho_after, grad_norm, lr, wd) -> np.ndarray:
    """Relative error ``ρ²_meas(t+1) / ρ²_pred(t+1) − 1`` of every measured step against the recursion.

    Zero (up to float32 rounding) when the weights are exactly scale-invariant; BN's ε or a non-SI weight
    makes ``⟨∇L, w⟩ ≠ 0`` and shows up here.
    """
    pred = norm_step(np.asarray(rho_before, dtype=float) ** 2, lr, wd, np.asarray(grad_norm, dtype=float) ** 2)
    return np.asarray(rho_after, dtype=float) ** 2 / pred - 1


def wd_rate(lr, wd):
    """Decay rate of ρ per step when only weight decay acts: ``−ln(1 − ηλ)`` (≈ ηλ); the ELR grows at twice it."""
    lr_a, wd_a = _check_lr_wd(lr, wd)
    return -np.log1p(-lr_a * wd_a)


def equilibrium_elr(lr, wd, eff_grad):
    """Fixed point of the ELR recursion at constant ‖g̃‖: ``√(2ηλ − η²λ²) / ‖g̃‖`` (derived in the chapter)."""
    lr_a, wd_a = _check_lr_wd(lr, wd)
    g = np.asarray(eff_grad, dtype=float)
    if np.any(g <= 0):
        raise ValueError(f"eff_grad = {eff_grad!r} is not allowed: it must be > 0")
    x = lr_a * wd_a
    return np.sqrt(2 * x - x * x) / g


def predicted_period(lr, wd, elr_ratio):
    """Steps for weight decay alone to raise the ELR ``elr_ratio``-fold: ``ln r / (−2 ln(1 − ηλ))``."""
    r = np.asarray(elr_ratio, dtype=float)
    if np.any(r < 1):
        raise ValueError(f"elr_ratio = {elr_ratio!r} is not allowed: it must be >= 1")
    return np.log(r) / (2 * wd_rate(lr, wd))


# ---- recording every step -------------------------------------------------------------------------------------


def _bn_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, BBatchNorm)]


class StepRecorder:
    """Record, at every optimiser step of a batched model, what the norm recursion and the detector need.

    Use ``rec.loss_fn`` as the training loss (it wraps ``loss_fn`` and keeps the K batch losses) and ``rec`` as
    the *last* ``after_step`` hook of :func:`lrlab.train.train`. Per step ``t`` and configuration it stores the
    batch loss ``L_t``, the SI gradient norm ``‖∇L(w_t)‖`` (read from ``.grad``, which the loop leaves in place
    until the next step), ρ before and after the step, and with ``bn_var=True`` the smallest variance of a
    pre-BN unit over the batch (compare it with BN's ε). ``params`` returns the SI weights (default:
    ``model.si_parameters()``).
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        params: Callable[[nn.Module], list[Tensor]] | None = None,
        bn_var: bool = True,
    ):
        self._params = params or (lambda m: list(m.si_parameters()))
        self._base_loss = loss_fn
        self._pending: Tensor | None = None
        self._rho = self._norm(model).cpu().numpy()
        self.k = len(self._rho)
        self.loss: list[np.ndarray] = []
        self.grad_norm: list[np.ndarray] = []
        self.rho_before: list[np.ndarray] = []
        self.rho_after: list[np.ndarray] = []
        self.bn_var: list[np.ndarray] = []
        self._var_min: Tensor | None = None
        self._handles = []
        self._watched: list[nn.Module] = []  # BN layers that leave their batch variance behind (lrlab.models)
        if bn_var:
            for m in _bn_modules(model):
                if hasattr(m, "watch_var"):
                    m.watch_var = True
                    self._watched.append(m)
                else:
                    self._handles.append(m.register_forward_hook(self._bn_hook))

    def _norm(self, model: nn.Module) -> Tensor:
        ps = self._params(model)
        k = ps[0].shape[0]
        with torch.no_grad():
            sq = sum(torch.linalg.vector_norm(p.detach().reshape(k, -1), dim=1).double() ** 2 for p in ps)
        return sq.sqrt()

    def _bn_hook(self, module: nn.Module, inputs: tuple[Tensor, ...], _out: Tensor) -> None:
        if not torch.is_grad_enabled():
            return  # evaluation passes do not count
        x = inputs[0].detach()
        # (x − mean)² by hand (batch_stats): torch's var() is slow on one CPU thread
        self._seen_var(batch_stats(x, None if x.dim() == 3 else 3)[1])

    def _seen_var(self, var: Tensor) -> None:
        v = var.reshape(var.shape[0], -1).min(dim=1).values
        self._var_min = v if self._var_min is None else torch.minimum(self._var_min, v.to(self._var_min.dtype))

    def loss_fn(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """The wrapped training loss: returns the K batch losses and remembers them for this step."""
        self._var_min = None
        for m in self._watched:
            m.batch_var = None
        losses = self._base_loss(model, x, y)
        for m in self._watched:  # the variances the training pass's BN layers used (evaluation passes leave none)
            if m.batch_var is not None:
                self._seen_var(m.batch_var)
        self._pending = losses.detach()
        return losses

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> None:
        ps = self._params(model)
        k = ps[0].shape[0]
        g2 = sum(
            (torch.linalg.vector_norm(p.grad.reshape(k, -1), dim=1).double() ** 2 if p.grad is not None
             else torch.zeros(k, dtype=torch.float64, device=p.device))
            for p in ps
        )
        after = self._norm(model)
        nan = torch.full((k,), math.nan, dtype=torch.float64, device=after.device)
        loss = self._pending.double() if self._pending is not None else nan
        vm = self._var_min.double() if self._var_min is not None else nan
        loss, grad_norm, after, vm = torch.stack([loss, g2.sqrt(), after, vm]).cpu().numpy()  # one copy, one sync
        self.loss.append(loss)
        self.grad_norm.append(grad_norm)
        self.rho_before.append(self._rho)
        self.rho_after.append(after)
        self.bn_var.append(vm)
        self._rho = after
        self._pending = None

    def remove(self) -> None:
        """Stop watching the BN layers (and detach the forward hooks of any that cannot be watched)."""
        for h in self._handles:
            h.remove()
        self._handles = []
        for m in self._watched:
            m.watch_var, m.batch_var = False, None
        self._watched = []

    @property
    def steps(self) -> int:
        return len(self.loss)

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-step arrays ``(steps, K)``: loss, grad_norm, rho_before, rho_after, eff_grad, bn_var."""
        if not self.loss:
            raise ValueError("the recorder has no steps yet")
        out = {
            "loss": np.stack(self.loss),
            "grad_norm": np.stack(self.grad_norm),
            "rho_before": np.stack(self.rho_before),
            "rho_after": np.stack(self.rho_after),
            "bn_var": np.stack(self.bn_var),
        }
        out["eff_grad"] = out["rho_before"] * out["grad_norm"]
        return out

    def frame(self, every: int, lr: Sequence[float], labels: pd.DataFrame | None = None) -> pd.DataFrame:
        """Tidy table, one row per configuration and block of ``every`` steps (the official code's per-epoch metrics).

        Columns: ``config``, ``step`` (steps done at the end of the block), ``loss`` (mean batch loss over the
        block), ``eff_grad`` (mean of ρ_t‖∇L_t‖ over the block's mini-batches), ``rho`` and ``elr`` = η/ρ² at
        the end of the block, ``bn_var`` (smallest pre-BN variance in the block), plus ``labels`` joined on
        ``config``.
        """
        if every < 1:
            raise ValueError(f"every = {every!r} is not allowed: it must be an integer >= 1")
        a = self.arrays()
        n = (self.steps // every) * every
        if n == 0:
            raise ValueError(f"every = {every} is larger than the {self.steps} recorded steps")
        nb = n // every
        lr_a = np.broadcast_to(np.asarray(lr, dtype=float), (self.k,))

        def block(x: np.ndarray, how: str) -> np.ndarray:
            b = x[:n].reshape(nb, every, self.k)
            if how == "mean":
                return b.mean(1)
            if how == "min":
                return np.nanmin(b, axis=1) if np.isfinite(b).any() else b[:, -1]
            return b[:, -1]

        rho = block(a["rho_after"], "last")
        cols = {
            "loss": block(a["loss"], "mean"),
            "eff_grad": block(a["eff_grad"], "mean"),
            "rho": rho,
            "elr": lr_a[None, :] / rho**2,
            "bn_var": block(a["bn_var"], "min"),
        }
        step = (np.arange(nb) + 1) * every
        frame = pd.DataFrame(
            {
                "config": np.repeat(np.arange(self.k)[None, :], nb, 0).ravel(),
                "step": np.repeat(step, self.k),
                **{c: v.ravel() for c, v in cols.items()},
            }
        ).sort_values(["config", "step"], kind="stable")
        if labels is not None:
            frame = frame.merge(labels.reset_index(drop=True).rename_axis("config").reset_index(), on="config")
        return frame.reset_index(drop=True)


# ---- the destabilisation detector -----------------------------------------------------------------------------

EVENT_COLUMNS = (
    "step",
    "step_loss_peak",
    "step_grad_peak",
    "step_rho_peak",
    "loss_base",
    "loss_peak",
    "grad_base",
    "grad_peak",
    "rho_before",
    "rho_after",
    "elr_before",
    "elr_after",
    "norm_jump",
)


@dataclass(frozen=True)
class Detector:
    """Thresholds of the destabilisation detector (defaults set before the book's runs, see :func:`detect`).

    - ``loss_factor``: the loss rises this many times above its minimum since the last event (default 100: two
      orders of magnitude);
    - ``grad_factor``: the effective gradient rises this many times above its minimum (default 100);
    - ``elr_drop``: a norm jump lowers the ELR by at least this factor, i.e. ρ grows by ``√elr_drop`` (default
      2, well above the ±10 % norm noise of an equilibrium);
    - ``window``: steps within which the three signatures must coincide.
    """

    window: int = 50
    loss_factor: float = 100.0
    grad_factor: float = 100.0
    elr_drop: float = 2.0

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window = {self.window!r} is not allowed: it must be an integer >= 1")
        for name in ("loss_factor", "grad_factor", "elr_drop"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 1):
                raise ValueError(f"{name} = {v!r} is not allowed: it must be a number > 1")


def _series(*arrays) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=float) for a in arrays]
    n = len(out[0])
    if any(a.ndim != 1 or len(a) != n for a in out):
        raise ValueError("step, rho, loss and eff_grad must be 1-D series of the same length")
    if n and np.any(np.diff(out[0]) <= 0):
        raise ValueError("step must be strictly increasing")
    return out


def detect(step, rho, loss, eff_grad, lr: float, detector: Detector | None = None) -> pd.DataFrame:
    """Destabilisations and other spikes of one run (one configuration): a table with the columns ``EVENT_COLUMNS``.

    Scans the series in time. A *spike* starts at the first point where the loss exceeds ``loss_factor`` times
    its running minimum since the previous spike (or the start) and the effective gradient within ``±window``
    steps exceeds ``grad_factor`` times its own running minimum. For each spike the table gives the onset
    ``step``, the steps of the loss, gradient and ρ peaks within ``window`` after the onset, the baselines and
    peaks, ρ and the ELR just before the onset (the smallest ρ in the ``window`` before it) and at the ρ peak,
    and ``norm_jump``: whether the ELR fell at least ``elr_drop``-fold. A *destabilisation* (the abstract's word)
    is a spike with a norm jump: ``events(table)``. Under a fixed norm there are spikes at most, never events.
    After a spike the scan resumes ``window`` steps later with fresh minima.
    """
    d = detector or Detector()
    step, rho, loss, g = _series(step, rho, loss, eff_grad)
    n = len(step)
    rows: list[dict] = []
    base_l = base_g = math.inf
    i = 0
    while i < n:
        base_l = min(base_l, loss[i]) if np.isfinite(loss[i]) else base_l
        base_g = min(base_g, g[i]) if np.isfinite(g[i]) else base_g
        if np.isfinite(loss[i]) and loss[i] >= d.loss_factor * base_l and i > 0:
            lo = int(np.searchsorted(step, step[i] - d.window, side="left"))
            hi = int(np.searchsorted(step, step[i] + d.window, side="right")) - 1
            seg_g = g[lo : hi + 1]
            if np.isfinite(seg_g).any() and np.nanmax(seg_g) >= d.grad_factor * base_g:
                jl = i + int(np.nanargmax(loss[i : hi + 1]))
                jg = lo + int(np.nanargmax(seg_g))
                jr = i + int(np.nanargmax(rho[i : hi + 1]))
                jb = lo + int(np.nanargmin(rho[lo : i + 1]))
                rb, ra = rho[jb], rho[jr]
                rows.append(
                    {
                        "step": step[i],
                        "step_loss_peak": step[jl],
                        "step_grad_peak": step[jg],
                        "step_rho_peak": step[jr],
                        "loss_base": base_l,
                        "loss_peak": loss[jl],
                        "grad_base": base_g,
                        "grad_peak": g[jg],
                        "rho_before": rb,
                        "rho_after": ra,
                        "elr_before": lr / rb**2,
                        "elr_after": lr / ra**2,
                        "norm_jump": bool((ra / rb) ** 2 >= d.elr_drop),
                    }
                )
                i = hi + 1
                base_l = base_g = math.inf
                continue
        i += 1
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def events(table: pd.DataFrame) -> pd.DataFrame:
    """The destabilisations of a :func:`detect` table: spikes with a norm jump."""
    return table[table["norm_jump"].astype(bool)].reset_index(drop=True)


def periods(event_steps: Sequence[float]) -> np.ndarray:
    """Period lengths: the steps between consecutive destabilisations (the time before the first is excluded,
    since it starts from the initialisation rather than from a reset)."""
    s = np.asarray(event_steps, dtype=float)
    return np.diff(s) if len(s) > 1 else np.zeros(0)


def detect_runs(frame: pd.DataFrame, by: Sequence[str] = ("config",), detector: Detector | None = None,
                lr_col: str = "lr") -> pd.DataFrame:
    """:func:`detect` on every run of a tidy table (columns ``step``, ``rho``, ``loss``, ``eff_grad``, ``lr``);
    returns the spikes of all runs with the ``by`` columns in front."""
    out = []
    for key, g in frame.sort_values([*by, "step"]).groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        t = detect(g["step"], g["rho"], g["loss"], g["eff_grad"], float(g[lr_col].iloc[0]), detector)
        for name, value in zip(by, key):
            t[name] = value
        out.append(t)
    cols = [*by, *EVENT_COLUMNS]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


# ---- between events: decay rates and the order of the phases -------------------------------------------------


def loglinear_slope(x, y) -> float:
    """Least-squares slope of ``ln y`` against ``x`` (NaN with fewer than 3 points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
    if ok.sum() < 3:
        return float("nan")
    return float(np.polyfit(x[ok], np.log(y[ok]), 1)[0])


def decay_phases(step, rho, elr, ev: pd.DataFrame, lr: float, wd: float, late: float = 0.5) -> pd.DataFrame:
    """One row per complete period: the exponential rates of ρ and the ELR between two destabilisations.

    The quiet phase runs from the ρ peak of event ``k`` to the onset of event ``k+1``; its last ``late``
    fraction is where the effective gradient is smallest and weight decay alone should act. Columns:
    ``start``, ``end``, ``rho_rate`` and ``elr_rate`` (fitted −d ln ρ/dt and d ln η̃/dt per step on the late
    phase), ``wd_rate`` (−ln(1 − ηλ)), ``ratio`` = rho_rate / wd_rate (1 when only weight decay acts) and
    ``elr_ratio`` = elr_rate / (2 wd_rate).
    """
    if not 0 < late <= 1:
        raise ValueError(f"late = {late!r} is not allowed: it must be in (0, 1]")
    step, rho, elr = _series(step, rho, elr)
    rate = float(wd_rate(lr, wd))
    rows = []
    for k in range(len(ev) - 1):
        start, end = float(ev["step_rho_peak"].iloc[k]), float(ev["step"].iloc[k + 1])
        s0 = end - late * (end - start)
        m = (step >= s0) & (step < end)
        r_rate = -loglinear_slope(step[m], rho[m])
        e_rate = loglinear_slope(step[m], elr[m])
        rows.append(
            {
                "period": k,
                "start": start,
                "end": end,
                "rho_rate": r_rate,
                "elr_rate": e_rate,
                "wd_rate": rate,
                "ratio": r_rate / rate,
                "elr_ratio": e_rate / (2 * rate),
            }
        )
    return pd.DataFrame(rows, columns=["period", "start", "end", "rho_rate", "elr_rate", "wd_rate", "ratio",
                                       "elr_ratio"])


ORDER_COLUMNS = ("event", "start", "end", "rho_min", "grad_onset", "loss_onset", "jump", "rho_max", "spike_first",
                 "decays", "converged", "ordered")


def phase_order(step, rho, loss, eff_grad, onsets: Sequence[float], converged: float = 10.0) -> pd.DataFrame:
    """The order of the phases around every destabilisation but the first, measured in windows that do not
    presuppose it (the mechanism the chapter derives from the norm recursion: convergence, norm decay, spike of loss
    and effective gradient, norm jump).

    Event ``k`` (its onset from :func:`detect`, ``k ≥ 1``: the first is preceded by the initial training, not by a
    period) gets the window ``onset ± h`` with ``h`` half the gap to its nearer neighbouring onset; every quantity
    is searched in that same window. In it: ``rho_min``, the step of the smallest ρ (the end of the norm decay, the
    ELR's peak); ``grad_onset`` and ``loss_onset``, the first steps at which the effective gradient and the loss
    reach the geometric middle of their range in the window (the spikes' onsets); ``jump``, the first step after
    ``rho_min`` at which ρ has made half its rise (in log) to its largest value after it, ``rho_max``. Booleans:

    - ``spike_first``: both spikes begin no later than the norm jump (the big gradient steps inflate ρ);
    - ``decays``: ρ falls from the window's start to ``rho_min`` (the norm decays into the event);
    - ``converged``: before the spike the network had converged: the median effective gradient over the
      window's first quarter is at least ``converged`` times below its peak;
    - ``ordered``: all three.
    """
    if not converged > 1:
        raise ValueError(f"converged = {converged!r} is not allowed: it must be a number > 1")
    step, rho, loss, g = _series(step, rho, loss, eff_grad)
    on = np.asarray(onsets, dtype=float)
    rows = []
    for k in range(1, len(on)):
        h = min([on[k] - on[k - 1], *(on[k + 1 : k + 2] - on[k])]) / 2
        idx = np.flatnonzero((step >= on[k] - h) & (step <= on[k] + h))
        if len(idx) < 4:
            continue
        s, r, lo, gr = step[idx], rho[idx], loss[idx], g[idx]
        ia = int(np.nanargmin(r))
        onset = [int(np.argmax(v >= np.sqrt(np.nanmin(v) * np.nanmax(v)))) for v in (gr, lo)]
        top = ia + int(np.nanargmax(r[ia:]))
        jump = ia + int(np.argmax(r[ia:] >= np.sqrt(r[ia] * r[top])))
        quarter = max(1, len(idx) // 4)
        spike_first = max(onset) <= jump
        decays = bool(r[0] > r[ia])
        conv = bool(np.nanmedian(gr[:quarter]) * converged <= np.nanmax(gr))
        rows.append({"event": k, "start": s[0], "end": s[-1], "rho_min": s[ia], "grad_onset": s[onset[0]],
                     "loss_onset": s[onset[1]], "jump": s[jump], "rho_max": s[top], "spike_first": bool(spike_first),
                     "decays": decays, "converged": conv, "ordered": bool(spike_first and decays and conv)})
    return pd.DataFrame(rows, columns=list(ORDER_COLUMNS))


# ---- period against ηλ ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerLaw:
    """``y = c · x^slope`` fitted by least squares on log–log axes; ``se`` is the slope's standard error."""

    slope: float
    intercept: float
    se: float
    n: int

    def __call__(self, x):
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope


def fit_loglog(x, y) -> PowerLaw:
    """Fit ``ln y = a + b ln x``; needs at least two distinct positive ``x`` (ValueError otherwise)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    if len(np.unique(lx)) < 2:
        raise ValueError(f"x = {x.tolist()} is not allowed: a log-log fit needs >= 2 distinct positive values")
    b, a = np.polyfit(lx, ly, 1)
    n = len(lx)
    if n > 2:
        resid = ly - (a + b * lx)
        se = float(np.sqrt(resid @ resid / (n - 2) / np.sum((lx - lx.mean()) ** 2)))
    else:
        se = float("nan")
    return PowerLaw(float(b), float(a), se, n)
