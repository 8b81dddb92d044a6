"""Sharpness (the top Hessian eigenvalue) against a peer and a baseline (chapter ``eos_ntk``).

On the chapter's tanh MLP 64-100-100-1 and book data (sklearn digits, n = 500), at initialisation and at the end of
an η = 0.2 run, to a relative error of 1e-3 against a reference (Lanczos run to machine precision):

1. our Lanczos (:func:`lrlab.probes.sharpness.lanczos_top`, cold start) against plain power iteration and against
   PyHessian's power iteration (PyPI ``pyhessian``, pinned), in Hessian-vector products and in seconds to that
   accuracy (each side's gradient built before its clock starts). PyHessian's
   own stopping rule compares successive estimates, not the truth; we count its products until its estimate is
   first within 1e-3 of the reference (its Rayleigh quotients are read off the products it computes), and ours
   likewise; both from the same 101 random starts (PyHessian's own draw for seeds 0–100, which our Lanczos is given
   as its start vector: a paired comparison), the median reported with a bootstrap interval over the starts (power
   iteration's counts spread widely, with the start's weight on the eigenvectors next to the top one, so a median
   over a few starts moves with one start);
2. PyHessian, run to a tight tolerance, must agree with our reference (the peer check);
3. one Hessian-vector product against one gradient; the R-operator products of the chapter's networks
   (:class:`lrlab.probes.sharpness.MLPHessian`) against autograd's double backward; one Lanczos step against one
   bare product (what the reorthogonalisation and the Ritz pair add);
4. warm-started, as the chapter uses it: along the η = 0.2 run, at each measurement, the products to 1e-3 of our
   Lanczos and of power iteration, both started from the previous measurement's eigenvector, and of PyHessian
   (which cannot be warm-started); and the seconds to 1e-3 of our Lanczos and of PyHessian;
5. the cost of tracking sharpness during training at the book's measurement frequency, warm-started, over the
   chapter's whole η grid for seed 0 (median of 3 repeats);
6. for information: Lanczos and power iteration both started from the loss gradient, a free start that at this
   model's initialisation needs far fewer products than a random one, whichever the method.

Both sides are also run with their own stopping rules at tol = 1e-3, for time and the error they actually reach.

    OMP_NUM_THREADS=1 python benchmarks/bench_sharpness.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch

import common
from lrlab import models, performance
from lrlab.probes import sharpness as S
from lrlab.studies import eos_ntk as st

REL = 1e-3
STARTS = 101  # random starts per location; the medians' bootstrap interval is in the row's note


class _Reached(Exception):  # noqa: N818 - a signal, not an error
    pass


def model(x, y, cfg, trained_lr: float | None):
    m = models.scalar_net(models.tanh_mlp(x.shape[1], (100, 100), 1, 0), 1)
    if trained_lr:
        st.gd_run(m, x, y, trained_lr, loss_goal=cfg.loss_goal, max_steps=20000, every=10**9)
    return m


def power_to(op, ref: float, limit: int = 2000, v0: np.ndarray | None = None) -> tuple[int | None, float]:
    """Plain power iteration from ``v0`` (default a fixed Gaussian start): products and seconds until
    |λ̂ − ref| < REL·ref."""
    if v0 is None:
        v = torch.randn(op.size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    else:
        v = torch.as_tensor(np.asarray(v0, dtype=np.float64)).clone()
    v /= v.norm()
    start = time.perf_counter()
    for i in range(1, limit + 1):
        hv = op(v).double()
        if abs(float(v @ hv) - ref) < REL * abs(ref):
            return i, time.perf_counter() - start
        v = hv / hv.norm()
    return None, time.perf_counter() - start


def pyhessian_start(params, seed: int) -> np.ndarray:
    """The start vector PyHessian draws for seed ``seed``: one ``torch.randn`` per parameter tensor, in order."""
    torch.manual_seed(seed)
    return torch.cat([torch.randn(p.size()).reshape(-1) for p in params]).double().numpy()


def pyhessian_run(m, x, y, tol: float, seed: int = 0, ref: float | None = None,
                  first: list | None = None) -> tuple[float, float | None, int]:
    """PyHessian's power iteration from seed ``seed``: seconds, value and products. With ``ref``, it is stopped as soon
    as its Rayleigh quotient (read off each product it computes) is within REL of ``ref``, and the value is None
    if that never happens; otherwise its own rule (successive estimates within ``tol``) stops it. ``first``, a
    list, receives the (flattened) vector of its first product."""
    import importlib

    ph = importlib.import_module("pyhessian.hessian")  # the module: `pyhessian.hessian` the attribute is its class
    original, count = ph.hessian_vector_product, [0]

    def counted(grads, params, v):
        hv = original(grads, params, v)
        if first is not None and count[0] == 0:
            first.append(torch.cat([t.reshape(-1) for t in v]).double().numpy())
        count[0] += 1
        if ref is not None and abs(float(ph.group_product(hv, v)) - ref) < REL * abs(ref):
            raise _Reached
        return hv

    torch.manual_seed(seed)
    h = ph.hessian(m, models.half_mse, data=(x, y), cuda=False)
    ph.hessian_vector_product = counted
    start = time.perf_counter()
    try:
        value = float(h.eigenvalues(maxIter=2000, tol=tol)[0][0])
        return time.perf_counter() - start, None if ref is not None else value, count[0]
    except _Reached:
        return time.perf_counter() - start, ref, count[0]
    finally:
        ph.hessian_vector_product = original
        m.zero_grad(set_to_none=True)


def pyhessian_to(m, x, y, ref: float, seed: int = 0, first: list | None = None) -> tuple[int | None, float]:
    """PyHessian stopped by the reference: products (None if never within REL) and seconds."""
    seconds, reached, products = pyhessian_run(m, x, y, tol=0.0, seed=seed, ref=ref, first=first)
    return (products if reached is not None else None), seconds


def lanczos_to(loss, params, ref: float, seed: int = 0, limit: int = 200, v0: np.ndarray | None = None) -> int | None:
    """Our Lanczos (from ``v0``, else a Gaussian start drawn from ``seed``) stopped by the reference: the fewest
    products whose Ritz value is within REL of ``ref``."""
    op = S.HessianOperator(loss, params)
    for k in range(1, limit + 1):
        if abs(S.lanczos(op, v0=v0, tol=0, maxiter=k, seed=seed).value - ref) < REL * abs(ref):
            return k
    return None


def lanczos_seconds(loss, params, v0: np.ndarray, products: int | None) -> float:
    """Seconds our Lanczos takes from ``v0`` to make ``products`` products (the fewest that reach REL, from
    :func:`lanczos_to`), with its reorthogonalisation, Ritz pair and convergence test at every step. The gradient
    and its graph are built first and not timed, as PyHessian builds its own before :func:`pyhessian_run` times it."""
    if products is None:
        return float("nan")
    op = S.HessianOperator(loss, params)
    start = time.perf_counter()
    S.lanczos(op, v0=v0, tol=0, maxiter=products)
    return time.perf_counter() - start


def warm_products(cfg, x, y, lr: float) -> dict:
    """Along the η = ``lr`` run of seed 0 at the book's measurement frequency: at every measurement after the first,
    the products to REL for our Lanczos and for power iteration, both warm-started from the eigenvector the tracker
    found at the previous measurement (the chapter's use), and for PyHessian, which has no warm start (its own
    random start, seeded by the measurement's index)."""
    m = models.scalar_net(models.tanh_mlp(x.shape[1], cfg.widths, 1, 0), 1)
    params = list(m.parameters())

    def loss():
        return models.half_mse(m(x), y)

    tracker = S.SharpnessTracker(tol=cfg.lanczos_tol)
    every = st.sharp_every(lr, cfg.sharp_dt)
    out: dict[str, list] = {k: [] for k in ("step", "lanczos", "power", "pyhessian", "lanczos_s", "pyhessian_s")}
    for step in range(cfg.max_steps + 1):
        value = loss()
        if float(value.detach()) <= cfg.loss_goal:
            break
        if step % every == 0:
            prev = tracker.last
            if prev is not None:
                ref = S.lanczos_top(loss, params, tol=0).value
                out["step"].append(step)
                out["lanczos"].append(lanczos_to(loss, params, ref, v0=prev))
                out["lanczos_s"].append(lanczos_seconds(loss, params, prev, out["lanczos"][-1]))
                out["power"].append(power_to(S.HessianOperator(loss, params), ref, v0=prev)[0])
                n_ph, s_ph = pyhessian_to(m, x, y, ref, seed=len(out["step"]))
                out["pyhessian"].append(n_ph)
                out["pyhessian_s"].append(s_ph if n_ph is not None else float("nan"))
            tracker(loss, params)
        grads = torch.autograd.grad(value, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
    return out


def pyhessian_own(m, x, y) -> tuple[float, tuple[float, int]]:
    """PyHessian stopped by its own rule at tol = REL: seconds, (value, products)."""
    seconds, value, products = pyhessian_run(m, x, y, tol=REL)
    return seconds, (value, products)


def tracking_share(cfg, x, y, lrs, catapult: bool) -> tuple[float, dict]:
    """Tracking time over training time for seed 0 and the given η, on the chapter's schedule (every
    ``sharp_every`` steps); with ``catapult``, also every step of the first ``catapult_steps`` where 2/η lies below
    the initial sharpness, as the chapter does."""
    base = models.scalar_net(models.tanh_mlp(x.shape[1], cfg.widths, 1, 0), 1)
    top0 = S.lanczos_top(lambda: models.half_mse(base(x), y), list(base.parameters()), tol=cfg.lanczos_tol)
    s0 = top0.value  # as the chapter does: computed once per seed, its eigenvector warm-starts every run
    per_lr = {}
    for lr in lrs:
        m = models.scalar_net(models.tanh_mlp(x.shape[1], cfg.widths, 1, 0), 1)
        run = st.gd_run(m, x, y, lr, loss_goal=cfg.loss_goal, max_steps=cfg.max_steps,
                        every=st.sharp_every(lr, cfg.sharp_dt), tol=cfg.lanczos_tol,
                        early=cfg.catapult_steps if catapult and 2 / lr < s0 else 0, v0=top0.vector)
        per_lr[lr] = {"steps": run.steps, "calls": run.sharp_calls, "matvecs": run.matvecs,
                      "train_s": run.train_s, "sharp_s": run.sharp_s}
    total = sum(r["sharp_s"] for r in per_lr.values()) / sum(r["train_s"] for r in per_lr.values())
    return total, per_lr


def _scipy_ritz(alphas: list[float], betas: list[float]) -> tuple[float, np.ndarray]:
    """The top Ritz pair through scipy's checked wrapper (what ``_top_ritz`` called before it went to LAPACK)."""
    from scipy.linalg import eigh_tridiagonal

    if len(alphas) == 1:
        return alphas[0], np.ones(1)
    w, v = eigh_tridiagonal(np.asarray(alphas), np.asarray(betas), select="i",
                            select_range=(len(alphas) - 1, len(alphas) - 1))
    return float(w[0]), v[:, 0]


def lanczos_bookkeeping(op, steps: int = 10) -> list[dict]:
    """What a Lanczos step costs on top of its product: ``steps`` steps of :func:`lrlab.probes.sharpness.lanczos`
    (reorthogonalisation, Ritz pair, convergence test) against ``steps`` bare products, taking turns; and the same
    steps with the Ritz pair from scipy's ``eigh_tridiagonal``, which gives the same bits."""
    v = np.random.default_rng(0).standard_normal(op.size)
    q = torch.as_tensor(v / np.linalg.norm(v))
    ours = S.lanczos(op, v0=v, tol=0, maxiter=steps)

    def wrapped():
        fast, S._top_ritz = S._top_ritz, _scipy_ritz
        try:
            return S.lanczos(op, v0=v, tol=0, maxiter=steps)
        finally:
            S._top_ritz = fast

    theirs = wrapped()
    assert ours.value == theirs.value and np.array_equal(ours.vector, theirs.vector)
    t = common.interleaved({"lanczos": lambda: S.lanczos(op, v0=v, tol=0, maxiter=steps), "scipy": wrapped,
                            "bare": lambda: [op(q) for _ in range(steps)]}, 21)
    step, bare, scipy_step = (t[k] / steps for k in ("lanczos", "bare", "scipy"))
    label = f"(initialisation, {steps} steps)"
    return [common.row(f"one Lanczos step vs one bare Hessian-vector product {label}", "Lanczos step", step,
                       "Hessian-vector product", bare, step / bare, "", None,
                       note="ratio = a step's cost in bare products (the floor is 1)"),
            common.row(f"one Lanczos step, its Ritz pair from LAPACK directly vs from scipy's eigh_tridiagonal {label}",
                       "direct dstebz + dstein", step, "scipy.linalg.eigh_tridiagonal", scipy_step, scipy_step / step,
                       "", None, note="the same LAPACK routines, the same bits (checked); ratio = scipy's step / ours")]


def paired_medians(ours: list[int | None], theirs: list[int | None], draws: int = 2000) -> dict:
    """Medians of paired counts over the starts (a start that never reaches REL counts as infinitely many products),
    their ratio (theirs / ours), and its 90% bootstrap interval, resampling the starts in pairs."""
    a, b = performance.as_counts(ours), performance.as_counts(theirs)
    picks = np.random.default_rng(0).integers(0, len(a), size=(draws, len(a)))
    boot = np.median(b[picks], axis=1) / np.median(a[picks], axis=1)
    return {"ours": float(np.median(a)), "theirs": float(np.median(b)), "ratio": performance.median_ratio(ours, theirs),
            "interval": (float(np.quantile(boot, 0.05)), float(np.quantile(boot, 0.95))),
            "quartiles": (np.quantile(a, [0.25, 0.75]).tolist(), np.quantile(b, [0.25, 0.75]).tolist()),
            "means": (float(np.mean(a[np.isfinite(a)])), float(np.mean(b[np.isfinite(b)]))),
            "never": (int(np.isinf(a).sum()), int(np.isinf(b).sum()))}


def seconds_row(where: str, ours: list[float], theirs: list[float], over: str) -> dict:
    """Time to a relative error of 1e-3, both sides stopped by the reference: medians over ``over``."""
    lz, ph = float(np.nanmedian(ours)), float(np.nanmedian(theirs))
    return common.row(f"time to a relative error of 1e-3 {where}, Lanczos vs PyHessian", "Lanczos", lz,
                      "PyHessian power iteration", ph, ph / lz, "", None,
                      note=f"both stopped by the reference (equal accuracy), median over {over}; products by "
                           "double backward on both sides, each side's gradient built before its clock starts")


def pyhessian_value(m, x, y) -> float:
    from pyhessian import hessian

    torch.manual_seed(0)
    value = hessian(m, models.half_mse, data=(x, y), cuda=False).eigenvalues(maxIter=5000, tol=1e-9)[0][0]
    m.zero_grad(set_to_none=True)
    return float(value)


def main() -> None:
    warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph")
    cfg = st.SPEC.resolve(scale="book")
    d = st.load_data(cfg)
    x, y = d.x, d.y
    rows, details = [], {}
    for label, lr in (("initialisation", None), ("end of the η = 0.2 run", 0.2)):
        m = model(x, y, cfg, lr)
        params = list(m.parameters())

        def loss(m=m):
            return models.half_mse(m(x), y)

        ref = S.lanczos_top(loss, params, tol=0).value
        # random start vectors differ in luck: the median over STARTS draws, each given to both sides (paired)
        pyhessian_to(m, x, y, ref, seed=0)  # warm-up, untimed: the first call pays for imports and allocations
        lanczos_seconds(loss, params, pyhessian_start(params, 0), 10)
        lz_all, ph_all, lz_s, ph_s = [], [], [], []
        for k in range(STARTS):
            v0, seen = pyhessian_start(params, k), []
            n_ph, s_ph = pyhessian_to(m, x, y, ref, seed=k, first=seen)
            ph_all.append(n_ph)
            ph_s.append(s_ph if n_ph is not None else float("nan"))
            np.testing.assert_allclose(seen[0], v0 / np.linalg.norm(v0), rtol=1e-5, atol=1e-7)  # the same start
            lz_all.append(lanczos_to(loss, params, ref, v0=v0))
            lz_s.append(lanczos_seconds(loss, params, v0, lz_all[-1]))
        med = paired_medians(lz_all, ph_all)
        lz_n, ph_n = med["ours"], med["theirs"]
        (lz_q1, lz_q3), (ph_q1, ph_q3) = med["quartiles"]
        rows.append(common.row(f"sharpness at {label}: products to a relative error of 1e-3, Lanczos vs PyHessian",
                               "Lanczos", lz_n, "PyHessian power iteration", ph_n, med["ratio"],
                               "≥ 2× fewer products", med["ratio"] >= 2, unit="Hessian-vector products",
                               note=f"both stopped by the reference (equal accuracy); medians over the same {STARTS} "
                                    f"random starts, 90% bootstrap interval of the ratio {med['interval'][0]:.2f}–"
                                    f"{med['interval'][1]:.2f}; quartiles Lanczos {lz_q1:g}–{lz_q3:g}, PyHessian "
                                    f"{ph_q1:g}–{ph_q3:g}; means {med['means'][0]:.1f} and {med['means'][1]:.1f}; "
                                    f"never within 1e-3: {med['never'][0]} and {med['never'][1]}"))
        rows.append(seconds_row(f"at {label}", lz_s, ph_s, f"the same {STARTS} random starts"))
        # the start matters as much as the method: the gradient, which every measurement computes anyway
        grad = S.HessianOperator(loss, params).grad.detach().double().numpy()
        lz_g, pw_g = lanczos_to(loss, params, ref, v0=grad), power_to(S.HessianOperator(loss, params), ref, v0=grad)[0]
        rows.append(common.row(f"sharpness at {label}: products to a relative error of 1e-3 from the gradient, "
                               "Lanczos vs power iteration", "Lanczos", lz_g, "power iteration", pw_g,
                               pw_g / lz_g if lz_g and pw_g else float("nan"), "", None,
                               unit="Hessian-vector products",
                               note="both started from the loss gradient (one start, paired); not our default start"))
        lz_s, lz = common.median_time(lambda loss=loss, params=params: S.lanczos_top(loss, params, tol=REL), 3)
        own_s, own = pyhessian_own(m, x, y)
        lz_err, own_err = abs(lz.value - ref) / ref, abs(own[0] - ref) / ref
        rows.append(common.row(f"sharpness at {label}: self-stopping at tol 1e-3, time, Lanczos vs PyHessian",
                               "Lanczos", lz_s, "PyHessian power iteration", own_s, own_s / lz_s, "", None,
                               note=f"Lanczos {lz.matvecs} products, error {lz_err:.1e}; PyHessian {own[1]} "
                                    f"products, error {own_err:.1e}"))
        op = S.HessianOperator(loss, params)
        pw_n, pw_s = power_to(op, ref)
        peer = pyhessian_value(m, x, y)
        assert abs(peer - ref) < 1e-4 * ref, f"PyHessian ({peer}) and Lanczos ({ref}) disagree"
        v = torch.randn(op.size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        v /= v.norm()  # a random unit vector, as Lanczos feeds it
        rop = S.hessian_operator(m, x, y)  # the chapter's: Pearlmutter's R-operator for its networks
        assert isinstance(rop, S.MLPHessian)
        hv = op(v)
        torch.testing.assert_close(rop(v), hv, rtol=1e-4, atol=1e-5 * float(hv.abs().max()))
        t = common.interleaved({"hvp": lambda op=op, v=v: op(v), "rop": lambda rop=rop, v=v: rop(v),
                                "grad": lambda loss=loss, params=params: torch.autograd.grad(loss(), params)}, 101)
        hvp, grad = t["hvp"], t["grad"]
        rows.append(common.row(f"one Hessian-vector product vs one gradient ({label})", "Hessian-vector product",
                               hvp, "gradient", grad, hvp / grad, "≤ 3 gradients", hvp / grad <= 3,
                               note="ratio = cost of a product in gradients; autograd's double backward, any model"))
        rows.append(common.row(f"R-operator vs double backward, one Hessian-vector product ({label})",
                               "R-operator (MLPHessian)", t["rop"], "autograd's double backward", hvp,
                               hvp / t["rop"], "", None,
                               note=f"the same product (checked); the R-operator costs {t['rop'] / grad:.2f} "
                                    "gradients; the chapter's networks use it"))
        if lr is None:
            rows.extend(lanczos_bookkeeping(rop))
        details[label] = {"reference": ref, "pyhessian_tight": peer, "power_matvecs": pw_n, "power_s": pw_s,
                          "lanczos_matvecs_to_1e-3": lz_n, "pyhessian_matvecs_to_1e-3": ph_n,
                          "starts": {"lanczos": lz_all, "pyhessian": ph_all, "ratio_interval_90": med["interval"]},
                          "lanczos_self_stopping": {"matvecs": lz.matvecs, "relerr": lz_err},
                          "pyhessian_self_stopping": {"matvecs": own[1], "relerr": own_err}}
    warm = warm_products(cfg, x, y, 0.2)
    lz_w, pw_w, ph_w = (float(np.median([k for k in warm[side] if k is not None] or [np.nan]))
                        for side in ("lanczos", "power", "pyhessian"))
    never = {side: sum(k is None for k in warm[side]) for side in ("lanczos", "power", "pyhessian")}
    rows.append(common.row("sharpness along the η = 0.2 run, warm-started (the chapter's use): products to a relative "
                           "error of 1e-3, Lanczos vs PyHessian", "warm-started Lanczos", lz_w,
                           "PyHessian power iteration (no warm start)", ph_w, ph_w / lz_w, "≥ 2× fewer products",
                           ph_w / lz_w >= 2, unit="Hessian-vector products",
                           note=f"median over the {len(warm['step'])} measurements after the first (steps "
                                f"{warm['step'][0]}–{warm['step'][-1]}): Lanczos {warm['lanczos']}, PyHessian "
                                f"{warm['pyhessian']}; never within 1e-3: {never}"))
    rows.append(common.row("sharpness along the η = 0.2 run: warm-started Lanczos vs power iteration warm-started from "
                           "the same vector", "warm-started Lanczos", lz_w, "warm-started power iteration", pw_w,
                           pw_w / lz_w, "≥ 2× fewer products", pw_w / lz_w >= 2, unit="Hessian-vector products",
                           note=f"power iteration {warm['power']}"))
    rows.append(seconds_row("along the η = 0.2 run, warm-started Lanczos (the chapter's use)", warm["lanczos_s"],
                            warm["pyhessian_s"], f"the {len(warm['step'])} measurements after the first"))
    details["warm"] = warm
    repeats = [tracking_share(cfg, x, y, cfg.lrs, catapult=False) for _ in range(3)]
    share, per_lr = sorted(repeats, key=lambda r: r[0])[1]  # the median of three repeats
    rows.append(common.row("sharpness tracking at the book's frequency (every ⌈10/η⌉ steps), η grid, seed 0",
                           "tracking", sum(r["sharp_s"] for r in per_lr.values()), "training",
                           sum(r["train_s"] for r in per_lr.values()), share, "≤ 0.25 of training", share <= 0.25,
                           note=f"ratio = tracking time / training time, median of 3 repeats "
                           f"({', '.join(f'{r[0]:.2f}' for r in repeats)}); per η: " + ", ".join(
                               f"{lr:g}: {r['sharp_s'] / r['train_s']:.2f}" for lr, r in per_lr.items())))
    lr = max(cfg.lrs)
    cat_share, cat = tracking_share(cfg, x, y, (lr,), catapult=True)
    rows.append(common.row(f"catapult phase at η = {lr:g}: sharpness at every one of the first "
                           f"{cfg.catapult_steps} steps", "tracking", cat[lr]["sharp_s"], "training",
                           cat[lr]["train_s"], cat_share, "", None,
                           note="a separate probe of the catapult (every step), on top of the schedule above"))
    details["tracking"] = per_lr
    details["catapult"] = cat
    common.save("sharpness", "Sharpness: Lanczos against PyHessian and power iteration", rows, details)


if __name__ == "__main__":
    main()
