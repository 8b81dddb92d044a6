"""Per-neuron activity and fluctuation statistics (Pareek et al. 2025; chapter ``fluctuations``).

:class:`NeuronRecorder` is a probe for :func:`lrlab.train.train`. At each probe time it runs the probe set through
the model with hooks attached: forward hooks on the activation modules capture every hidden unit's activations,
tensor hooks on the weights capture the gradients, and it snapshots every unit's bias and incoming-weight norm.
The statistics below turn those snapshots into the paper's quantities. The paper does not define them, so these
are our definitions (stated in the chapter):

- *spread* of unit j: the standard deviation over probe times of a per-unit quantity θ_j(t) (bias, incoming
  weight norm, or gradient norm). It mixes two things: the unit's drift (where training takes it) and its
  fluctuation around that path;
- *fluctuation* of unit j: the standard deviation over probe times of its increments θ_j(t+1) − θ_j(t), over a
  window of the run (the chapter takes the second half). A steady drift moves every increment by the same amount
  and cancels; what remains is the unit's jitter around its own trajectory, and a unit that stops moving has none;
- *spread of the spread* of a layer: the standard deviation over units of a per-unit spread (or fluctuation); its
  scale-free form is the coefficient of variation std_j s_j / mean_j s_j, which cancels a factor common to every
  unit (such as η);
- *participating* unit: active (activation > 0) on more than a fraction ``tau`` of the probe inputs;
  *inactive* unit: active on none of them ("dead ReLU").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from lrlab.nn import BLinear


class NeuronRecorder:
    """Probe recording per-unit snapshots of every hidden layer of a batched MLP (see module docstring).

    ``loss_fn(model, x, y)`` gives the K losses on the probe set; the recorder reports it as ``probe_loss``.
    After training, :meth:`arrays` returns ``{quantity: (T, K, units)}`` per hidden layer.
    """

    def __init__(self, model: nn.Sequential, x: Tensor, y: Tensor, loss_fn: Callable[..., Tensor]):
        self.x, self.y, self.loss_fn = x, y, loss_fn
        linears = [m for m in model if isinstance(m, BLinear)]
        acts = [m for m in model if not isinstance(m, BLinear)]
        # hidden layer i = output of linear i passed through activation i (the last linear feeds the output)
        self.layers = list(zip(linears[:-1], acts[: len(linears) - 1]))
        self.epochs: list[int] = []
        self.snap: dict[str, list[list[np.ndarray]]] = {
            q: [[] for _ in self.layers] for q in ("bias", "wnorm", "gnorm", "active")
        }
        self._acts: list[Tensor | None] = [None] * len(self.layers)
        self._grads: list[Tensor | None] = [None] * len(self.layers)

    def _capture_act(self, i: int):
        def hook(_m: nn.Module, _inp, out: Tensor) -> None:
            self._acts[i] = out.detach()

        return hook

    def _capture_grad(self, i: int):
        def hook(g: Tensor) -> None:
            self._grads[i] = g.detach()

        return hook

    def __call__(self, model: nn.Module, epoch: int) -> dict[str, np.ndarray]:
        handles = []
        for i, (lin, act) in enumerate(self.layers):
            handles.append(act.register_forward_hook(self._capture_act(i)))
            handles.append(lin.weight.register_hook(self._capture_grad(i)))
        try:
            with torch.enable_grad():
                losses = self.loss_fn(model, self.x, self.y)
                losses.sum().backward()
        finally:
            for h in handles:
                h.remove()
        for p in model.parameters():
            p.grad = None
        self.epochs.append(epoch)
        for i, (lin, _act) in enumerate(self.layers):
            self.snap["bias"][i].append(self.bias_snapshot(lin))
            self.snap["wnorm"][i].append(lin.weight.detach().norm(dim=1).cpu().numpy())
            self.snap["gnorm"][i].append(self._grads[i].norm(dim=1).cpu().numpy())
            self.snap["active"][i].append((self._acts[i] > 0).float().mean(dim=1).cpu().numpy())
        return {"probe_loss": losses.detach()}

    @staticmethod
    def bias_snapshot(lin: BLinear) -> np.ndarray:
        """A copy of every unit's bias, ``(K, units)``: a view of the live parameter would change with every later
        step, and every snapshot would end up equal to the last (the fluctuations chapter's broken-hook mutant)."""
        return lin.bias.detach()[:, 0, :].cpu().numpy().copy()

    def arrays(self, quantity: str) -> list[np.ndarray]:
        """Per hidden layer, the ``(T, K, units)`` array of ``quantity`` (bias, wnorm, gnorm or active)."""
        return [np.stack(s) for s in self.snap[quantity]]


def spread(series: np.ndarray, axis: int = 0) -> np.ndarray:
    """Per-unit spread: standard deviation over time (``axis``) of a ``(T, …)`` series."""
    return np.std(series, axis=axis)


def fluctuation(series: np.ndarray, start: int = 0, axis: int = 0) -> np.ndarray:
    """Per-unit fluctuation around the unit's own trajectory: the standard deviation over time (``axis``) of the
    increments ``θ(t+1) − θ(t)`` of the series from index ``start`` on. A constant drift cancels; a unit that does
    not move has fluctuation 0. NaN where fewer than two increments remain."""
    window = np.take(series, np.arange(start, series.shape[axis]), axis=axis)
    if window.shape[axis] < 3:
        shape = list(series.shape)
        del shape[axis]
        return np.full(shape, np.nan)
    return np.std(np.diff(window, axis=axis), axis=axis)


def spread_of_spread(spreads: np.ndarray) -> np.ndarray:
    """Spread of the spread of a layer: standard deviation over units (last axis) of the per-unit spreads."""
    return np.std(spreads, axis=-1)


def spread_cv(spreads: np.ndarray) -> np.ndarray:
    """Scale-free spread of the spread: std over units / mean over units (NaN where every spread is 0)."""
    mean = np.mean(spreads, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, np.std(spreads, axis=-1) / mean, np.nan)


def participating(active_fraction: np.ndarray, tau: float = 0.01) -> np.ndarray:
    """Number of units active on more than a fraction ``tau`` of the inputs (last axis = units)."""
    return (active_fraction > tau).sum(axis=-1)


def participation_curve(active_fraction: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Participating units at each threshold of ``taus``: shape ``(len(taus), *active_fraction.shape[:-1])``.

    How much a participation count depends on τ (a unit active on 2 % of the inputs participates at τ = 0.01 and
    not at 0.05) is part of what the count means."""
    return np.stack([participating(active_fraction, float(t)) for t in np.asarray(taus)])


def inactive(active_fraction: np.ndarray) -> np.ndarray:
    """Number of units active on no input at all ("dead" ReLUs; last axis = units)."""
    return (active_fraction == 0).sum(axis=-1)
