"""The fluctuations chapter's claims: the claim table and one judging function per claim.

Every claim is judged seed by seed over the paper's grid (η_max = max(lrs), η_min = min(lrs)). The claims about the
trade-off compare networks that learned something: a run *trained* when its held-out error is at most
1/``trained_factor`` of the mean training image's (:mod:`~lrlab.studies.fluctuations.tradeoff`). C2, C4 and C6
compare the largest and the smallest rate that trained, and a seed with fewer than two such rates is not judged;
C1 and C5 ask that η_max trained. The fluctuation claim C3 is about the jitter of a unit around its own trajectory
in the second half of training, which a unit that stopped moving does not have. C7 is the map of where the
trade-off holds, shown, not asserted. A claim no run can judge says why (verdict "not judged").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, at_most, verdict_from_seeds
from lrlab.config import Config

from . import tradeoff
from .experiments import Results
from .ledger import LEDGER

_SOURCE = "Pareek et al. 2025, abstract"
_CITE = "pareek2025fluctuations"
_TRAINED = ("a run trained when its held-out MSE is at most 1/{trained_factor:g} of the mean training image's; ")

CLAIMS = ClaimTable("fluctuations", (
    ClaimSpec(
        "C1", "The largest η gives the best reconstruction ({opt}).",
        paper="η = 0.01 yields the best reconstruction within 1000 epochs (abstract)",
        criterion=_TRAINED + "for every seed, the η_max run trained and has the lowest held-out MSE of the grid "
        "(a seed on which no rate trained is not judged)",
        source=_SOURCE, cite=_CITE, expected={}, kind="abstract",
        note="shown, not asserted: the paper's η = 1e-2 and 1e-3 lie on either side of the rate of lowest error on "
        "the map, so their order is a small effect",
    ),
    ClaimSpec(
        "C2", "Fewer neurons participate at the largest η than at the smallest.",
        paper="at η = 0.01 many neurons remain largely inactive; η = 1e-4 engages more (abstract)",
        criterion=_TRAINED + "for every seed, participating hidden units (active on more than τ = {tau:g} of the "
        "inputs, summed over layers) are fewer at the largest η that trained than at the smallest η that trained "
        "(a seed with fewer than two trained rates is not judged)",
        source=_SOURCE, cite=_CITE, expected={"book": "not reproduced"}, kind="abstract",
        note="the per-layer counts, and how they depend on τ, are in the chapter's figures",
    ),
    ClaimSpec(
        "C3", "Weight and bias fluctuations grow with η.",
        paper="the learning rate sets the magnitude of weight and bias fluctuations (abstract)",
        criterion="for every seed and every hidden layer, the mean per-unit fluctuation around the unit's own "
        "trajectory (std of its increments between snapshots over the second half of training), of the bias and "
        "of the incoming-weight norm, increases strictly with η",
        source=_SOURCE, cite=_CITE, expected={"book": "reproduced"}, kind="abstract",
    ),
    ClaimSpec(
        "C4", "The trade-off: the smallest η engages the most neurons yet reconstructs worst.",
        paper="η = 1e-4 engages more neurons yet delivers poorer reconstruction within the window (abstract)",
        criterion=_TRAINED + "for every seed, among the rates that trained, the smallest has both the most "
        "participating units and the highest held-out MSE (a seed with fewer than two trained rates is not judged)",
        source=_SOURCE, cite=_CITE, expected={"book": "not reproduced"}, kind="abstract",
    ),
    ClaimSpec(
        "C5", "The smallest η reconstructs worse than the largest, which has learned.",
        paper="η = 1e-4 delivers poorer reconstruction within the fixed training window; η = 0.01 yields the best "
        "(abstract)",
        criterion=_TRAINED + "for every seed, the η_max run trained and the held-out MSE at η_min is higher than at "
        "η_max",
        source=_SOURCE, cite=_CITE, expected={"book": "reproduced"}, kind="abstract",
    ),
    ClaimSpec(
        "C6", "The spread of the spread: at the largest η the fluctuation is carried by fewer units.",
        paper="many neurons remain largely inactive at η = 0.01, analysed via a 'spread of the spread' metric "
        "(abstract); the prediction for the metric is derived in this chapter",
        criterion=_TRAINED + "for every seed and every hidden layer, the coefficient of variation across units of "
        "the bias fluctuation is larger at the largest η that trained than at the smallest η that trained",
        source="derived in this chapter from Pareek et al. 2025, abstract", cite=_CITE,
        expected={"book": "not reproduced"}, kind="derived in this chapter",
    ),
    ClaimSpec(
        "C7", "Where the trade-off holds: both halves at once, for a pair of rates that both trained.",
        paper="the trade-off between exploration and consolidation (abstract); the map over η and optimiser is "
        "this chapter's",
        criterion=_TRAINED + "for each optimiser and each pair of rates it ran (the grid and the map's extra rates), "
        "the larger η has both the lower held-out MSE and fewer participating units (τ = {tau:g}); reproduced when "
        "some pair holds on every seed it was judged on",
        source="derived in this chapter", cite=_CITE, expected={}, kind="derived in this chapter",
        note="descriptive: the map of the chapter's headline figure, not a reproduction",
    ),
    ClaimSpec(
        "C1'", "C1 with {contrast} instead (how the finding depends on the optimiser).",
        paper="the paper does not name its optimiser",
        criterion="as C1, for the contrast optimiser",
        source=_SOURCE, cite=_CITE, expected={}, kind="abstract",
        note="informative only: shows whether C1 survives a change of optimiser",
    ),
), generic={"opt": "with the main optimiser", "contrast": "the contrast optimiser"}, ledger=LEDGER)


def _grid(cfg: Config, results: Results, optimizer: str) -> pd.DataFrame:
    """Per-run rows (:func:`tradeoff.per_run`) of ``optimizer`` on the paper's grid."""
    runs = tradeoff.per_run(results, cfg)
    return runs[(runs.optimizer == optimizer) & (runs.grid == "paper")]


