"""Figures of the fluctuations chapter (``chapters/fluctuations.ipynb``): the eight shapes, the held-out
reconstruction error over training, the reconstructions themselves, individual neurons' biases and weights over
training, participation per layer and its dependence on τ, spread against fluctuation, and the map of where the
trade-off holds. Learning rates are coloured by :func:`lrlab.plots.lr_palette` over every rate the chapter ran, so
every figure gives a given η the same colour."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from lrlab import data, plots
from lrlab.config import Config

from . import tradeoff
from .experiments import Dataset, GridRun, Results, reconstruction_grid, unit_traces

MAP_COLOURS = {"trade-off holds": "#1b7837", "reconstruction half only": "#92c5de",
               "participation half only": "#f4a582", "neither half": "#bdbdbd", "not judged": "#f2f2f2"}
"""Colours of the map's cells, by :data:`~lrlab.studies.fluctuations.tradeoff.STATUSES`."""


def _palette(cfg: Config) -> dict:
    return plots.lr_palette([*cfg.lrs, *cfg.map_lrs])


def fig_shapes(ds: Dataset):
    """The first training image of each of the eight shapes, one column per shape: what the autoencoder must
    reproduce (the paper does not show or name its shapes, so the chapter shows ours)."""
    first = [int((ds.labels == k).argmax()) for k in range(len(data.SHAPE_NAMES))]
    images = ds.x[first].reshape(1, len(first), 28, 28).cpu().numpy()
    return plots.image_grid(images, ["input"], list(data.SHAPE_NAMES))


def fig_curves(runs: dict[str, GridRun], cfg: Config, ds: Dataset):
    """Held-out reconstruction error (pixel-mean squared error, log scale) against epoch, one panel per optimiser
    (main first, then the contrast) with a shared y axis: the mean over seeds per η and the min–max band over
    seeds, every rate run (the paper's grid and the map's). The dashed line is the mean training image's error and
    the dotted one the level a run must reach to count as trained (claims C1, C2, C4–C7)."""
    pal = _palette(cfg)
    fig, axes = plots.figure(ncols=len(runs), sharey=True, squeeze=False)
    for ax, (name, run) in zip(list(axes.flat), runs.items()):
        plots.seed_band(ax, run.history, "epoch", "test_loss", "lr", pal, log_y=True)
        ax.axhline(ds.blind_mse, color="0.3", ls="--", lw=0.8)
        ax.axhline(ds.blind_mse / cfg.trained_factor, color="0.3", ls=":", lw=0.8)
        ax.set(title=name.upper(), ylabel="held-out MSE")
    axes.flat[0].legend(fontsize="x-small")
    return fig


def fig_reconstructions(grid: GridRun, ds: Dataset, cfg: Config):
    """Held-out shapes (top row, two of each shape) and their reconstructions by the first seed of each of the
    paper's η (one row per η, from :func:`~lrlab.studies.fluctuations.experiments.reconstruction_grid`): the
    paper's own view of the result, and what the errors of :func:`fig_curves` look like."""
    images, labels = reconstruction_grid(grid, ds, cfg)
    return plots.image_grid(images, labels, cell=0.42)


def fig_unit_traces(grid: GridRun, cfg: Config, units: int = 6):
    """The paper's views of individual neurons: the bias (top) and incoming-weight norm (bottom) of the first
    ``units`` units of the first hidden layer over training, one column per η of the paper's grid (first seed,
    main optimiser). Under one seed every η starts from the same weights, so a line of a given colour is the same
    neuron in every column. The y axes are not shared: the scale of the movement is itself what differs."""
    traces = unit_traces(grid, cfg, layer=0, units=units)
    lrs = sorted(traces["lr"].unique(), reverse=True)
    fig, axes = plots.figure(ncols=len(lrs), nrows=2, height=2.0, squeeze=False)
    colours = plots.sns.color_palette("tab10", n_colors=units)
    for col, lr in enumerate(lrs):
        sub = traces[traces.lr == lr]
        for j, frame in sub.groupby("unit"):
            axes[0, col].plot(frame["epoch"], frame["bias"], color=colours[j], lw=0.9)
            axes[1, col].plot(frame["epoch"], frame["wnorm"], color=colours[j], lw=0.9)
        axes[0, col].set(title=f"η = {lr:g}")
        axes[1, col].set(xlabel="epoch")
    axes[0, 0].set(ylabel="bias $b_j$")
    axes[1, 0].set(ylabel=r"$\|W_{j,:}\|$")
    return fig


def fig_participation(neurons: pd.DataFrame, cfg: Config):
    """Participating units (active on more than a fraction τ of the inputs) per hidden layer at the end of
    training, one panel per optimiser in the order of the neuron table, bars per η of the paper's grid: the mean
    over seeds, whiskers the range over seeds. The per-layer counts claims C2 and C4 sum."""
    pal = _palette(cfg)
    sub = neurons[neurons.grid == "paper"]
    fig, axes = plots.figure(ncols=sub["optimizer"].nunique(), sharey=True, squeeze=False)
    for ax, (name, frame) in zip(list(axes.flat), sub.groupby("optimizer", sort=False)):
        plots.sns.barplot(frame, x="layer", y="participating", hue="lr", palette=pal, ax=ax, errorbar=("pi", 100))
        ax.set(title=name.upper(), ylabel=f"units active on > {cfg.tau:.0%} of inputs", xlabel="")
        ax.legend(title="η", fontsize="x-small")
    return fig


