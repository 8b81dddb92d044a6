"""Sharpness and NTK probes against peers and baselines (chapter ``eos_ntk``).

1. Sharpness to a relative error of 1e-3 on the chapter's tanh MLP (book data), at initialisation and at the end of
   an η = 0.2 run: our Lanczos (:func:`lrlab.probes.sharpness.lanczos_top`) against plain power iteration and
   against PyHessian's power iteration (PyPI ``pyhessian``; optional: ``pip install pyhessian==0.1``), in
   Hessian-vector products and seconds. The reference is Lanczos at machine precision.
2. The cost of one Hessian-vector product against one gradient.
3. The empirical NTK by Jacobian contraction (``torch.func``) against a per-example gradient loop, both followed by
   the same J Jᵀ; the kernels must agree.

    OMP_NUM_THREADS=1 python benchmarks/sharpness_ntk.py
"""

from __future__ import annotations

import json
import time

import torch

from lrlab.probes import ntk as N
from lrlab.probes import sharpness as S
from lrlab.studies import eos_ntk as st

torch.set_num_threads(1)


def model(x, y, cfg, trained_lr: float | None):
    m = st.scalar_net(st.tanh_mlp(x.shape[1], (100, 100), 1, 0), 1)
    if trained_lr:
        st.gd_run(m, x, y, trained_lr, loss_goal=cfg.loss_goal, max_steps=20000, every=10**9)
    return m


def power_to(op, ref: float, rel: float = 1e-3, limit: int = 1000) -> tuple[int | None, float]:
    v = torch.randn(op.size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    v /= v.norm()
    start = time.perf_counter()
    for i in range(1, limit + 1):
        hv = op(v).double()
        value = float(v @ hv)
        v = hv / hv.norm()
        if abs(value - ref) / abs(ref) < rel:
            return i, time.perf_counter() - start
    return None, time.perf_counter() - start


def pyhessian(m, x, y) -> dict | None:
    try:
        import pyhessian.hessian as ph
    except ImportError:
        return None
    count = [0]
    original = ph.hessian_vector_product

    def counted(*a, **k):
        count[0] += 1
        return original(*a, **k)

    ph.hessian_vector_product = counted
    try:
        torch.manual_seed(0)
        start = time.perf_counter()
        ev, _ = ph.hessian(m, st.half_mse, data=(x, y), cuda=False).eigenvalues(maxIter=500, tol=1e-3, top_n=1)
        return {"matvecs": count[0], "s": time.perf_counter() - start, "value": float(ev[0])}
    finally:
        ph.hessian_vector_product = original


def main() -> None:
    cfg = st.SPEC.resolve(scale="book")
    d = st.load_data(cfg)
    x, y = d.x, d.y
    out: dict = {}
    for label, lr in (("init", None), ("end of eta=0.2", 0.2)):
        m = model(x, y, cfg, lr)
        params = list(m.parameters())

        def loss(m=m):
            return st.half_mse(m(x), y)

        ref = S.lanczos_top(loss, params, tol=0).value
        lz = S.lanczos_top(loss, params, tol=1e-3)
        op = S.HessianOperator(loss, params)
        pw_n, pw_s = power_to(op, ref)
        row = {
            "reference": ref,
            "lanczos": {"matvecs": lz.matvecs, "s": lz.seconds, "relerr": abs(lz.value - ref) / ref},
            "power": {"matvecs": pw_n, "s": pw_s},
        }
        peer = pyhessian(m, x, y)
        if peer:
            peer["relerr"] = abs(peer["value"] - ref) / ref
        row["pyhessian_tol1e-3"] = peer or "not installed (pip install pyhessian==0.1)"
        zero = torch.zeros(op.size)
        start = time.perf_counter()
        for _ in range(20):
            op(zero)
        hvp = (time.perf_counter() - start) / 20
        start = time.perf_counter()
        for _ in range(20):
            torch.autograd.grad(loss(), params)
        grad = (time.perf_counter() - start) / 20
        row["hvp_over_gradient"] = hvp / grad
        out[label] = row
    m = model(x, y, cfg, None)
    N.jacobian(m, x[:10])
    for n in (250, 500):
        start = time.perf_counter()
        J = N.jacobian(m, x[:n])
        K = J @ J.T
        fast = time.perf_counter() - start
        start = time.perf_counter()
        J2 = N.jacobian_loop(m, x[:n])
        K2 = J2 @ J2.T
        slow = time.perf_counter() - start
        assert float((K - K2).abs().max() / K.abs().max()) < 1e-4, "the two NTKs disagree"
        out[f"ntk n={n}"] = {"contraction_s": fast, "loop_s": slow, "speedup": slow / fast}
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