def _verdict(holds: list[bool | None]) -> str:
    """Verdict over the seeds that could be judged (None = not judged); "not judged" when none could."""
    judged = [h for h in holds if h is not None]
    return verdict_from_seeds(judged) if judged else "not judged"


def _count(holds: list[bool | None]) -> str:
    judged = [h for h in holds if h is not None]
    skipped = len(holds) - len(judged)
    return f"holds on {sum(judged)}/{len(judged)} judged seeds" + (f" ({skipped} not judged)" if skipped else "")


def _with_untrained(text: str, runs: pd.DataFrame) -> str:
    untrained = tradeoff.untrained_text(runs)
    return f"{text}; {untrained}" if untrained else text


def _too_few_rates(card: Scorecard, claim: str, cfg: Config, **fields) -> bool:
    if len(set(cfg.lrs)) >= 2:
        return False
    card.record(claim, value=None, measured="one learning rate only: nothing to compare", verdict="not judged",
                **fields)
    return True


def _best(card: Scorecard, claim: str, cfg: Config, results: Results, optimizer: str, **fields) -> None:
    """C1 and C1': per seed, the η_max run trained and has the lowest held-out MSE."""
    if _too_few_rates(card, claim, cfg, **fields):
        return
    runs = _grid(cfg, results, optimizer)
    mse = runs.pivot_table(index="seed", columns="lr", values="test_mse")
    trained = runs.pivot_table(index="seed", columns="lr", values="trained", aggfunc="max").astype(bool)
    hi = max(cfg.lrs)
    holds = [None if not trained.loc[s].any() else bool(trained.loc[s, hi] and mse.loc[s].idxmin() == hi)
             for s in mse.index]
    card.record(
        claim, value={"test_mse": {f"{lr:g}": float(mse[lr].mean()) for lr in mse.columns}},
        measured=_with_untrained(
            f"best η per seed: {', '.join(f'{b:g}' for b in mse.idxmin(axis=1))}; mean MSE "
            + ", ".join(f"{lr:g}: {mse[lr].mean():.4f}" for lr in sorted(mse.columns, reverse=True))
            + f"; {_count(holds)}", runs),
        verdict=_verdict(holds), **fields,
    )


def c1(card: Scorecard, cfg: Config, results: Results) -> None:
    """C1: per seed, η_max trained and has the lowest held-out MSE."""
    _best(card, "C1", cfg, results, cfg.optimizer, opt=cfg.optimizer.upper())


def _trained_rates(runs: pd.DataFrame, seed: int) -> list[float]:
    frame = runs[(runs.seed == seed) & runs.trained]
    return sorted(frame["lr"].unique())


