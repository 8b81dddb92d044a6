"""Repository hygiene and the chapter contract (DESIGN.md): checked on every chapter notebook."""

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from lrlab import cli, runs, studies

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _markdown(nb: Path) -> str:
    return "\n".join(_src(c) for c in _cells(nb) if c["cell_type"] == "markdown")


def _glossary_terms() -> set[str]:
    """The terms the glossary defines (``{glossary}`` directive of book/glossary.md), lower case."""
    text = (ROOT / "book" / "glossary.md").read_text()
    body = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.S)
    assert body, "book/glossary.md holds a {glossary} directive"
    return {line.strip().lower() for line in body.group(1).splitlines()
            if line.strip() and not line[0].isspace() and not line.startswith(":")}


def _run_commands(text: str, chapter: str | None = None) -> list[str]:
    """Every ``lrlab run ...`` command in ``text``: inline code and lines of code blocks, comments dropped."""
    found = [" ".join(m.split()) for m in re.findall(r"(?<!`)`(lrlab run [^`]+)`(?!`)", text)]
    for block in re.findall(r"^```(?:bash|console|shell)[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M):
        found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip().startswith("lrlab run ")]
    return [c for c in found if chapter is None or shlex.split(c)[2] == chapter]


def _check_command(command: str) -> dict:
    """Parse a documented ``lrlab run`` command as the CLI does and validate its parameters (ValueError if not)."""
    args = cli._parser().parse_args(shlex.split(command)[1:])
    params = runs.load_params_file(args.params_file) if args.params_file else {}
    params.update(runs.parse_assignments(args.param))
    runs.resolve(args.chapter, args.scale, params)
    return params


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
    assert re.search(r"^study\.CLAIMS$", code, re.M), "the claims, numbered C1, …, rendered from the claim table"
    assert re.search(r"^## Scorecard", text, re.M) and "chapter.finish(card, prov)" in code
    assert re.search(r"^## Try it", text, re.M) and f"lrlab run {nb.stem}" in text
    assert len(re.findall(r"```\{exercise\}", text)) >= 3, "at least three exercises"
    assert len(re.findall(r"```\{solution\}", text)) >= 3, "a solution for every exercise"
    assert re.search(r"^## Provenance", text, re.M) and re.search(r"^prov$", code, re.M)
    assert "{glue:figure}" in text and "def " not in code, "figures glued; no helpers defined in a notebook"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_runtime_badge_cell_under_the_introduction(nb):
    cells = _cells(nb)
    params = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    badges = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "lrlab.timings" in _src(c)]
    assert len(badges) == 1, f"{nb.name}: one code cell shows the run-time badge (lrlab.timings.badge)"
    i = badges[0]
    assert f'badge("{nb.stem}")' in _src(cells[i]), f"{nb.name}: the badge of this chapter"
    assert "remove-input" in cells[i].get("metadata", {}).get("tags", []), f"{nb.name}: badge cell tagged remove-input"
    assert 0 < i < params, f"{nb.name}: the badge comes after the title and introduction, before the parameters"
    assert all(c["cell_type"] == "markdown" for c in cells[:i]), f"{nb.name}: only the introduction before the badge"
    assert _src(cells[0]).startswith("# "), f"{nb.name}: the title opens the chapter"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_key_terms_link_to_the_glossary(nb):
    text = _markdown(nb)
    targets = [(m.group(2) or m.group(1)).strip().lower()
               for m in re.finditer(r"\{term\}`([^`<]+?)(?:\s*<([^>]+)>)?`", text)]
    assert len(targets) >= 4, f"{nb.name}: link the chapter's key terms to the glossary with {{term}}"
    missing = set(targets) - _glossary_terms()
    assert not missing, f"{nb.name}: terms not in book/glossary.md: {sorted(missing)}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_equations_are_labelled_and_referenced(nb):
    text = _markdown(nb)
    labels = re.findall(r"\$\$[ \t]*\((\S+?)\)[ \t]*$", text, re.M)
    refs = set(re.findall(r"\{eq\}`([^`]+)`", text))
    assert len(labels) >= 2, f"{nb.name}: number the key displayed equations with a label"
    assert len(set(labels)) == len(labels), f"{nb.name}: duplicate equation labels"
    prefix = labels[0].split("-")[0]
    assert all(label.startswith(prefix + "-") for label in labels), f"{nb.name}: one chapter prefix for labels"
    assert not set(labels) - refs, f"{nb.name}: equations never referenced: {sorted(set(labels) - refs)}"
    assert not refs - set(labels), f"{nb.name}: references to unknown equations: {sorted(refs - set(labels))}"


