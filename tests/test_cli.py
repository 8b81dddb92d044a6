"""`lrlab run` / `list` / `show`: bad input fails fast with a clear message; a quick run keeps what it produced."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrlab import cli, runs

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
    assert {"fluctuations.ipynb", "params.json", "claims.json", "provenance.json", "status.json"} <= {
        p.name for p in out.iterdir()}
    params = json.loads((out / "params.json").read_text())
    assert params["resolved"]["epochs"] == 6 and params["resolved"]["n_seeds"] == 2
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims][:4] == ["C1", "C2", "C3", "C4"]
    assert all(c["verdict"] in ("reproduced", "partial", "not reproduced") and c["expected"] is False for c in claims)
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