def c2(card: Scorecard, cfg: Config, results: Results) -> None:
    """C2: per seed, fewer participating units at the largest trained η than at the smallest trained η."""
    if _too_few_rates(card, "C2", cfg):
        return
    runs = _grid(cfg, results, cfg.optimizer)
    part = runs.pivot_table(index="seed", columns="lr", values="participating")
    holds, compared = [], set()
    for s in part.index:
        rates = _trained_rates(runs, s)
        if len(rates) < 2:
            holds.append(None)
            continue
        compared.add((rates[-1], rates[0]))
        holds.append(bool(part.loc[s, rates[-1]] < part.loc[s, rates[0]]))
    pairs = ", ".join(f"{a:g} vs {b:g}" for a, b in sorted(compared, reverse=True)) or "none"
    card.record(
        "C2", value={"participating": {f"{lr:g}": float(part[lr].mean()) for lr in part.columns}},
        measured=_with_untrained(
            "participating units (mean over seeds) "
            + ", ".join(f"{lr:g}: {part[lr].mean():.1f}" for lr in sorted(part.columns, reverse=True))
            + f"; compared {pairs}; {_count(holds)}", runs),
        verdict=_verdict(holds),
    )


def c3(card: Scorecard, cfg: Config, results: Results) -> None:
    """C3: per seed and hidden layer, the late fluctuation of biases and weight norms increases strictly with η."""
    if _too_few_rates(card, "C3", cfg):
        return
    table = results.neurons[(results.neurons.optimizer == cfg.optimizer) & (results.neurons.grid == "paper")]
    lrs = sorted(set(cfg.lrs))
    values, holds = {}, []
    for column in ("fluct_bias", "fluct_wnorm"):
        f = table.pivot_table(index=["seed", "layer"], columns="lr", values=column, dropna=False)[lrs]
        values[column] = {f"{lr:g}": float(f[lr].mean()) for lr in lrs}
        if f.isna().to_numpy().any():
            holds = []
            break
        grows = [all(not at_most(b, a) for a, b in zip(row[:-1], row[1:])) for row in f.to_numpy()]
        holds.append(pd.Series(grows, index=f.index).groupby(level="seed").all())
    if not holds:
        card.record("C3", value=values, verdict="not judged",
                    measured="fewer than two increments between snapshots in the second half of training (or a "
                    "diverged run): raise epochs or lower probe_every")
        return
    per_seed = (holds[0] & holds[1]).tolist()
    card.record(
        "C3", value=values,
        measured="mean fluctuation of the bias " + ", ".join(
            f"{lr:g}: {values['fluct_bias'][f'{lr:g}']:.2e}" for lr in reversed(lrs))
        + "; of the weight norm " + ", ".join(f"{lr:g}: {values['fluct_wnorm'][f'{lr:g}']:.2e}" for lr in reversed(lrs))
        + f"; {_count(per_seed)}",
        verdict=_verdict(per_seed),
    )


def c4(card: Scorecard, cfg: Config, results: Results) -> None:
    """C4: per seed, the smallest trained η has both the most participating units and the highest held-out MSE
    among the trained rates."""
    if _too_few_rates(card, "C4", cfg):
        return
    runs = _grid(cfg, results, cfg.optimizer)
    part = runs.pivot_table(index="seed", columns="lr", values="participating")
    mse = runs.pivot_table(index="seed", columns="lr", values="test_mse")
    holds, most, worst = [], 0, 0
    for s in part.index:
        rates = _trained_rates(runs, s)
        if len(rates) < 2:
            holds.append(None)
            continue
        lo, others = rates[0], rates[1:]
        m = bool(part.loc[s, lo] > part.loc[s, others].max())
        w = bool(mse.loc[s, lo] > mse.loc[s, others].max())
        most, worst = most + m, worst + w
        holds.append(m and w)
    n = sum(h is not None for h in holds)
    card.record(
        "C4", value={"most_participating": most, "worst_mse": worst, "judged": n},
        measured=_with_untrained(
            f"smallest trained η strictly most participating on {most}/{n} judged seeds, strictly worst MSE on "
            f"{worst}/{n}; {_count(holds)}", runs),
        verdict=_verdict(holds),
    )