def test_equation_labels_are_unique_across_chapters():
    labels = [label for nb in NOTEBOOKS for label in re.findall(r"\$\$[ \t]*\((\S+?)\)[ \t]*$", _markdown(nb), re.M)]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_named_captioned_and_referenced(nb):
    text = _markdown(nb)
    figures = re.findall(r"```\{glue:figure\} (\S+)\n(.*?)```", text, re.S)
    assert figures, f"{nb.name}: glued figures"
    refs = set(re.findall(r"\{numref\}`([^`]+)`", text))
    for key, body in figures:
        name = re.search(r"^:name: (\S+)$", body, re.M)
        assert name and name.group(1).startswith("fig-"), f"{nb.name}: figure {key} needs :name: fig-..."
        caption = "\n".join(line for line in body.splitlines() if not line.startswith(":")).strip()
        assert len(caption) > 20, f"{nb.name}: figure {key} needs a caption"
        assert name.group(1) in refs, f"{nb.name}: figure {name.group(1)} is never referenced with {{numref}}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_predict_then_rerun_and_derive(nb):
    text = _markdown(nb)
    exercises = re.findall(r"```\{exercise\}([^\n]*)\n(.*?)```", text, re.S)
    rerun = [title for title, body in exercises if _run_commands(body, nb.stem) and " -p " in body]
    derive = [title for title, body in exercises if re.search(r"deriv|prove|show that", title + body, re.I)]
    assert rerun, f"{nb.name}: a predict-then-re-run exercise with the exact `lrlab run {nb.stem} -p ...` command"
    assert derive, f"{nb.name}: a short derivation exercise"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_documented_commands_are_valid(nb):
    commands = _run_commands(_markdown(nb))
    assert commands, f"{nb.name}: no `lrlab run` command found"
    for command in commands:
        assert shlex.split(command)[2] == nb.stem, f"{nb.name}: a command of another chapter: {command}"
        try:
            _check_command(command)
        except (ValueError, SystemExit) as e:
            pytest.fail(f"{nb.name}: `{command}` is not a valid command: {e}")


def test_teaching_page_commands_are_valid():
    page = next((ROOT / "book").glob("teaching.*"))
    text = page.read_text()
    if page.suffix == ".ipynb":
        text = "\n".join(_src(c) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
    commands = [c for c in _run_commands(text) if not shlex.split(c)[2].isupper()]  # not `lrlab run CHAPTER`
    for nb in NOTEBOOKS:
        assert _run_commands(text, nb.stem), f"teaching page: no in-class experiment for {nb.stem}"
    for command in commands:
        try:
            _check_command(command)
        except (ValueError, SystemExit) as e:
            pytest.fail(f"teaching page: `{command}` is not a valid command: {e}")


def _pins(lock: str) -> list[str]:
    """``name==version`` of every package a lock file pins, in its order."""
    return re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*==\S+)", (ROOT / lock).read_text(), re.M)


def test_environment_yml_mirrors_the_development_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert [p for p in pip if not p.startswith("-")] == _pins("requirements-dev.txt")
    assert "-e ." in pip and "--extra-index-url https://download.pytorch.org/whl/cpu" in pip  # torch's CPU build
    assert "python=3.11" in env["dependencies"]


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_locks_pin_every_package_and_torch_is_the_cpu_release(lock):
    text = (ROOT / lock).read_text()
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*==\S+ \\", line), f"{lock}: {line}"
    assert "torch==2.13.0+cpu" in _pins(lock)
    torch_hashes = re.search(r"^torch==2\.13\.0\+cpu \\\n((?:\s+--hash=\S+.*\n)+)", text, re.M).group(1)
    assert re.findall(r"sha256:(\w+)", torch_hashes) == [
        "6746dbcbeb526eb61330b76b41ff1b4eb848951103a892eeb080dfa2b264667b"], "the CPU wheel (about 190 MB), not CUDA"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        assert f"chapters/{nb.stem}" in toc
    assert "book/teaching" in toc, "the teaching notes are in the ToC"


def test_launch_buttons_need_a_repository_and_the_download_button_is_on():
    """Binder / Colab / JupyterHub launch buttons and Thebe need the repository's public address (book/rerun.md)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    html = config.get("html", {})
    assert html.get("use_download_button") is True, "readers download a chapter as .ipynb"
    repo_url = (config.get("repository") or {}).get("url") or ""
    launch = config.get("launch_buttons") or {}
    wants_repo = [k for k in ("binderhub_url", "colab_url", "jupyterhub_url") if launch.get(k)]
    wants_repo += ["launch_buttons.thebe"] * bool(launch.get("thebe"))
    wants_repo += [k for k in ("use_repository_button", "use_issues_button", "use_edit_page_button") if html.get(k)]
    if wants_repo:
        assert re.match(r"https://\S+/\S+", repo_url), f"{wants_repo} set without repository.url"
        assert (config.get("repository") or {}).get("branch"), "repository.branch is needed with repository.url"
    for key in ("binderhub_url", "colab_url", "jupyterhub_url"):
        if launch.get(key):
            assert str(launch[key]).startswith("https://"), f"launch_buttons.{key} must be an https URL"
