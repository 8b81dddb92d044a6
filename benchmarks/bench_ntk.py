"""The empirical NTK: structured contraction against a per-example gradient loop and its arithmetic floor
(chapter ``eos_ntk``).

On the chapter's tanh MLP 64-100-100-1 and book data (sklearn digits), for n = 250 and 500 examples:

- ``structured``: :func:`lrlab.probes.ntk.structured_ntk`, per-layer Gram matrices, never forming J (what the
  chapter uses);
- ``jacobian``: J by ``torch.func`` (``vmap`` of ``jacrev``), then J Jᵀ;
- ``loop``: J by one ``autograd.grad`` per example, then J Jᵀ (the baseline);
- ``floor``: the structured kernel's floating-point operations (torch's ``FlopCounterMode``) at this machine's
  matrix-multiply rate: the best square product over sizes 128–1024, timed in turn with the structured kernel
  (:func:`common.interleaved`: 11 turns of 5 calls, each side warm in cache, the median call) so that both sides
  of the ratio see the same machine state.

The three kernels must agree. ``OMP_NUM_THREADS=1 python benchmarks/bench_ntk.py``
"""

from __future__ import annotations

import common
from lrlab import models as M
from lrlab.probes import ntk as N
from lrlab.studies import eos_ntk as st


def main() -> None:
    cfg = st.SPEC.resolve(scale="book")
    d = st.load_data(cfg)
    m = M.scalar_net(M.tanh_mlp(d.x.shape[1], (100, 100), 1, 0), 1)
    rate, size = common.matmul_best()
    mm, mm_ops = common.matmul(size)
    rows, details = [], {"matmul_gflops_1_thread": rate, "matmul_size": size}
    for n in (250, 500):
        x = d.x[:n]
        K_s = N.structured_ntk(m, x)
        t = common.interleaved({"structured": lambda x=x: N.structured_ntk(m, x), "matmul": mm}, 11, block=5)
        t_s, rate_now = t["structured"], mm_ops / t["matmul"] / 1e9
        t_j, K_j = common.median_time(lambda x=x: N.empirical_ntk(m, x, method="jacobian"), 3)
        t_l, K_l = common.median_time(lambda x=x: (lambda J: J @ J.T)(N.jacobian_loop(m, x)), 1)
        scale = float(K_l.abs().max())
        for name, K in (("structured", K_s), ("jacobian", K_j)):
            err = float((K - K_l).abs().max()) / scale
            assert err < 1e-4, f"n = {n}: the {name} NTK differs from the loop's by {err:.1e}"
        fl = common.flops(lambda x=x: N.structured_ntk(m, x))
        floor = fl / (rate_now * 1e9)
        rows += [
            common.row(f"NTK n = {n}: structured vs per-example loop", "structured", t_s, "loop + J Jᵀ", t_l,
                       t_l / t_s, "≥ 20×", t_l / t_s >= 20),
            common.row(f"NTK n = {n}: torch.func Jacobian vs per-example loop", "torch.func J Jᵀ", t_j,
                       "loop + J Jᵀ", t_l, t_l / t_j, "", None),
            common.row(f"NTK n = {n}: structured vs its arithmetic floor", "structured", t_s, "floor", floor,
                       t_s / floor, "≤ 3× the floor", t_s / floor <= 3,
                       note=f"ratio = measured time / floor time; {fl / 1e6:.0f} MFLOP at {rate_now:.0f} GFLOP/s "
                            f"({size}³ products timed in turn with the kernel)"),
        ]
        details[f"n={n}"] = {"structured_s": t_s, "jacobian_s": t_j, "loop_s": t_l, "structured_mflop": fl / 1e6,
                            "matmul_gflops_interleaved": rate_now}
    common.save("ntk", "Empirical NTK: structured contraction, torch.func Jacobian, per-example loop", rows, details)


if __name__ == "__main__":
    main()
