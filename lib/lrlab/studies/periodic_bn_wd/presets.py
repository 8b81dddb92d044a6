"""The chapter's parameters: presets per scale (``quick``, ``book``, ``paper``) and their cross-checks.

The preset ``paper`` is the official code's setup (ConvNetSI-32 on CIFAR-10, 1001 epochs, η = 0.01 and λ = 1e-3 in
its example); ``book`` runs a 64-wide two-hidden-layer SI MLP on 256 Fashion-MNIST images (14×14), where a period
lasts a few hundred to a few thousand steps.
"""

from __future__ import annotations

from lrlab.config import Param, Spec


def _scan(values: dict) -> list[tuple[float, float]]:
    """(η, λ) of every scan configuration: the λ-series at ``scan_lr`` and the η-series at ``scan_wd``."""
    xs = values["scan_etalambdas"]
    return [(values["scan_lr"], x / values["scan_lr"]) for x in xs] + [(x / values["scan_wd"], values["scan_wd"])
                                                                        for x in xs]


def _consistent(values: dict) -> None:
    for name in ("probe_every",):
        if values[name] > values["epochs"]:
            raise ValueError(
                f"parameter {name!r} = {values[name]!r} is not allowed: it must be <= epochs ({values['epochs']})"
            )
    if values["n_test"] < 1:
        raise ValueError(f"parameter 'n_test' = {values['n_test']!r} is not allowed: it must be >= 1")
    for lr in (*values["lrs"], values["control_lr"]):
        if lr * values["wd"] >= 1:
            raise ValueError(f"parameter 'wd' = {values['wd']!r} is not allowed with lr = {lr:g}: lr * wd must be < 1")
    for lr, wd in _scan(values):
        if wd >= 1 or lr * wd >= 1:
            raise ValueError(f"parameter 'scan_etalambdas' = {values['scan_etalambdas']!r} is not allowed with "
                             f"scan_lr = {values['scan_lr']:g} and scan_wd = {values['scan_wd']:g}: it gives "
                             f"lr = {lr:g}, wd = {wd:g}; every wd must be < 1 and every lr * wd < 1")
    for name in ("gd", "all_trained"):
        if values[f"{name}_lr"] * values[f"{name}_wd"] >= 1:
            raise ValueError(f"parameter '{name}_wd' = {values[f'{name}_wd']!r} is not allowed: "
                             f"{name}_lr * {name}_wd must be < 1")
    if len(set(values["scan_etalambdas"])) < 2:
        raise ValueError(f"parameter 'scan_etalambdas' = {values['scan_etalambdas']!r} is not allowed: it needs "
                         ">= 2 distinct values")
    if values["model"] == "convnet" and values["dataset"] != "cifar10":
        raise ValueError(f"parameter 'model' = 'convnet' is not allowed with dataset = {values['dataset']!r}: "
                         "ConvNetSI takes 32×32 colour images (dataset 'cifar10')")
    if len(values["lrs"]) < 2:
        raise ValueError(f"parameter 'lrs' = {values['lrs']!r} is not allowed: it needs >= 2 learning rates")


def _p(name, kind, quick, book, paper, doc, **kw) -> Param:
    return Param(name, kind, {"quick": quick, "book": book, "paper": paper}, doc, **kw)


_POS = {"low": 0.0, "low_open": True}

