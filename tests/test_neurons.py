import numpy as np
import torch
from torch import nn

from lrlab.nn import BMLP
from lrlab.probes import neurons


def test_statistics_on_hand_values():
    series = np.array([[[0.0, 1.0, 5.0]], [[2.0, 1.0, 5.0]]])  # (T=2, K=1, units=3)
    s = neurons.spread(series)
    np.testing.assert_allclose(s, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(neurons.spread_of_spread(s), [np.std([1.0, 0.0, 0.0])])
    np.testing.assert_allclose(neurons.spread_cv(s), [np.std([1, 0, 0]) / (1 / 3)])
    assert np.isnan(neurons.spread_cv(np.zeros((1, 3))))[0]
    active = np.array([[0.0, 0.005, 0.02, 1.0]])
    assert neurons.participating(active, 0.01)[0] == 2
    assert neurons.inactive(active)[0] == 1


def _loss(model, x, y):
    return (model(x) - y.unsqueeze(0)).square().mean(dim=(1, 2))


def test_recorder_captures_activations_gradients_and_snapshots():
    torch.manual_seed(0)
    model = BMLP([3, 4, 2], [0, 1], activation=nn.ReLU)
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    rec = neurons.NeuronRecorder(model, x, y, _loss)
    out = rec(model, epoch=0)
    lin1, lin2 = model.linears()
    hidden = torch.relu(lin1(x))
    np.testing.assert_allclose(rec.arrays("active")[0][0], (hidden > 0).float().mean(1).numpy())
    np.testing.assert_allclose(rec.arrays("bias")[0][0], lin1.bias.detach()[:, 0].numpy())
    np.testing.assert_allclose(rec.arrays("wnorm")[0][0], lin1.weight.detach().norm(dim=1).numpy(), rtol=1e-6)
    model.zero_grad()
    _loss(model, x, y).sum().backward()
    np.testing.assert_allclose(rec.arrays("gnorm")[0][0], lin1.weight.grad.norm(dim=1).numpy(), rtol=1e-5)
    assert all(p.grad is None for p in model.parameters()) is False  # our manual backward above
    np.testing.assert_allclose(out["probe_loss"].numpy(), _loss(model, x, y).detach().numpy(), rtol=1e-6)
    assert len(rec.layers) == 1 and rec.epochs == [0]


def test_fluctuation_cancels_a_steady_drift_and_keeps_the_jitter():
    t = np.arange(11.0)
    drift = np.stack([2.0 * t, -0.5 * t], axis=1)[:, None, :]  # (T=11, K=1, units=2): pure drift
    np.testing.assert_allclose(neurons.fluctuation(drift), [[0.0, 0.0]], atol=1e-12)
    assert neurons.spread(drift)[0, 0] > 5  # the spread is all drift
    jitter = drift + np.array([0.0, 1.0] * 5 + [0.0])[:, None, None]  # alternating ±1 on top of the drift
    np.testing.assert_allclose(neurons.fluctuation(jitter), [[1.0, 1.0]])  # increments ±1 around their mean
    np.testing.assert_allclose(neurons.fluctuation(jitter, start=4), [[1.0, 1.0]])
    assert np.isnan(neurons.fluctuation(jitter, start=9)).all()  # one increment left: undefined


def test_participation_curve_counts_per_threshold():
    active = np.array([[0.0, 0.005, 0.02, 0.6, 1.0]])
    np.testing.assert_array_equal(neurons.participation_curve(active, np.array([0.0, 0.01, 0.5])), [[4], [3], [2]])


def test_bias_snapshots_are_copies_of_the_live_parameter():
    model = BMLP([3, 4, 2], [0], activation=nn.ReLU)
    lin = model.linears()[0]
    snap = neurons.NeuronRecorder.bias_snapshot(lin)
    with torch.no_grad():
        lin.bias.add_(1.0)
    np.testing.assert_allclose(snap + 1.0, neurons.NeuronRecorder.bias_snapshot(lin))
