"""The house's rules (CONTRIBUTING.md): rooms of bounded size, no import cycles or upward imports, every parameter
and every claim declared once, docstrings that explain rather than narrate."""

import ast
import json
import re
from pathlib import Path

import pytest

from lrlab import chapter, studies

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "lrlab"
MODULES = sorted(LIB.rglob("*.py"))
CHAPTERS = studies.available()
MAX_LINES = 600

# Rooms that run chapters (they may import the studies); every other room is library and must not.
APPLICATION = ("lrlab.chapter", "lrlab.runs", "lrlab.sweep", "lrlab.cli", "lrlab.report", "lrlab.book",
               "lrlab.timings", "lrlab.audit.registry", "lrlab.audit.runner", "lrlab.audit.page",
               "lrlab.audit.params", "lrlab.audit.command", "lrlab.studies")


def _name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The ``lrlab`` modules ``path`` imports (anywhere in it, type-checking blocks excluded)."""
    tree = ast.parse(path.read_text())
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    known = {_name(p) for p in MODULES}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lrlab")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if not base.startswith("lrlab"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known} - {_name(path)}


GRAPH = {_name(p): _imports(p) for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIB)))
def test_no_module_passes_600_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines: a room past {MAX_LINES} is doing two jobs"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if state.get(n) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_library_rooms_do_not_import_upward():
    """Only the rooms that run chapters import the studies; a study imports no other study and no runner."""
    for mod, deps in GRAPH.items():
        if not mod.startswith(APPLICATION):
            bad = sorted(d for d in deps if d.startswith("lrlab.studies"))
            assert not bad, f"{mod} (a library room) imports {bad}"
        if mod.startswith("lrlab.studies.") and not mod.startswith("lrlab.studies.synthesis"):
            # the synthesis page reads every chapter; a chapter's study reads none of the others
            own = ".".join(mod.split(".")[:3])
            bad = sorted(d for d in deps if d.startswith("lrlab.studies.") and not d.startswith(own + ".")
                         and d != own)
            runners = sorted(d for d in deps if d.startswith(APPLICATION[:-1]))
            assert not bad and not runners, f"{mod} imports another study or a runner: {bad + runners}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_study_is_a_package_with_the_same_rooms(name):
    folder = LIB / "studies" / name
    assert (folder / "__init__.py").is_file(), f"lrlab.studies.{name} is a package"
    for room in ("experiments.py", "claims.py", "figures.py"):
        assert (folder / room).is_file(), f"lrlab.studies.{name} has {room}"
    module = studies.load(name)
    assert hasattr(module, "SPEC") and hasattr(module, "CLAIMS") and hasattr(module, "scorecard")


@pytest.mark.parametrize("name", CHAPTERS)
def test_parameters_cell_is_generated_from_the_spec(name):
    """The notebook's parameters cell equals ``SPEC.parameters_cell()``: names, defaults and docs declared once
    (``python -m lrlab.chapter --sync`` rewrites it)."""
    _, cell = chapter.parameters_cell(studies.notebook(name))
    assert "".join(cell["source"]) == studies.load(name).SPEC.parameters_cell(), (
        f"{name}: the parameters cell drifted from SPEC; run `python -m lrlab.chapter --sync`")


def test_every_parameter_name_is_declared_once_per_chapter():
    for name in CHAPTERS:
        names = [p.name for p in studies.load(name).SPEC.params]
        assert len(names) == len(set(names)), f"{name}: a parameter declared twice in SPEC"
        assert not {"scale", "seed"} & set(names), f"{name}: scale and seed are declared by lrlab.config"


def _cells(name: str) -> list[dict]:
    return json.loads(studies.notebook(name).read_text())["cells"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_setup_and_closing_are_one_call_each(name):
    code = "\n".join("".join(c["source"]) for c in _cells(name) if c["cell_type"] == "code")
    assert code.count(f'chapter.start("{name}", globals())') == 1, f"{name}: one chapter.start call"
    assert code.count("chapter.finish(card, prov)") == 1, f"{name}: one chapter.finish call"
    for stale in ("SPEC.resolve(", "prov.save(", "card.save(", "card.check(", "runtime.setup("):
        assert stale not in code, f"{name}: {stale} is chapter.start's or chapter.finish's job"


@pytest.mark.parametrize("name", CHAPTERS)
def test_claims_are_declared_once(name):
    """The claim table renders the notebook's list; no claim sentence is typed in the notebook or another module."""
    table = studies.load(name).CLAIMS
    markdown = "\n".join("".join(c["source"]) for c in _cells(name) if c["cell_type"] == "markdown")
    assert not re.search(r"^\s*- \*\*C\d+'?\*\*", markdown, re.M), f"{name}: a claims list typed in the notebook"
    code = "\n".join("".join(c["source"]) for c in _cells(name) if c["cell_type"] == "code")
    assert re.search(r"^study\.CLAIMS$", code, re.M), f"{name}: the 'Claims under test' list is study.CLAIMS"
    others = [p for p in MODULES if p.name != "claims.py" or p.parent.name != name]
    for spec in table:
        head = re.sub(r"\{[^}]*\}.*", "", spec.sentence)[:48]
        if len(head) < 20:
            continue
        assert head not in markdown, f"{name} {spec.id}: its sentence is typed again in the notebook"
        again = [str(p.relative_to(ROOT)) for p in others if head in p.read_text()]
        assert not again, f"{name} {spec.id}: its sentence is typed again in {again}"


NARRATION = re.compile(
    r"study notes|notes §|\bnotes E\d|\bissue \d+|the issue's|\d\s*µs\b|AVX|\d(\.\d+)?\s*x (slower|faster|as long)",
    re.I)
SCANNED = [p for folder in ("lib", "chapters", "book", "benchmarks") for p in (ROOT / folder).rglob("*")
           if p.suffix in (".py", ".ipynb", ".md") and ".ipynb_checkpoints" not in p.parts]


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_explain_and_do_not_narrate(path):
    """No citation of notes a reader cannot open, no issue numbers, no measured timings frozen in prose
    (measured figures live in ``benchmarks/results/`` and the performance page)."""
    text = path.read_text()
    if path.suffix == ".ipynb":  # sources only: outputs are stripped anyway
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    hits = [m.group(0) for m in NARRATION.finditer(text)]
    assert not hits, f"{path.relative_to(ROOT)}: {hits}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_claim_names_its_source_class(name):
    from lrlab.claims import SOURCE_KINDS

    for spec in studies.load(name).CLAIMS:
        assert spec.kind in SOURCE_KINDS, f"{name} {spec.id}: kind must be one of {SOURCE_KINDS}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_ledger_accounts_for_every_claim(name):
    """A claim table cannot change without a ledger entry (``python -m lrlab.chapter --ledger NAME``)."""
    from lrlab import ledger

    table = studies.load(name).CLAIMS
    assert table.ledger, f"{name}: no verdict ledger (lrlab/studies/{name}/ledger.py)"
    assert ledger.problems(table, table.ledger) == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_declares_at_least_three_mutants_aimed_at_its_claims(name):
    from lrlab.audit import registry

    found = registry.of(name)
    assert len(found) >= 3, f"{name}: at least three mutants (lrlab/studies/{name}/mutants.py)"
    ids = {c.id for c in studies.load(name).CLAIMS}
    for m in found.values():
        assert m.targets and set(m.targets) <= ids, f"{name} mutant {m.name}: targets {m.targets} not in {ids}"
        assert m.mechanism.strip() and m.patches, f"{name} mutant {m.name}: say what it breaks, and how"