SPEC = Spec(
    "periodic_bn_wd",
    (
        _p("dataset", "str", "fashion_mnist", "fashion_mnist", "cifar10", "training data: fashion_mnist | cifar10",
           choices=("fashion_mnist", "cifar10")),
        _p("model", "str", "mlp", "mlp", "convnet", "mlp (SI MLP, 2 hidden layers) | convnet (the official ConvNetSI)",
           choices=("mlp", "convnet")),
        _p("width", "int", 64, 64, 32, "hidden width of the MLP / channel width of ConvNetSI", low=1, high=4096),
        _p("n_train", "int", 256, 256, 50_000, "training images (the first n of the train split)", low=2,
           high=60_000),
        _p("n_test", "int", 1000, 1000, 10_000, "test images (the first n of the test split)", low=1, high=10_000),
        _p("pool", "int", 2, 2, 1, "average-pool Fashion-MNIST images by this factor (2: 14×14)",
           low=1, high=28),
        _p("batch_size", "int", 128, 128, 128, "mini-batch size (the official code: 128)", low=1, high=100_000),
        _p("epochs", "int", 300, 2000, 1001, "training epochs of the main SGD run", low=1, high=1_000_000),
        _p("lrs", "floats", (0.4, 2.0), (0.4, 2.0), (0.001, 0.01, 0.03, 1.0),
           "learning rates of the panels (periodic runs at several η), at weight decay wd", high=100.0, **_POS,
           distinct=True),
        _p("wd", "float", 0.01, 0.01, 1e-3, "weight decay λ of the panels and controls (coupled L2, as torch's SGD)",
           low=0.0, high=1.0),
        _p("scan_etalambdas", "floats", (1e-3, 4e-3), (4e-4, 2e-3, 4e-3), (1e-5, 5e-5, 1e-4),
           "ηλ values of the period scan, each reached by a λ-series and an η-series", high=1.0, **_POS, distinct=True),
        _p("scan_lr", "float", 0.4, 0.4, 0.01, "learning rate of the λ-series of the scan (λ is ηλ / scan_lr)",
           high=100.0, **_POS),
        _p("scan_wd", "float", 1e-3, 1e-3, 1e-3, "weight decay of the η-series of the scan (η is ηλ / scan_wd)",
           high=1.0, **_POS),
        _p("scan_seeds", "int", 2, 5, 3, "seeds per scan configuration (seed, seed+1, ...)", low=1, high=64),
        _p("scan_epochs", "int", 300, 9000, 3001, "epochs of the run at the scan's smallest ηλ (its periods are the "
           "longest)", low=1, high=1_000_000),
        _p("control_lr", "float", 0.4, 0.4, 0.01, "learning rate of the controls (fixed norm, no weight decay, no BN) "
           "and of their free-norm twin, at weight decay wd", high=100.0, **_POS),
        _p("control_elr", "float", 0.06, 0.06, 1e-3, "ELR of the fixed-norm control held at the destabilisation ELR "
           "of its twin", high=100.0, **_POS),
        _p("n_seeds", "int", 1, 2, 3, "seeds per configuration of the panels and controls (seed, seed+1, ...)",
           low=1, high=64),
        _p("gd_n", "int", 256, 256, 5_000, "training images of the full-batch GD control", low=2, high=60_000),
        _p("gd_epochs", "int", 300, 1250, 1000, "epochs (steps) of the full-batch GD control", low=1,
           high=1_000_000),
        _p("gd_lr", "float", 0.1, 0.1, 0.01, "learning rate of the full-batch GD control", high=100.0, **_POS),
        _p("gd_wd", "float", 0.05, 0.05, 1e-2, "weight decay of the full-batch GD control", low=0.0, high=1.0),
        _p("all_trained_lr", "float", 2.0, 2.0, 0.01, "learning rate of the all-parameters-trained variant",
           high=100.0, **_POS),
        _p("all_trained_wd", "float", 1e-3, 1e-3, 1e-3, "weight decay of the all-parameters-trained variant",
           low=0.0, high=1.0),
        _p("all_trained_epochs", "int", 300, 2000, 1000, "epochs of the all-parameters-trained variant", low=1,
           high=1_000_000),
        _p("every", "int", 10, 10, 391, "steps per recorded block (the official code: one epoch, 391 steps)", low=1,
           high=100_000),
        _p("probe_every", "int", 25, 100, 1, "epochs between test-accuracy probes", low=1, high=100_000),
        _p("bn_eps", "float", 1e-5, 1e-5, 1e-5, "BN's ε (torch's default 1e-5)", low=0.0, high=1.0),
        _p("window", "int", 50, 50, 3_910, "steps within which loss spike, gradient spike and norm jump must coincide",
           low=1, high=1_000_000),
        _p("loss_factor", "float", 100.0, 100.0, 100.0, "loss spike: rise above its minimum since the last event",
           low=1.0, low_open=True, high=1e12),
        _p("grad_factor", "float", 100.0, 100.0, 100.0, "effective-gradient spike: rise above its minimum",
           low=1.0, low_open=True, high=1e12),
        _p("elr_drop", "float", 2.0, 2.0, 2.0, "norm jump: the ELR falls at least this factor", low=1.0,
           low_open=True, high=1e6),
    ),
    checks=(_consistent,),
)