def fig_participation_tau(participation: pd.DataFrame, cfg: Config):
    """Participating units against the threshold τ, one row per optimiser and one column per hidden layer, one line
    per η (the paper's grid and the map's; mean over seeds). The vertical line marks the run's τ. Where lines cross,
    which η "engages more neurons" depends on the threshold."""
    pal = _palette(cfg)
    opts = list(dict.fromkeys(participation["optimizer"]))
    layers = list(dict.fromkeys(participation["layer"]))
    fig, axes = plots.figure(ncols=len(layers), nrows=len(opts), height=2.1, squeeze=False, sharex=True)
    mean = participation.groupby(["optimizer", "layer", "lr", "tau"], sort=False)["participating"].mean()
    for r, opt in enumerate(opts):
        for c, layer in enumerate(layers):
            ax = axes[r, c]
            for lr in sorted(participation["lr"].unique(), reverse=True):
                if (opt, layer, lr) not in mean.droplevel("tau").index:
                    continue
                line = mean.loc[(opt, layer, lr)]
                ax.plot(line.index, line.to_numpy(), color=pal[lr], lw=1.2, label=f"{lr:g}")
            ax.axvline(cfg.tau, color="0.4", ls=":", lw=0.8)
            ax.set(title=f"{opt.upper()}, {layer}", ylim=(0, None))
            if r == len(opts) - 1:
                ax.set(xlabel="threshold τ")
        axes[r, 0].set(ylabel="participating units")
    axes[0, -1].legend(title="η", fontsize="x-small")
    return fig


def fig_fluctuation(neurons: pd.DataFrame, cfg: Config):
    """Main optimiser, paper's grid, bars per η over the hidden layers (mean over seeds, whiskers the range).
    Left: the mean per-unit spread of the bias over the whole run (log scale), drift included. Middle: the mean
    fluctuation of the bias around the unit's own trajectory in the second half of training (log scale; claim C3).
    Right: the spread of the spread of that fluctuation, its coefficient of variation across the layer's units
    (claim C6)."""
    pal = _palette(cfg)
    fig, axes = plots.figure(ncols=3, squeeze=False)
    sub = neurons[(neurons.optimizer == cfg.optimizer) & (neurons.grid == "paper")]
    for ax, column, label, log in ((axes[0, 0], "spread_bias", "spread $s_j$ (whole run)", True),
                                   (axes[0, 1], "fluct_bias", "fluctuation $f_j$ (second half)", True),
                                   (axes[0, 2], "cv_fluct", "CV$_j$ of $f_j$", False)):
        plots.sns.barplot(sub, x="layer", y=column, hue="lr", palette=pal, ax=ax, errorbar=("pi", 100),
                          legend=ax is axes[0, 2])
        # a run too short to leave a second half that moves has no positive values to put on a log axis
        ax.set(ylabel=label, xlabel="", yscale="log" if log and (sub[column] > 0).any() else "linear")
        ax.tick_params(axis="x", labelrotation=30, labelsize="x-small")
    handles, labels = axes[0, 2].get_legend_handles_labels()
    axes[0, 2].get_legend().remove()
    fig.legend(handles, labels, title="η", fontsize="x-small", loc="outside right center")
    return fig


def _map_panel(ax, table: pd.DataFrame, lrs: list[float], title: str) -> None:
    index = {lr: i for i, lr in enumerate(lrs)}
    grid = np.full((len(lrs), len(lrs)), np.nan)
    codes = {s: i for i, s in enumerate(tradeoff.STATUSES)}
    for r in table.itertuples(index=False):
        grid[index[r.lr_hi], index[r.lr_lo]] = codes[r.status]
        ax.text(index[r.lr_lo], index[r.lr_hi], f"{r.holds}/{r.judged}" if r.judged else "–", ha="center",
                va="center", fontsize="x-small")
    cmap = ListedColormap([MAP_COLOURS[s] for s in tradeoff.STATUSES])
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(tradeoff.STATUSES) - 0.5)
    ticks = [f"{lr:g}" for lr in lrs]
    ax.set_xticks(range(len(lrs)), ticks, rotation=45, fontsize="x-small")
    ax.set_yticks(range(len(lrs)), ticks, fontsize="x-small")
    ax.set_xticks(np.arange(len(lrs)) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(lrs)) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set(title=title, xlabel="smaller η", ylabel="larger η")
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)


def fig_tradeoff_map(results: Results, cfg: Config, taus: tuple[float, ...] = ()):
    """The map of where the paper's trade-off holds: one panel per optimiser (columns) and participation threshold
    (rows: the run's τ, then ``taus``). A cell is a pair of rates the optimiser ran (larger η on the vertical
    axis); its colour says whether, on most seeds on which both runs trained, the larger η had both the lower
    held-out error and fewer participating units, only one of the two, or neither; white cells had a rate that
    did not train. The text is the number of seeds on which the whole trade-off held over those judged."""
    rows = (cfg.tau, *[t for t in taus if t != cfg.tau])
    opts = list(results.runs)
    fig, axes = plots.figure(ncols=len(opts), nrows=len(rows), height=2.9, squeeze=False)
    for r, tau in enumerate(rows):
        cells = tradeoff.cells(tradeoff.pairs(results, cfg, tau))
        for c, opt in enumerate(opts):
            lrs = sorted(results.finals.loc[results.finals.optimizer == opt, "lr"].unique(), reverse=True)
            _map_panel(axes[r, c], cells[cells.optimizer == opt], lrs, f"{opt.upper()}, τ = {tau:g}")
    handles = [Patch(facecolor=MAP_COLOURS[s], edgecolor="0.5", label=s) for s in tradeoff.STATUSES]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize="x-small")
    return fig
