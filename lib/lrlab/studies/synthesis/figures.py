"""The synthesis page's figure: the studies side by side, four panels."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter

from lrlab import plots
from lrlab.studies.synthesis.load import VERDICTS, Results
from lrlab.studies.synthesis.tables import elr_ruler, sphere_bands, stability, step_effects, verdict_counts

OUTCOME_COLOURS: dict[str, str] = {"converges": "#2166ac", "at the edge": "#e08214", "diverges": "#b2182b",
                                   "oscillates": "#b35806"}
"""Colours of the outcome of a run against its stability threshold (:func:`stability`)."""


def figure(res: Results):
    """The studies side by side, four panels; returns the figure.

    (a) steps against their stability threshold (:func:`stability`); (b) the ELR of SGD + weight decay on the
    sphere's regime map (:func:`elr_ruler`, :func:`sphere_bands`); (c) measures against the step
    (:func:`step_effects`); (d) the verdicts of every chapter (:func:`verdict_counts`).
    """
    fig = plt.figure(figsize=(plots.WIDTH, 8.2), layout="constrained")
    axes = fig.subplot_mosaic([["a", "a"], ["b", "b"], ["c", "d"]], height_ratios=[1, 1.35, 1.3])
    titles = {"a": _panel_stability(axes["a"], res), "b": _panel_ruler(axes["b"], res),
              "c": _panel_effects(axes["c"], res), "d": _panel_verdicts(axes["d"], res)}
    for key, title in titles.items():
        axes[key].set_title(f"({key}) {title}", loc="left")
    return fig


def _log_ticks(ax, ticks: Sequence[float]) -> None:
    ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:g}")
    ax.xaxis.set_minor_formatter(NullFormatter())


def _panel_stability(ax, res: Results) -> str:
    st = stability(res)
    rows = {"eos_ntk": 3, "sphere_regimes": 2, "boosting_paths": 1}
    names = {3: "NTK at EoS:\nsharpness·η/2", 2: "sphere toy: edges\nover 2/a and 8/a", 1: "Poisson boosting:\nν/ν*"}
    seen: set[str] = set()
    n_arrows = 0
    for i, r in enumerate(st.itertuples()):
        y = rows[r.study]
        if r.kind == "arrow":  # a catapult run: from s0·η/2 down to its lowest sharpness·η/2
            ya = y - 0.28 - 0.1 * n_arrows
            n_arrows += 1
            ax.annotate("", xy=(r.low, ya), xytext=(r.high, ya),
                        arrowprops={"arrowstyle": "->", "color": OUTCOME_COLOURS["converges"], "lw": 0.8})
            ax.plot([r.high], [ya], "o", mfc="none", color=OUTCOME_COLOURS["converges"], ms=4,
                    label=None if "catapult" in seen else "catapult: s₀·η/2 → lowest")
            seen.add("catapult")
            continue
        colour = OUTCOME_COLOURS.get(r.outcome, "0.5")
        label = None if r.outcome in seen else r.outcome
        seen.add(r.outcome)
        if r.kind == "bracket":
            ax.plot([r.low, r.high], [y, y], color=colour, lw=6, solid_capstyle="butt", alpha=0.8, label=label)
        else:
            ax.plot([r.ratio], [y + 0.18 * ((i % 5) - 2) / 2], "o", color=colour, ms=4, alpha=0.85, label=label)
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set(xscale="log", yticks=list(names), yticklabels=list(names.values()), ylim=(0.5, 3.5),
           xlabel="step / its critical value (1: step × curvature = 2)")
    _log_ticks(ax, [0.125, 0.25, 0.5, 1, 2])
    ax.legend(fontsize="x-small", loc="upper left")
    return "one stability threshold"


def _panel_ruler(ax, res: Results) -> str:
    bands = sphere_bands(res)
    ruler = elr_ruler(res)
    lo = min(ruler.elr.min(), bands["conv_max"]) / 3
    hi = max(ruler.elr.max(), bands["div_min"]) * 3
    spans = {"convergence": (lo, bands["conv_max"]), "equilibrium": (bands["equ_min"], bands["equ_max"]),
             "divergence": (bands["div_min"], hi)}
    for regime, (a, b) in spans.items():
        ax.axvspan(a, b, color=plots.REGIME_COLOURS[regime], alpha=0.18, lw=0, label=f"sphere map: {regime}")
    rows = [("sphere_regimes", ("spike", "settled"), "sphere ch.:\nSGD + WD"),
            ("periodic_bn_wd", ("before", "after"), "BN + WD ch.:\nperiodic runs"),
            ("periodic_bn_wd", ("settled",), "BN + WD ch.:\nlargest η"),
            ("periodic_bn_wd", ("fixed",), "BN + WD ch.:\nnorm fixed")]
    style = {"spike": ("^", True, "before a loss spike"), "before": ("o", True, "before a destabilisation"),
             "after": ("o", False, "after it (reset)"), "settled": ("s", True, "settled, no events"),
             "fixed": ("D", True, "η/ρ₀², no events")}
    seen: set[str] = set()
    for y, (chapter, kinds, _) in enumerate(reversed(rows)):
        for kind in kinds:
            g = ruler[(ruler.chapter == chapter) & (ruler.kind == kind)]
            if g.empty:
                continue
            marker, filled, label = style[kind]
            ax.plot(g.elr, y + np.linspace(-0.2, 0.2, len(g)), marker, color="k", ms=4, alpha=0.8,
                    mfc="k" if filled else "none", label=None if label in seen else label)
            seen.add(label)
    ax.set(xscale="log", xlim=(lo, hi), yticks=range(len(rows)), yticklabels=[r[2] for r in reversed(rows)],
           ylim=(-0.6, len(rows) - 0.4), xlabel="ELR = η/ρ²")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=4)
    return "SGD + weight decay on the sphere's regime map"


def _panel_effects(ax, res: Results) -> str:
    fx = step_effects(res)
    styles = {"fluctuations": "-", "eos_ntk": "--", "sphere_regimes": ":"}
    short = {"fluctuations": "fluct.", "eos_ntk": "EoS", "sphere_regimes": "sphere"}
    for i, ((study, quantity), g) in enumerate(fx.groupby(["study", "quantity"], sort=False)):
        ax.plot(g.step_ratio, g.value_ratio, styles.get(study, "-"), marker="o", ms=3, color=f"C{i}",
                label=f"{quantity} ({short.get(study, study)})")
    ax.axhline(1.0, color="0.6", lw=0.6)
    ax.set(xscale="log", yscale="log", xlabel="step / smallest step of the grid", ylabel="ratio to smallest step")
    _log_ticks(ax, [1, 10, 100])
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    return "what a larger step does"


def _panel_verdicts(ax, res: Results) -> str:
    counts = verdict_counts(res)
    left = np.zeros(len(counts))
    y = np.arange(len(counts))[::-1]
    for v in VERDICTS:
        ax.barh(y, counts[v], left=left, color=plots.VERDICT_COLOURS[v], label=v, height=0.6)
        left += counts[v].to_numpy()
    ax.set(yticks=y, yticklabels=counts.index, xlabel="claims")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.3, -0.22), ncols=2)
    return "verdicts per chapter"
