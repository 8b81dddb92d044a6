"""`lrlab run` / `list` / `show`: bad input fails fast with a clear message; a quick run keeps what it produced;
the progress line on a terminal; Ctrl-C (exit 130, the run folder marked interrupted); `--version`."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrlab import cli, runs
from lrlab.claims import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
LRLAB = [sys.executable, "-m", "lrlab.cli"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "nochapter"], "chapter 'nochapter' is not known"),
        (["run", "fluctuations", "--scale", "huge"], "parameter 'scale' = 'huge'"),
        (["run", "fluctuations", "-p", "epoch=3"], "unknown parameter 'epoch'"),
        (["run", "fluctuations", "-p", "epochs=ten"], "parameter 'epochs' = 'ten'"),
        (["run", "fluctuations", "-p", "epochs=-1"], "parameter 'epochs' = -1"),
        (["run", "fluctuations", "-p", "lrs=[0.1,-1]"], "parameter 'lrs'"),
        (["run", "fluctuations", "-p", "optimizer=rmsprop"], "one of 'sgd', 'adam'"),
        (["run", "fluctuations", "-p", "noequals"], "must be NAME=VALUE"),
        (["run", "fluctuations", "-f", "missing.yaml"], "does not exist"),
        (["run", "fluctuations", "--scale", "quick", "-p", "probe_every=50"], "must be <= epochs"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_any_kernel(args, fragment, tmp_path):
    start = time.perf_counter()
    proc = subprocess.run(LRLAB + args + ["-o", str(tmp_path / "r")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists(), "nothing is started for bad input"
    assert time.perf_counter() - start < 20


def test_list_names_chapters_and_presets(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "fluctuations:" in out and "epochs" in out and "1000" in out and "quick" in out


def test_parse_assignments_reads_yaml_values():
    assert runs.parse_assignments(["lrs=[0.1, 0.01]", "epochs=5", "optimizer=adam", "contrast_seeds=0"]) == {
        "lrs": [0.1, 0.01], "epochs": 5, "optimizer": "adam", "contrast_seeds": 0}


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    (tmp_path / "p.yaml").write_text("n_seeds: 2\n")
    out = tmp_path / "run"
    proc = subprocess.run(
        LRLAB + ["run", "fluctuations", "--scale", "quick", "-f", str(tmp_path / "p.yaml"), "-p", "epochs=6",
                 "-p", "probe_every=3", "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {"fluctuations.ipynb", "params.json", "claims.json", "provenance.json", "status.json", "kernel.log"} <= {
        p.name for p in out.iterdir()}
    params = json.loads((out / "params.json").read_text())
    assert params["resolved"]["epochs"] == 6 and params["resolved"]["n_seeds"] == 2
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims][:4] == ["C1", "C2", "C3", "C4"]
    assert all(c["verdict"] in VERDICTS and c["expected"] is False for c in claims)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["epochs"] == 6 and "torch" in prov["versions"] and prov["data"]
    nb = json.loads((out / "fluctuations.ipynb").read_text())
    assert nb["metadata"]["papermill"]["parameters"]["epochs"] == 6
    assert "C1" in proc.stdout and str(out) in proc.stdout
    # --strict: at quick nothing is asserted, so it passes; a failing notebook is exit 1
    assert cli.main(["show", str(out)]) == 0


def test_strict_exit_code_follows_expected_claims(monkeypatch, tmp_path):
    from lrlab.claims import Claim

    bad = Claim("C1", "x", "p", "c", 1, "m", "not reproduced", expected=True)
    record = runs.RunRecord(tmp_path, True, [bad], 1.0)
    (tmp_path / "params.json").write_text(json.dumps({"chapter": "fluctuations", "scale": "book", "resolved": {}}))
    monkeypatch.setattr(runs, "run_chapter", lambda *a, **k: record)
    assert cli.main(["run", "fluctuations"]) == 0
    assert cli.main(["run", "fluctuations", "--strict"]) == 1
    record.ok, record.error = False, "ValueError: boom"
    assert cli.main(["run", "fluctuations"]) == 1


# ---- the version, the progress line, Ctrl-C ---------------------------------------------------------------------


def test_version_is_the_installed_distributions(capsys):
    from importlib import metadata

    import lrlab

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"lrlab {metadata.version('lrlab')}" == f"lrlab {lrlab.__version__}"


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.parametrize(
    "tty, env, wanted",
    [
        (True, {}, True),
        (False, {}, False),  # piped or redirected: quiet
        (True, {"CI": "true"}, False),
        (True, {"CI": "1"}, False),
        (True, {"LRLAB_PROGRESS": "0"}, False),
        (True, {"LRLAB_PROGRESS": "false"}, False),
        (False, {"LRLAB_PROGRESS": "1"}, True),  # asked for explicitly
    ],
)
def test_the_progress_line_shows_only_on_a_terminal(tty, env, wanted):
    assert runs.progress_wanted(_Stream(tty), env) is wanted


def _cell(kind: str, source: str) -> dict:
    return {"cell_type": kind, "source": source, "metadata": {}}


NOTEBOOK = {"cells": [
    _cell("markdown", "# Title\n\nIntro with a [link](x.md)."),
    _cell("code", "x = 1"),
    _cell("markdown", "(sec-data)=\n## The `data` and *{term}`ELR <elr>`*\n\ntext"),
    _cell("code", "y = 2"),
    _cell("code", "   "),  # empty: nbclient skips it, so it is not counted
    _cell("markdown", "no heading here"),
    _cell("code", "z = 3"),
]}


def test_the_progress_line_counts_cells_and_names_the_section():
    now = [100.0]
    stream = _Stream(True)
    bar = runs.Progress("fluctuations", stream, interval=3600, clock=lambda: now[0])
    hooks = bar.hooks()
    assert set(hooks) == {"on_notebook_start", "on_cell_start", "on_cell_executed"}
    hooks["on_notebook_start"](notebook=NOTEBOOK)
    for i, cell in enumerate(NOTEBOOK["cells"][:4]):
        hooks["on_cell_start"](cell=cell, cell_index=i)
        if cell["cell_type"] == "code":
            now[0] += 30
            hooks["on_cell_executed"](cell=cell, cell_index=i, execute_reply={})
    assert bar.line() == "fluctuations  2/3 cells  1:00  § The data and ELR"
    hooks["on_cell_start"](cell=NOTEBOOK["cells"][5], cell_index=5)
    now[0] += 3600
    assert bar.line() == "fluctuations  2/3 cells  1:01:00  § The data and ELR", "a cell with no heading keeps it"
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r") and "\n" not in text, "one line, rewritten in place"
    assert text.endswith("\r\x1b[K"), "closing erases the line"
    shown = [part.removesuffix("\x1b[K") for part in text.split("\r") if part.strip("\x1b[K")]
    assert shown[0] == "fluctuations  …  0:00  § starting the kernel"
    assert "fluctuations  1/3 cells  0:30  § Title" in shown


def _interrupting(calls):
    def execute(source, output, parameters, cwd, log_output=False, hooks=None):
        calls.append(hooks)
        Path(output).write_text("{}")  # papermill has written the cells that finished
        if hooks:
            hooks["on_notebook_start"](notebook=NOTEBOOK)
            hooks["on_cell_start"](cell=NOTEBOOK["cells"][0], cell_index=0)
        raise KeyboardInterrupt

    return execute


def test_ctrl_c_marks_the_run_interrupted(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(runs, "execute", _interrupting(calls))
    monkeypatch.setattr(sys, "stderr", _Stream(True))  # a terminal: the progress line is on
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("LRLAB_PROGRESS", raising=False)
    out = tmp_path / "run"
    handler = signal.getsignal(signal.SIGINT)  # Python's own, or SIG_IGN where the shell started us in the background
    with pytest.raises(runs.RunInterrupted) as stop:
        runs.run_chapter("fluctuations", "quick", {"epochs": 4, "probe_every": 2}, out)
    assert isinstance(stop.value, KeyboardInterrupt) and stop.value.folder == out
    assert calls[0] is not None, "the hooks were handed to the executor"
    assert sys.stderr.getvalue().endswith("\r\x1b[K"), "the progress line is erased"
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and status["ok"] is False and status["wall_s"] >= 0
    assert "INTERRUPTED" in runs.show(out)
    assert os.environ.get("LRLAB_RUN_DIR") is None, "the environment is restored"
    assert signal.getsignal(signal.SIGINT) is handler, "and the Ctrl-C handler"


def test_ctrl_c_in_lrlab_run_exits_130_with_one_line(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(runs, "execute", _interrupting(calls))
    monkeypatch.setenv("LRLAB_PROGRESS", "0")
    assert cli.main(["run", "fluctuations", "--scale", "quick", "-o", str(tmp_path / "run")]) == 130
    assert calls == [None], "no progress line with LRLAB_PROGRESS=0"
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted after ") and str(tmp_path / "run") in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "interrupted"


def test_a_finished_run_records_its_status(monkeypatch, tmp_path):
    monkeypatch.setattr(runs, "execute", lambda *a, **k: None)
    record = runs.run_chapter("fluctuations", "quick", {}, tmp_path / "run", progress=False)
    assert record.ok
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "ok"


def test_the_progress_hooks_reach_the_notebook_client(tmp_path, monkeypatch):
    """A real kernel on a three-cell notebook: papermill hands the hooks to nbclient, which calls them."""
    nb = {"cells": [{**c, "outputs": [], "execution_count": None} if c["cell_type"] == "code" else c
                    for c in NOTEBOOK["cells"]],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"c{i}"
    source = tmp_path / "tiny.ipynb"
    source.write_text(json.dumps(nb))
    seen = []

    class Spy(runs.Progress):
        def close(self):
            seen.append((self.done, self.total, self.section))
            super().close()

    monkeypatch.setattr(runs, "Progress", Spy)
    monkeypatch.setattr(sys, "stderr", _Stream(True))
    record = runs.run_chapter("fluctuations", "quick", {}, tmp_path / "run", notebook=source, progress=True)
    assert record.ok, record.error
    assert seen == [(4, 4, "The data and ELR")], "papermill's parameters cell, then the three cells"


@pytest.mark.slow
def test_sigint_stops_lrlab_run_with_130_and_an_interrupted_status(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "LRLAB_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(LRLAB + ["run", "fluctuations", "--scale", "quick", "-o", str(out)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "fluctuations.ipynb").is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)  # papermill writes the notebook before it starts the kernel
    assert proc.poll() is None, proc.communicate()
    time.sleep(2.5)  # the kernel is starting or running the first cells
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted after "), stderr[-2000:]
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and not status["ok"]
    assert (out / "fluctuations.ipynb").is_file()
