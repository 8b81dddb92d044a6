"""The fluctuations chapter's claims: the claim table and one judging function per claim.

Every claim is judged seed by seed, with criteria fixed in advance from the paper's abstract:
η_max = max(lrs), η_min = min(lrs). C1, C2 and C4 are measured and shown at every scale but not asserted (each
one's ``note`` says what scale ``book`` gives); C1' repeats C1 under the contrast optimiser when that grid ran.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, verdict_from_parts, verdict_from_seeds
from lrlab.config import Config

from .experiments import Results

_SOURCE = "Pareek et al. 2025, abstract"
_CITE = "pareek2025fluctuations"

CLAIMS = ClaimTable("fluctuations", (
    ClaimSpec(
        "C1", "The largest η gives the best reconstruction ({opt}).",
        paper="η = 0.01 yields the best reconstruction within 1000 epochs (abstract)",
        criterion="for every seed, held-out MSE at η_max is the lowest of the grid",
        source=_SOURCE, cite=_CITE, expected={},
        note="partial at scale book: after 1000 epochs η = 1e-3 catches up with 1e-2 for some seeds",
    ),
    ClaimSpec(
        "C2", "Fewer neurons participate at the largest η than at the smallest.",
        paper="at η = 0.01 many neurons remain largely inactive; η = 1e-4 engages more (abstract)",
        criterion="for every seed, participating hidden units (activity > τ = {tau:g}) at η_max < at η_min",
        source=_SOURCE, cite=_CITE, expected={},
        note="not reproduced at scale book: the decoder recruits more units at larger η",
    ),
    ClaimSpec(
        "C3", "Weight and bias fluctuations grow with η.",
        paper="the learning rate sets the magnitude of weight and bias fluctuations (abstract)",
        criterion="for every seed and every hidden layer, the mean per-unit bias spread increases strictly with η",
        source=_SOURCE, cite=_CITE,
    ),
    ClaimSpec(
        "C4", "The trade-off: the smallest η engages the most neurons yet reconstructs worst.",
        paper="η = 1e-4 engages more neurons yet delivers poorer reconstruction within the window (abstract)",
        criterion="for every seed, η_min has the most participating units AND the highest held-out MSE",
        source=_SOURCE, cite=_CITE, expected={},
        note="half holds at scale book: η_min reconstructs worst but does not engage the most units",
    ),
    ClaimSpec(
        "C1'", "C1 with {contrast} instead (how the finding depends on the optimiser).",
        paper="the paper does not name its optimiser",
        criterion="as C1, for the contrast optimiser",
        expected={},
        note="informative only: shows whether C1 survives a change of optimiser",
    ),
), generic={"opt": "with the main optimiser", "contrast": "the contrast optimiser"})


def _per_seed(final: pd.DataFrame, column: str) -> pd.DataFrame:
    return final.pivot_table(index="seed", columns="lr", values=column)


def _main(cfg: Config, results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Held-out MSE and participating units (summed over hidden layers) of the main optimiser: seeds × η."""
    mse = _per_seed(results.finals[results.finals.optimizer == cfg.optimizer], "test_mse")
    table = results.neurons[results.neurons.optimizer == cfg.optimizer]
    part = table.groupby(["seed", "lr"])["participating"].sum().unstack("lr")
    return mse, part


def c1(card: Scorecard, cfg: Config, results: Results) -> None:
    """C1: for every seed, η_max has the lowest held-out MSE of the grid."""
    mse, _ = _main(cfg, results)
    best = mse.idxmin(axis=1)
    card.record(
        "C1", value={"test_mse": {f"{lr:g}": float(mse[lr].mean()) for lr in cfg.lrs}},
        measured=f"best η per seed: {', '.join(f'{b:g}' for b in best)}; mean MSE "
        + ", ".join(f"{lr:g}: {mse[lr].mean():.4f}" for lr in sorted(cfg.lrs, reverse=True)),
        verdict=verdict_from_seeds([b == max(cfg.lrs) for b in best]), opt=cfg.optimizer.upper(),
    )


def c2(card: Scorecard, cfg: Config, results: Results) -> None:
    """C2: for every seed, fewer hidden units participate at η_max than at η_min."""
    _, part = _main(cfg, results)
    card.record(
        "C2", value={"participating": {f"{lr:g}": float(part[lr].mean()) for lr in cfg.lrs}},
        measured="participating units (mean over seeds) "
        + ", ".join(f"{lr:g}: {part[lr].mean():.1f}" for lr in sorted(cfg.lrs, reverse=True)),
        verdict=verdict_from_seeds(list(part[max(cfg.lrs)] < part[min(cfg.lrs)])),
    )


def c3(card: Scorecard, cfg: Config, results: Results) -> None:
    """C3: for every seed and hidden layer, the mean per-unit bias spread increases strictly with η."""
    spreads = results.neurons[results.neurons.optimizer == cfg.optimizer].pivot_table(
        index=["seed", "layer"], columns="lr", values="spread_bias")[sorted(cfg.lrs)]
    monotone = (np.diff(spreads.to_numpy(), axis=1) > 0).all(axis=1)
    holds = pd.Series(monotone, index=spreads.index).groupby(level="seed").all().tolist()
    card.record(
        "C3", value={"spread_bias": {f"{lr:g}": float(spreads[lr].mean()) for lr in cfg.lrs}},
        measured="mean bias spread " + ", ".join(f"{lr:g}: {spreads[lr].mean():.2e}"
                                                 for lr in sorted(cfg.lrs, reverse=True)),
        verdict=verdict_from_seeds(holds),
    )


def c4(card: Scorecard, cfg: Config, results: Results) -> None:
    """C4: for every seed, η_min has strictly the most participating units and strictly the highest MSE."""
    mse, part = _main(cfg, results)
    lo = min(cfg.lrs)
    others = [lr for lr in cfg.lrs if lr != lo]
    most = part[lo] > part[others].max(axis=1)
    worst = mse[lo] > mse[others].max(axis=1)
    card.record(
        "C4", value={"most_participating": most.tolist(), "worst_mse": worst.tolist()},
        measured=f"η_min strictly most participating in {int(most.sum())}/{len(most)} seeds, "
        f"strictly worst MSE in {int(worst.sum())}/{len(worst)} seeds",
        verdict=verdict_from_parts([bool(most.all()), bool(worst.all())]),
    )


def c1_contrast(card: Scorecard, cfg: Config, results: Results) -> None:
    """C1': C1's criterion for the contrast optimiser; recorded only when its grid ran (``contrast_seeds`` > 0)."""
    other = results.finals[results.finals.optimizer != cfg.optimizer]
    if not len(other):
        return
    mse = _per_seed(other, "test_mse")
    best = mse.idxmin(axis=1)
    card.record(
        "C1'", value={"test_mse": {f"{lr:g}": float(mse[lr].mean()) for lr in cfg.lrs}},
        measured=f"best η per seed: {', '.join(f'{b:g}' for b in best)}",
        verdict=verdict_from_seeds([b == max(cfg.lrs) for b in best]), contrast=other.optimizer.iloc[0].upper(),
    )


def scorecard(cfg: Config, results: Results) -> Scorecard:
    """Claims C1–C4 and, when the contrast grid ran, C1', each judged seed by seed."""
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c1_contrast):
        judge(card, cfg, results)
    return card
