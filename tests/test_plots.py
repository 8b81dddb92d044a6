"""`lrlab.plots.seed_band`: seaborn draws the mean over seeds and the band spanning them, in the book's colours."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from lrlab import plots


def test_seed_band_draws_the_mean_line_and_the_band_spanning_the_seeds():
    rng = np.random.default_rng(0)
    rows = [{"epoch": e, "lr": lr, "seed": s, "loss": 1 / (e + 1) + lr * s + 0.01 * rng.random()}
            for e in range(6) for lr in (0.1, 0.01) for s in range(3)]
    frame = pd.DataFrame(rows)
    pal = plots.lr_palette([0.1, 0.01])
    fig, ax = plt.subplots()
    plots.seed_band(ax, frame, "epoch", "loss", "lr", pal, log_y=True)
    assert [line.get_label() for line in ax.lines] == ["η = 0.01", "η = 0.1"]
    assert len(ax.collections) == 2, "one band per step size"
    for line, band, lr in zip(ax.lines, ax.collections, (0.01, 0.1)):
        stats = frame[frame.lr == lr].groupby("epoch")["loss"].agg(["mean", "min", "max"])
        assert line.get_xdata().tolist() == stats.index.tolist()
        assert np.allclose(line.get_ydata(), stats["mean"]), "the line is the mean over seeds"
        assert to_rgba(line.get_color()) == pytest.approx(to_rgba(pal[lr]))
        verts = band.get_paths()[0].vertices
        for epoch, row in stats.iterrows():
            ys = verts[verts[:, 0] == epoch, 1]
            assert ys.min() == pytest.approx(row["min"]) and ys.max() == pytest.approx(row["max"]), \
                "the band spans the lowest to the highest seed"
        assert band.get_facecolor()[0][:3] == pytest.approx(to_rgba(pal[lr])[:3])
        assert band.get_alpha() == pytest.approx(0.2) or band.get_facecolor()[0][3] == pytest.approx(0.2)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_legend() is None, "the caller places the legend"
    ax.legend()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["η = 0.01", "η = 0.1"]
    plt.close(fig)
