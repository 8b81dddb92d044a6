import pytest

from lrlab.config import SCALES, Param, Spec

SPEC = Spec(
    "toy",
    (
        Param("lrs", "floats", dict.fromkeys(SCALES, (0.1, 0.01)), "lrs", low=0.0, low_open=True, high=1.0,
              distinct=True),
        Param("epochs", "int", {"quick": 2, "book": 100, "paper": 1000}, "epochs", low=1),
        Param("optimizer", "str", dict.fromkeys(SCALES, "sgd"), "opt", choices=("sgd", "adam")),
        Param("contrast", "bool", dict.fromkeys(SCALES, True), "contrast"),
        Param("widths", "ints", dict.fromkeys(SCALES, (8, 4)), "widths", low=1),
    ),
)


def test_presets_fill_none_and_overrides_win():
    cfg = SPEC.resolve(scale="quick", seed=3, epochs=None, lrs=[0.5])
    assert cfg.epochs == 2 and cfg.lrs == (0.5,) and cfg.seed == 3 and cfg.scale == "quick"
    assert SPEC.resolve(scale="paper").epochs == 1000
    assert cfg.as_dict()["lrs"] == [0.5]


def test_int_given_for_float_is_converted_and_float_int_accepted():
    assert SPEC.resolve(lrs=[1]).lrs == (1.0,)
    assert SPEC.resolve(epochs=5.0).epochs == 5


@pytest.mark.parametrize(
    "kw, fragment",
    [
        ({"epochs": 0}, "'epochs' = 0"),
        ({"epochs": 2.5}, "'epochs' = 2.5"),
        ({"epochs": "10"}, "an integer >= 1"),
        ({"epochs": True}, "'epochs' = True"),
        ({"lrs": [0.0]}, "each > 0"),
        ({"lrs": [2.0]}, "<= 1"),
        ({"lrs": []}, "non-empty list"),
        ({"lrs": 0.1}, "non-empty list"),
        ({"lrs": [float("nan")]}, "'lrs'"),
        ({"optimizer": "rmsprop"}, "one of 'sgd', 'adam'"),
        ({"contrast": "yes"}, "true or false"),
        ({"widths": [8, 0]}, "'widths'"),
        ({"lrs": [0.1, 0.1]}, "list of distinct numbers"),
        ({"scale": "huge"}, "one of 'quick', 'book', 'paper'"),
        ({"seed": -1}, "'seed' = -1"),
        ({"epoch": 3}, "unknown parameter 'epoch'"),
    ],
)
def test_bad_values_name_parameter_value_and_allowed(kw, fragment):
    with pytest.raises(ValueError) as e:
        SPEC.resolve(**kw)
    assert fragment in str(e.value)


def test_only_grids_ask_for_distinct_values():
    assert SPEC.resolve(widths=[8, 8]).widths == (8, 8)  # a layer list may repeat a width
    assert SPEC.resolve(lrs=[0.1, 0.2]).lrs == (0.1, 0.2)


def test_cross_checks_run_after_presets():
    def check(values):
        if values["epochs"] < 10:
            raise ValueError("epochs too small")

    spec = Spec("x", SPEC.params, checks=(check,))
    with pytest.raises(ValueError, match="epochs too small"):
        spec.resolve(scale="quick")
    assert spec.resolve(scale="book").epochs == 100


def test_config_is_read_only_and_reports_unknown_attributes():
    cfg = SPEC.resolve()
    with pytest.raises(AttributeError, match="no parameter 'nope'"):
        _ = cfg.nope
    with pytest.raises(TypeError):
        cfg["epochs"] = 3  # type: ignore[index]


def test_param_requires_every_scale():
    with pytest.raises(TypeError, match="no preset"):
        Param("x", "int", {"quick": 1}, "x")


def test_parameters_cell_is_generated_from_the_spec_and_resolves_back():
    cell = SPEC.parameters_cell()
    namespace: dict = {}
    exec(cell, namespace)  # noqa: S102 - the cell is code the notebook runs
    assert namespace["scale"] == "book" and namespace["seed"] == 0
    assert all(namespace[p.name] is None for p in SPEC.params)
    assert f"# {SPEC.params[0].doc}" in cell
    namespace.update(scale="quick", epochs=5, unrelated=object())  # papermill's injected values, other globals
    cfg = SPEC.resolve_from(namespace)
    assert cfg.scale == "quick" and cfg.epochs == 5 and cfg.lrs == (0.1, 0.01)
    with pytest.raises(ValueError, match="'epochs'"):
        SPEC.resolve_from({**namespace, "epochs": 0})
