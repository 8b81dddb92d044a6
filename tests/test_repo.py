"""Repository hygiene and the chapter contract (DESIGN.md): checked on every chapter notebook."""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from lrlab import studies

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def test_every_registered_chapter_has_a_notebook_and_vice_versa():
    assert NOTEBOOKS, "no chapter notebooks found"
    assert {nb.stem for nb in NOTEBOOKS} == set(studies.available())


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(nb):
    for cell in _cells(nb):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, f"{nb.name}: strip outputs"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_the_chapter_spec(nb):
    cells = [c for c in _cells(nb) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{nb.name}: needs exactly one cell tagged 'parameters'"
    assigned = {}
    for node in ast.parse(_src(cells[0])).body:
        assert isinstance(node, ast.Assign), f"{nb.name}: the parameters cell holds only assignments"
        assigned[node.targets[0].id] = ast.literal_eval(node.value)
    spec = studies.load(nb.stem).SPEC
    assert set(assigned) == set(spec.names), f"{nb.name}: parameters cell vs SPEC: {set(assigned) ^ set(spec.names)}"
    assert assigned["scale"] == "book", "the rendered book runs the book scale"
    assert all(v is None for k, v in assigned.items() if k not in ("scale", "seed")), "knobs default to None"
    spec.resolve(scale="quick")
    spec.resolve(scale="book")
    spec.resolve(scale="paper")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_contract(nb):
    cells = _cells(nb)
    text = "\n".join(_src(c) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join(_src(c) for c in cells if c["cell_type"] == "code")
    assert re.search(r"^## Claims under test", text, re.M), "section 'Claims under test'"
    assert re.search(r"\*\*C1\*\*", text), "numbered claims C1, …"
    assert re.search(r"^## Scorecard", text, re.M) and "card.save(" in code and "card.check()" in code
    assert re.search(r"^## Try it", text, re.M) and f"lrlab run {nb.stem}" in text
    assert len(re.findall(r"```\{exercise\}", text)) >= 3, "at least three exercises"
    assert len(re.findall(r"```\{solution\}", text)) >= 3, "a solution for every exercise"
    assert re.search(r"^## Provenance", text, re.M) and "prov.save(" in code
    assert "{glue:figure}" in text and "def " not in code, "figures glued; no helpers defined in a notebook"


def test_environment_yml_mirrors_requirements():
    reqs = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert [p for p in pip if p != "-e ."] == reqs
    assert "python=3.11" in env["dependencies"]


def test_requirements_are_pinned_and_torch_is_the_cpu_release():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^ ]+", line), line
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().splitlines()


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        assert f"chapters/{nb.stem}" in toc
