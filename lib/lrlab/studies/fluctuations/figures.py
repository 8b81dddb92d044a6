"""Figures of the fluctuations chapter (``chapters/fluctuations.ipynb``): the eight shapes, the held-out
reconstruction error over training, the reconstructions themselves, the participating units per layer, and the
bias spread with its scale-free spread of the spread. Learning rates are coloured by :func:`lrlab.plots.lr_palette`
over the chapter's grid, so every figure gives a given η the same colour."""

from __future__ import annotations

import pandas as pd

from lrlab import data, plots
from lrlab.config import Config

from .experiments import Dataset, GridRun, reconstruction_grid


def fig_shapes(ds: Dataset):
    """The first training image of each of the eight shapes, one column per shape: what the autoencoder must
    reproduce (the paper does not show or name its shapes, so the chapter shows ours)."""
    first = [int((ds.labels == k).argmax()) for k in range(len(data.SHAPE_NAMES))]
    images = ds.x[first].reshape(1, len(first), 28, 28).cpu().numpy()
    return plots.image_grid(images, ["input"], list(data.SHAPE_NAMES))


def fig_curves(runs: dict[str, GridRun], cfg: Config):
    """Held-out reconstruction error (pixel-mean squared error, log scale) against epoch, one panel per optimiser
    (main first, then the contrast) with a shared y axis: the mean over seeds per η and the min–max band over
    seeds. It shows whether the smaller learning rates catch up with the largest within the budget (claim C1)."""
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=len(runs), sharey=True, squeeze=False)
    for ax, (name, run) in zip(list(axes.flat), runs.items()):
        plots.seed_band(ax, run.history, "epoch", "test_loss", "lr", pal, log_y=True)
        ax.set(title=name.upper(), ylabel="held-out MSE")
    axes.flat[0].legend()
    return fig


def fig_reconstructions(grid: GridRun, ds: Dataset, cfg: Config):
    """Held-out shapes (top row) and their reconstructions by the first seed of each η (one row per η, from
    :func:`~lrlab.studies.fluctuations.experiments.reconstruction_grid`): what the errors of :func:`fig_curves`
    look like."""
    images, labels = reconstruction_grid(grid, ds, cfg)
    return plots.image_grid(images, labels)


def fig_participation(neurons: pd.DataFrame, cfg: Config):
    """Participating units (active on more than a fraction τ of the inputs) per hidden layer at the end of
    training, one panel per optimiser in the order of the neuron table, bars per η: the mean over seeds, whiskers
    the range over seeds. The counts claim C2 compares."""
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=neurons["optimizer"].nunique(), sharey=True, squeeze=False)
    for ax, (name, frame) in zip(list(axes.flat), neurons.groupby("optimizer", sort=False)):
        plots.sns.barplot(frame, x="layer", y="participating", hue="lr", palette=pal, ax=ax, errorbar=("pi", 100))
        ax.set(title=name.upper(), ylabel=f"units active on > {cfg.tau:.0%} of inputs", xlabel="")
        ax.legend(title="η", fontsize="small")
    return fig


def fig_spread(neurons: pd.DataFrame, cfg: Config):
    """Main optimiser only, bars per η over the hidden layers (mean over seeds, whiskers the range). Left: the mean
    over units of the per-unit bias spread s_j (log scale), which carries the factor η of every step (claim C3).
    Right: the spread of the spread as a coefficient of variation std_j s_j / mean_j s_j, which cancels that
    factor and shows how unevenly a layer's units move."""
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=2)
    sub = neurons[neurons.optimizer == cfg.optimizer]
    plots.sns.barplot(sub, x="layer", y="spread_bias", hue="lr", palette=pal, ax=axes[0, 0], errorbar=("pi", 100))
    axes[0, 0].set(yscale="log", ylabel="mean bias spread $s_j$", xlabel="")
    plots.sns.barplot(sub, x="layer", y="cv_bias", hue="lr", palette=pal, ax=axes[0, 1], errorbar=("pi", 100))
    axes[0, 1].set(ylabel="std$_j s_j$ / mean$_j s_j$", xlabel="")
    return fig