def c5(card: Scorecard, cfg: Config, results: Results) -> None:
    """C5: per seed, η_max trained and η_min has the higher held-out MSE."""
    if _too_few_rates(card, "C5", cfg):
        return
    runs = _grid(cfg, results, cfg.optimizer)
    mse = runs.pivot_table(index="seed", columns="lr", values="test_mse")
    trained = runs.pivot_table(index="seed", columns="lr", values="trained", aggfunc="max").astype(bool)
    hi, lo = max(cfg.lrs), min(cfg.lrs)
    holds = [bool(trained.loc[s, hi] and mse.loc[s, lo] > mse.loc[s, hi]) for s in mse.index]
    blind = float(runs["blind_mse"].iloc[0])
    card.record(
        "C5", value={"test_mse": {f"{lr:g}": float(mse[lr].mean()) for lr in (hi, lo)}, "blind_mse": blind},
        measured=f"mean held-out MSE at η_max = {hi:g}: {mse[hi].mean():.4f} (trained on {int(trained[hi].sum())}/"
        f"{len(trained)} seeds), at η_min = {lo:g}: {mse[lo].mean():.4f}; mean image {blind:.4f}; {_count(holds)}",
        verdict=_verdict(holds),
    )


def c6(card: Scorecard, cfg: Config, results: Results) -> None:
    """C6: per seed and layer, the CV across units of the bias fluctuation is larger at the largest trained η than
    at the smallest trained η."""
    if _too_few_rates(card, "C6", cfg):
        return
    runs = _grid(cfg, results, cfg.optimizer)
    table = results.neurons[(results.neurons.optimizer == cfg.optimizer) & (results.neurons.grid == "paper")]
    cv = table.pivot_table(index=["seed", "layer"], columns="lr", values="cv_fluct", dropna=False)
    holds, compared = [], {}
    for s in sorted(table["seed"].unique()):
        rates = _trained_rates(runs, s)
        if len(rates) < 2:
            holds.append(None)
            continue
        rows = cv.loc[s]
        compared.setdefault((rates[-1], rates[0]), []).append(rows)
        holds.append(bool((rows[rates[-1]] > rows[rates[0]]).all()))
    parts = []
    for (a, b), frames in compared.items():
        both = pd.concat(frames)
        parts.append(f"mean CV {a:g}: {both[a].mean():.2f} vs {b:g}: {both[b].mean():.2f}")
    card.record(
        "C6", value={f"{lr:g}": float(np.nanmean(cv[lr])) for lr in cv.columns},
        measured=_with_untrained("; ".join(parts + [_count(holds)]), runs), verdict=_verdict(holds),
    )


def c7(card: Scorecard, cfg: Config, results: Results) -> None:
    """C7 (descriptive): the pairs of rates, per optimiser, on which the trade-off holds."""
    cells = tradeoff.cells(tradeoff.pairs(results, cfg))
    judged = cells[cells.judged > 0]
    full = judged[judged.holds == judged.judged]
    some = judged[judged.holds > 0]
    if not len(judged):
        verdict = "not judged"
    elif len(full):
        verdict = "reproduced"
    else:
        verdict = "partial" if len(some) else "not reproduced"

    def names(frame: pd.DataFrame) -> str:
        return ", ".join(f"{r.optimizer.upper()} {r.lr_hi:g} vs {r.lr_lo:g} ({r.holds}/{r.judged})"
                         for r in frame.itertuples(index=False)) or "none"

    card.record(
        "C7", value={"cells": cells.to_dict("records")},
        measured=f"{len(judged)} of {len(cells)} pairs judged (both rates trained); trade-off holds on: "
        f"{names(some)}; reconstruction half only on {int((judged.status == 'reconstruction half only').sum())}, "
        f"participation half only on {int((judged.status == 'participation half only').sum())}",
        verdict=verdict, opt=cfg.optimizer.upper(),
    )


def c1_contrast(card: Scorecard, cfg: Config, results: Results) -> None:
    """C1': C1's criterion for the contrast optimiser; recorded only when its grid ran (``contrast_seeds`` > 0)."""
    other = results.finals[results.finals.optimizer != cfg.optimizer]
    if not len(other):
        return
    _best(card, "C1'", cfg, results, other.optimizer.iloc[0], contrast=other.optimizer.iloc[0].upper())


def scorecard(cfg: Config, results: Results) -> Scorecard:
    """Claims C1–C7 and, when the contrast grid ran, C1', each judged seed by seed."""
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c5, c6, c7, c1_contrast):
        judge(card, cfg, results)
    return card
