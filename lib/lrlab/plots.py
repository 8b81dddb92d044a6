"""One figure style for the whole book, and the standard panels.

Every chapter calls :func:`use_style` in its setup cell and builds figures with :func:`figure`; learning rates
get the same colours everywhere through :func:`lr_palette`. Figures go into the page through ``myst_nb.glue``
(see :func:`glue_figure`) so each one is numbered and captioned in the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import seaborn as sns

from lrlab.claims import VERDICT_COLOURS as VERDICT_COLOURS  # re-exported: the figures' verdict colours

WIDTH = 7.0  # inches: the text width of the book's pages
PALETTE = "viridis"
REGIME_COLOURS = {"convergence": "#1b7837", "equilibrium": "#e08214", "divergence": "#b2182b"}
"""The three regimes of training on the sphere (chapter ``sphere_regimes`` and the synthesis page)."""


def use_style() -> None:
    """The book's figure style: seaborn ticks, a colour-blind-safe palette, sizes for a 7-inch column."""
    sns.set_theme(context="notebook", style="ticks", palette="colorblind", font_scale=0.9)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "medium",
            "legend.frameon": False,
            "figure.constrained_layout.use": True,
        }
    )


def figure(ncols: int = 1, nrows: int = 1, height: float = 2.6, width: float = WIDTH, squeeze: bool = True, **kw):
    """A figure of ``nrows × ncols`` panels at the book's width; returns ``(fig, axes)``.

    ``axes`` is a single Axes for one panel unless ``squeeze=False``, which always gives a 2-D array.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False, **kw)
    return fig, axes if (nrows * ncols > 1 or not squeeze) else axes[0, 0]


def lr_palette(values: Sequence[float]) -> dict[float, tuple]:
    """One colour per step size, ordered small → large along the book's sequential palette."""
    ordered = sorted(set(values))
    colours = sns.color_palette(PALETTE, n_colors=max(len(ordered), 2))
    return {v: colours[i] for i, v in enumerate(ordered)}


def lr_label(value: float, symbol: str = "η") -> str:
    """``η = 1e-3`` style legend label."""
    return f"{symbol} = {value:g}"


def glue_figure(name: str, fig) -> None:
    """Glue ``fig`` for a ``{glue:figure}`` directive, without showing it twice, then close it."""
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def image_grid(images, row_labels: Sequence[str], col_labels: Sequence[str] | None = None, cell: float = 0.7):
    """A grid of grey images ``(rows, cols, h, w)`` with row (and column) labels; returns the figure."""
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(cell * cols + 1.0, cell * rows), squeeze=False,
                             constrained_layout=False)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.14)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(images[r, c], cmap="Greys", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if c == 0:
                ax.set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize="small")
            if r == 0 and col_labels is not None:
                ax.set_title(col_labels[c], fontsize="small")
    return fig


def seed_band(ax, frame, x: str, y: str, hue: str, palette: dict, label=lr_label, log_y: bool = False) -> None:
    """Mean over seeds of ``y`` against ``x``, one line per ``hue`` value, with the band spanning the seeds.

    Seaborn draws each: ``sns.lineplot`` with its mean estimator and the 100% percentile interval
    (``errorbar=("pi", 100)``, from the lowest to the highest seed), in the colour ``palette[value]`` and labelled
    ``label(value)`` for the caller's ``ax.legend()``.
    """
    for value, group in frame.groupby(hue, sort=True):
        sns.lineplot(group, x=x, y=y, estimator="mean", errorbar=("pi", 100), color=palette[value],
                     label=label(value), err_kws={"alpha": 0.2, "linewidth": 0}, legend=False, ax=ax)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
