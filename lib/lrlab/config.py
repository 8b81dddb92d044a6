"""Chapter parameters: presets per scale, explicit overrides, validation.

Every chapter declares its knobs once, as a :class:`Spec` of :class:`Param`. A notebook's ``parameters`` cell
holds ``scale``, ``seed`` and one variable per knob, each ``None`` by default ("take it from the preset"). The
chapter then calls :meth:`Spec.resolve`, which fills the ``None`` values from the preset of ``scale``, checks
every value and returns an immutable :class:`Config`. A bad value raises ``ValueError`` naming the parameter,
the value and what is allowed, before any data is built or any model is trained. ``lrlab run`` calls the same
:meth:`Spec.resolve` before it starts a kernel, so a typo fails within seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCALES: tuple[str, ...] = ("quick", "book", "paper")
"""``quick``: seconds, a smoke test; ``book``: what the rendered book shows (minutes on a laptop CPU);
``paper``: the paper's own setup (a GPU)."""

_KINDS = ("int", "float", "str", "bool", "floats", "ints")


@dataclass(frozen=True)
class Param:
    """One chapter parameter.

    ``kind`` is one of ``int``, ``float``, ``str``, ``bool``, ``floats`` (a non-empty list of floats) or
    ``ints``. ``low``/``high`` bound numbers (and every element of a list); ``choices`` restricts strings;
    ``distinct`` asks a list for distinct elements (a grid the chapter indexes its tables by, where a repeated value
    would be one row twice). ``presets`` maps each scale to its value.
    """

    name: str
    kind: str
    presets: Mapping[str, Any]
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None
    distinct: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise TypeError(f"Param {self.name!r}: kind must be one of {_KINDS}, got {self.kind!r}")
        missing = [s for s in SCALES if s not in self.presets]
        if missing:
            raise TypeError(f"Param {self.name!r}: no preset for scale(s) {missing}")

    def allowed(self) -> str:
        """Human description of the allowed values, used in error messages and ``lrlab list``."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        base = {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "bool": "true or false",
            "floats": f"a non-empty list of {'distinct ' if self.distinct else ''}numbers",
            "ints": f"a non-empty list of {'distinct ' if self.distinct else ''}integers",
        }[self.kind]
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"<= {self.high:g}")
        if bounds:
            each = " each" if self.kind in ("floats", "ints") else ""
            base += f"{each} " + " and ".join(bounds)
        return base

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ``ValueError``."""
        bad = ValueError(f"parameter {self.name!r} = {value!r} is not allowed: it must be {self.allowed()}")
        if self.kind in ("floats", "ints"):
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
                raise bad
            scalar = "float" if self.kind == "floats" else "int"
            try:
                items = tuple(self._scalar(v, scalar) for v in value)
            except ValueError:
                raise bad from None
            if self.distinct and len(set(items)) != len(items):
                raise bad
            return items
        try:
            return self._scalar(value, self.kind)
        except ValueError:
            raise bad from None

    def _scalar(self, value: Any, kind: str) -> Any:
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind == "str":
            if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
                raise ValueError
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise ValueError
        if self.high is not None and value > self.high:
            raise ValueError
        return value


@dataclass(frozen=True)
class Config(Mapping[str, Any]):
    """The resolved, validated parameters of one chapter run (read-only; attribute or key access)."""

    chapter: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(f"{self.chapter} has no parameter {name!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.values.items()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"Config[{self.chapter}]({inner})"


SCALE = Param("scale", "str", {s: s for s in SCALES}, "preset: quick | book | paper", choices=SCALES)
SEED = Param("seed", "int", {s: 0 for s in SCALES}, "seed of every random draw", low=0, high=2**31 - 1)


@dataclass(frozen=True)
class Spec:
    """The parameters of one chapter: ``scale``, ``seed`` and the chapter's own knobs."""

    chapter: str
    params: tuple[Param, ...]
    checks: tuple[Any, ...] = ()
    """Cross-parameter checks: callables taking the resolved values dict and raising ``ValueError``."""

    @property
    def names(self) -> tuple[str, ...]:
        return ("scale", "seed") + tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in (SCALE, SEED, *self.params):
            if p.name == name:
                return p
        raise ValueError(
            f"unknown parameter {name!r} for chapter {self.chapter!r}; known: {', '.join(self.names)}"
        )

    def preset(self, scale: str) -> dict[str, Any]:
        """The values a scale uses when nothing is overridden."""
        SCALE.check(scale)
        return {p.name: p.presets[scale] for p in self.params}

    def parameters_cell(self) -> str:
        """The source of the chapter's ``parameters`` cell, generated from this spec (a test keeps them equal).

        ``scale`` and ``seed`` carry their defaults; every other knob is ``None`` ("take it from the preset"),
        commented with its one-line doc. ``python -m lrlab.chapter --sync`` writes it into the notebooks.
        """
        lines = [f'scale = "book"  # {SCALE.doc}', f"seed = 0  # {SEED.doc}"]
        lines += [f"{p.name} = None  # {p.doc}" for p in self.params]
        return "\n".join(lines)

    def resolve_from(self, namespace: Mapping[str, Any]) -> Config:
        """:meth:`resolve` with the values a notebook's ``parameters`` cell (and papermill) left in ``namespace``."""
        return self.resolve(**{name: namespace[name] for name in self.names if name in namespace})

    def resolve(self, scale: str = "book", seed: int = 0, **overrides: Any) -> Config:
        """Fill ``None`` overrides from the preset of ``scale``, validate everything, return a :class:`Config`.

        Raises ``ValueError`` for an unknown scale, an unknown parameter name or a value out of range.
        """
        scale = SCALE.check(scale)
        values: dict[str, Any] = {"scale": scale, "seed": SEED.check(seed)}
        for name in overrides:
            self.param(name)  # unknown names fail here
        for p in self.params:
            given = overrides.get(p.name)
            values[p.name] = p.check(p.presets[scale] if given is None else given)
        for check in self.checks:
            check(values)
        return Config(self.chapter, values)
