"""`lrlab sweep` and `lrlab report`: grid expansion, the content-addressed cache, resuming after SIGKILL, damaged
entries, failures, two sweeps on one cache, Dask, and the report's table.

Most tests run a *fake point* (a tiny script that writes a run folder like `lrlab run` does, and logs each
start and finish) instead of the chapter, so they test the sweep's bookkeeping in seconds; the two `slow` tests
run the fluctuations chapter itself at scale quick, on the local pool and on a Dask LocalCluster.
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from lrlab import cli, sweep
from lrlab.claims import VERDICTS

CHAPTER = "fluctuations"
KEY_INPUTS = sweep.key_inputs  # the real one (the fixture below freezes it)

FAKE_POINT = r'''
import json, os, sys, time
import yaml
params = yaml.safe_load(open(sys.argv[1]))
out = sys.argv[2]
os.makedirs(out)
def note(what):
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(f"{what} {params['seed']} {params.get('epochs', 20)}\n")
note("start")
time.sleep(float(os.environ.get("FAKE_DELAY", "0")))
fail = params.get("epochs") == int(os.environ.get("FAKE_FAIL_EPOCHS", "-1"))
e, s = params.get("epochs", 20), params["seed"]
claims = [
    dict(id="C1", claim="c", paper="p", criterion="k", value={"mse": {"0.01": 1 / e + s / 100, "0.1": 2 / e}},
         measured="m", verdict="reproduced" if e > 3 else "partial", expected=False),
    dict(id="C2", claim="c", paper="p", criterion="k", value=e * 0.5, measured="m", verdict="not reproduced",
         expected=False),
]
files = {"params.json": {"chapter": "fluctuations", "scale": "quick", "given": params}, "provenance.json": {},
         "status.json": {"ok": not fail, "error": "ValueError: boom" if fail else "", "wall_s": 0.01}}
if not fail:
    files["claims.json"] = claims
for name, data in files.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(data, f)
with open(os.path.join(out, "fluctuations.ipynb"), "w") as f:
    f.write("{}")
note("done")
sys.exit(1 if fail else 0)
'''

DRIVER = r'''
import json, os, sys
from lrlab import cli, sweep
sweep.executors.point_command = lambda chapter, scale: ["{python}", os.environ["FAKE_POINT"], "{params}", "{out}"]
frozen = json.loads(os.environ["FROZEN_INPUTS"])
sweep.keys.key_inputs = lambda chapter, details=None: dict(frozen)
if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
'''


def _log(path: Path, what: str = "done") -> list[tuple[int, int]]:
    """(seed, epochs) of every point that logged ``what``."""
    if not path.is_file():
        return []
    return [tuple(int(x) for x in line.split()[1:]) for line in path.read_text().splitlines()
            if line.startswith(what + " ")]


@pytest.fixture(scope="module")
def inputs():
    return sweep.key_inputs(CHAPTER)


@pytest.fixture
def fake(tmp_path, monkeypatch, inputs):
    """Points run the fake script; the key inputs are frozen (others may edit lrlab while the tests run)."""
    script = tmp_path / "fake_point.py"
    script.write_text(FAKE_POINT)
    log = tmp_path / "points.log"
    frozen = dict(inputs)
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_POINT", str(script))
    monkeypatch.setenv("FROZEN_INPUTS", json.dumps(frozen))
    monkeypatch.setenv("LRLAB_PROGRESS", "0")
    monkeypatch.delenv("FAKE_FAIL_EPOCHS", raising=False)
    monkeypatch.delenv("FAKE_DELAY", raising=False)
    monkeypatch.setattr(sweep.executors, "point_command",
                        lambda chapter, scale: ["{python}", str(script), "{params}", "{out}"])
    monkeypatch.setattr(sweep.keys, "key_inputs", lambda chapter, details=None: dict(frozen))
    cache = tmp_path / "cache"

    def run(*args: str, out: str = "sweep") -> int:
        return cli.main(["sweep", CHAPTER, "--scale", "quick", *args, "-o", str(tmp_path / out), "--cache", str(cache)])

    return SimpleNamespace(run=run, log=log, cache=cache, frozen=frozen, tmp=tmp_path,
                           done=lambda: _log(log), started=lambda: _log(log, "start"))


def _points(folder: Path) -> dict:
    return json.loads((folder / "points.json").read_text())


# ---- parsing and validation --------------------------------------------------------------------------------


def test_grid_seeds_and_points():
    assert sweep.parse_grid(["epochs=2,3", "optimizer=sgd,adam", "lrs=1e-3,[0.1,0.01]"]) == {
        "epochs": [2, 3], "optimizer": ["sgd", "adam"], "lrs": [0.001, [0.1, 0.01]]}
    assert sweep.parse_seeds("0-2,7") == [0, 1, 2, 7] and sweep.parse_seeds("4") == [4]
    assert sweep.parse_assignments(["lrs=[1e-3, 1e-4]"]) == {"lrs": [0.001, 0.0001]}
    points = sweep.expand(CHAPTER, "quick", {"lrs": [1e-3, [0.1, 0.01]], "epochs": [4, 6]}, [0, 1],
                          {"probe_every": 2})
    assert len(points) == 8 and len({p.name for p in points}) == 8
    first = points[0]
    assert first.params == {"probe_every": 2, "lrs": [0.001], "epochs": 4} and first.seed == 0
    assert first.resolved["lrs"] == [0.001] and first.resolved["seed"] == 0 and first.resolved["scale"] == "quick"
    assert points[-1].resolved["lrs"] == [0.1, 0.01] and points[-1].resolved["epochs"] == 6


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--grid", "epoch=2,3"], "unknown parameter 'epoch'"),
        (["--grid", "epochs=2,ten"], "parameter 'epochs' = 'ten'"),
        (["--grid", "epochs=0,4"], "parameter 'epochs' = 0"),
        (["--grid", "lrs=[0.1,-1]"], "parameter 'lrs'"),
        (["--grid", "optimizer=sgd,rmsprop"], "one of 'sgd', 'adam'"),
        (["--grid", "probe_every=2,50"], "must be <= epochs"),
        (["--grid", "epochs"], "must be NAME=V1,V2"),
        (["--grid", "seed=1,2"], "--seeds"),
        (["--seeds", "3-1"], "--seeds '3-1'"),
        (["-p", "epochs=ten"], "parameter 'epochs' = 'ten'"),
        (["--workers", "0"], "--workers 0"),
        (["--scale", "huge"], "parameter 'scale' = 'huge'"),
    ],
)
def test_a_bad_grid_fails_before_anything_runs(args, fragment, fake, capsys):
    extra = [] if "--grid" in args else ["--grid", "n_seeds=1"]
    assert fake.run(*extra, *args) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert not (fake.tmp / "sweep").exists() and not fake.cache.exists() and not fake.log.exists()


def test_an_unknown_chapter_fails_in_one_line(tmp_path, capsys):
    assert cli.main(["sweep", "nochapter", "--grid", "epochs=1", "-o", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert "chapter 'nochapter' is not known" in err and len(err.splitlines()) == 1


# ---- the cache ---------------------------------------------------------------------------------------------


def test_a_second_sweep_hits_the_cache_and_a_changed_parameter_recomputes_only_its_points(fake, capsys):
    assert fake.run("--grid", "epochs=2,3", "--seeds", "0-1", "--workers", "2") == 0
    assert sorted(fake.done()) == [(0, 2), (0, 3), (1, 2), (1, 3)]
    out = fake.tmp / "sweep"
    assert all(p["status"] == "ok" and not p["cached"] for p in _points(out).values())
    run = out / "runs" / "000-epochs=2-seed0"
    assert {"fluctuations.ipynb", "params.json", "claims.json", "provenance.json", "status.json"} <= {
        p.name for p in run.iterdir()}

    assert fake.run("--grid", "epochs=2,3", "--seeds", "0-1", "--workers", "2") == 0
    assert len(fake.done()) == 4, "nothing is recomputed"
    assert all(p["cached"] for p in _points(out).values())
    assert "4 from the cache" in capsys.readouterr().out

    assert fake.run("--grid", "epochs=2,5", "--seeds", "0-1", out="other") == 0
    assert sorted(fake.done()[4:]) == [(0, 5), (1, 5)], "only the new points run"
    cached = {name: p["cached"] for name, p in _points(fake.tmp / "other").items()}
    assert cached == {"000-epochs=2-seed0": True, "001-epochs=2-seed1": True,
                      "002-epochs=5-seed0": False, "003-epochs=5-seed1": False}


def test_a_change_of_the_key_inputs_recomputes_every_point(fake):
    assert fake.run("--grid", "epochs=2,3") == 0
    assert fake.run("--grid", "epochs=2,3") == 0 and len(fake.done()) == 2
    fake.frozen["source"] = "0" * 64  # as if a module the chapter imports had changed
    assert fake.run("--grid", "epochs=2,3") == 0
    assert len(fake.done()) == 4 and not any(p["cached"] for p in _points(fake.tmp / "sweep").values())
    fake.frozen["versions"] = "1" * 64  # as if a package the chapter imports had been upgraded
    assert fake.run("--grid", "epochs=2,3") == 0 and len(fake.done()) == 6
    fake.frozen["data"] = "2" * 64  # as if a data file had changed
    assert fake.run("--grid", "epochs=2,3") == 0 and len(fake.done()) == 8


def test_the_source_key_follows_what_the_chapter_imports(tmp_path, monkeypatch):
    root = tmp_path / "lrlab"
    shutil.copytree(sweep.keys.lrlab_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sweep.keys, "lrlab_root", lambda: root)
    files = {p.relative_to(root).as_posix() for p in sweep.source_files(CHAPTER)}
    assert {"studies/fluctuations/__init__.py", "studies/fluctuations/experiments.py",
            "studies/fluctuations/claims.py", "train.py", "probes/neurons.py", "probes/__init__.py", "runs.py",
            "plots.py", "provenance.py", "__init__.py"} <= files
    assert not any(f.startswith(("studies/eos_ntk", "sweep/")) for f in files)
    assert not files & {"report.py", "cli.py"}
    before = sweep.source_hash(CHAPTER)
    (root / "studies" / "eos_ntk.py").write_text("# another chapter changed\n")
    assert sweep.source_hash(CHAPTER) == before, "another chapter's module is not a dependency"
    (root / "train.py").write_text((root / "train.py").read_text() + "\n# changed\n")
    assert sweep.source_hash(CHAPTER) != before, "the training loop is"


def test_the_key_follows_the_installed_versions_of_what_the_chapter_imports(monkeypatch):
    from importlib import metadata

    keys = sweep.keys
    modules = keys.imported_modules("eos_ntk")
    assert {"torch", "numpy", "sklearn", "matplotlib"} <= set(modules)
    assert not {"os", "json", "lrlab", "__future__"} & set(modules), "standard library and lrlab are left out"
    versions = sweep.package_versions(CHAPTER)
    assert versions["torch"] == metadata.version("torch") and versions["python"] == platform.python_version()
    assert versions["pyyaml"] == metadata.version("PyYAML"), "modules map to their distributions (yaml → PyYAML)"
    assert "scikit-learn" in sweep.package_versions("eos_ntk")
    base = sweep.key_inputs(CHAPTER)
    resolved = {"seed": 0, "scale": "quick"}
    real = metadata.version
    with monkeypatch.context() as m:
        m.setattr(metadata, "version", lambda name: "9.9.9" if name.lower() == "torch" else real(name))
        bumped = sweep.key_inputs(CHAPTER)
    assert bumped["versions"] != base["versions"], "another torch is another key"
    assert {k: v for k, v in bumped.items() if k != "versions"} == {k: v for k, v in base.items() if k != "versions"}
    assert sweep.point_key(CHAPTER, bumped, resolved, "cpu") != sweep.point_key(CHAPTER, base, resolved, "cpu")
    assert sweep.key_inputs(CHAPTER) == base


def test_the_key_follows_the_checksums_of_the_chapters_data_files(tmp_path, monkeypatch):
    assert sweep.data_checksums(CHAPTER) == {}, "synthetic data: covered by the code hash"
    assert sweep.data_checksums("boosting_paths") == {} and sweep.data_checksums("eos_ntk") == {}
    debian = sweep.data_checksums("sphere_regimes")
    assert len(debian) == 4 and all(len(v) == 64 for v in debian.values()), debian
    assert sweep.data_checksums("periodic_bn_wd") == debian
    folder = tmp_path / "fashion"
    folder.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / stem).write_bytes(stem.encode())
    monkeypatch.setenv("LRLAB_FASHION_MNIST", str(folder))  # looked in first, as lrlab.data.fashion_mnist does
    before = sweep.key_inputs("sphere_regimes")
    assert sweep.data_checksums("sphere_regimes") != debian
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"another label file")
    after = sweep.key_inputs("sphere_regimes")
    assert after["data"] != before["data"] and after["versions"] == before["versions"]
    resolved = {"seed": 0, "scale": "quick"}
    assert sweep.point_key("sphere_regimes", after, resolved, "cpu") != \
        sweep.point_key("sphere_regimes", before, resolved, "cpu")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    assert sweep.data_checksums("sphere_regimes")["fashion_mnist/test/t10k-labels-idx1-ubyte"] == debian[
        "fashion_mnist/test/t10k-labels-idx1-ubyte"], "an incomplete folder is passed over, as the loader does"


def test_a_corrupted_entry_is_detected_and_recomputed(fake):
    assert fake.run("--grid", "epochs=2,3,4") == 0
    out = fake.tmp / "sweep"
    keys = {name: p["key"] for name, p in _points(out).items()}
    store = sweep.Cache(fake.cache)
    claims = store.folder(keys["000-epochs=2-seed0"]) / "claims.json"
    data = bytearray(claims.read_bytes())
    data[10] ^= 1  # one flipped bit, same size
    claims.write_bytes(bytes(data))
    (store.folder(keys["001-epochs=3-seed0"]) / "entry.json").write_text('{"key": "trunc')
    with pytest.raises(sweep.CorruptEntryError, match="claims.json does not match"):
        store.check(keys["000-epochs=2-seed0"])
    assert fake.run("--grid", "epochs=2,3,4") == 0
    assert sorted(fake.done()) == [(0, 2), (0, 2), (0, 3), (0, 3), (0, 4)]
    assert {n: p["cached"] for n, p in _points(out).items()} == {
        "000-epochs=2-seed0": False, "001-epochs=3-seed0": False, "002-epochs=4-seed0": True}
    assert all(store.check(k) is not None for k in keys.values())


# ---- failures --------------------------------------------------------------------------------------------


def test_a_failing_point_is_recorded_and_retry_failed_reruns_only_it(fake, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_FAIL_EPOCHS", "3")
    monkeypatch.setenv("LRLAB_PROGRESS", "1")
    assert fake.run("--grid", "epochs=2,3,4", "--workers", "2") == 1
    captured = capsys.readouterr()
    assert "failed=1" in captured.err, "the progress bar counts failures"
    assert "1 point(s) failed: 001-epochs=3-seed0" in captured.err
    points = _points(fake.tmp / "sweep")
    assert [p["status"] for p in points.values()] == ["ok", "failed", "ok"]
    assert points["001-epochs=3-seed0"]["error"] == "ValueError: boom"
    status = json.loads((fake.tmp / "sweep" / "runs" / "001-epochs=3-seed0" / "status.json").read_text())
    assert status == {"ok": False, "error": "ValueError: boom", "wall_s": 0.01}

    monkeypatch.setenv("LRLAB_PROGRESS", "0")
    assert fake.run("--grid", "epochs=2,3,4") == 1, "a recorded failure stays failed"
    assert len(fake.started()) == 3, "and is not rerun without --retry-failed"
    monkeypatch.delenv("FAKE_FAIL_EPOCHS")
    assert fake.run("--grid", "epochs=2,3,4", "--retry-failed") == 0
    assert fake.started()[3:] == [(0, 3)], "--retry-failed reruns only the failed point"
    assert all(p["status"] == "ok" for p in _points(fake.tmp / "sweep").values())


def test_a_point_that_dies_without_a_status_is_recorded_with_its_error(fake, monkeypatch):
    monkeypatch.setattr(sweep.executors, "point_command", lambda chapter, scale: [
        "{python}", "-c", "import sys; sys.stderr.write('Traceback\\nMemoryError: out of memory\\n'); sys.exit(3)"])
    assert fake.run("--grid", "epochs=2") == 1
    point = _points(fake.tmp / "sweep")["000-epochs=2-seed0"]
    assert point["status"] == "failed" and point["error"] == "MemoryError: out of memory"
    run = fake.tmp / "sweep" / "runs" / "000-epochs=2-seed0"
    assert json.loads((run / "status.json").read_text())["error"] == "MemoryError: out of memory"
    assert "Traceback" in (run / "stderr.txt").read_text()


def test_a_point_past_its_timeout_is_stopped_and_recorded(fake, monkeypatch):
    monkeypatch.setenv("FAKE_DELAY", "30")
    start = time.perf_counter()
    assert fake.run("--grid", "epochs=2", "--timeout", "1") == 1
    assert time.perf_counter() - start < 25
    point = _points(fake.tmp / "sweep")["000-epochs=2-seed0"]
    assert point["status"] == "failed" and "longer than --timeout 1.0 s" in point["error"]
    assert fake.started() == [(0, 2)] and fake.done() == []


def test_a_worker_with_another_checkout_refuses_the_point(inputs):
    payload = {"chapter": CHAPTER, "inputs": {**inputs, "notebook": "0" * 64}, "argv": ["true"], "params": {},
               "seed": 0, "env": {}, "timeout": None, "key": "k"}
    res = sweep.execute_point(payload)
    assert not res["cacheable"] and "notebook hash differently" in res["error"] and not res["files"]


# ---- killing and sharing -----------------------------------------------------------------------------------


def _driver(fake, *args: str, out: str, delay: float) -> subprocess.Popen:
    driver = fake.tmp / "driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "FAKE_DELAY": str(delay), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(driver), "sweep", CHAPTER, "--scale", "quick", *args,
                             "-o", str(fake.tmp / out),
                             "--cache", str(fake.cache)], env=env, cwd=fake.tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _alive(marker: str) -> list[int]:
    """Pids of processes whose command line holds ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_sigkill_then_restart_loses_no_finished_point(fake):
    grid = ("--grid", "epochs=2,3,4,5", "--workers", "1")
    proc = _driver(fake, *grid, out="sweep", delay=1.5)
    points = fake.tmp / "sweep" / "points.json"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if points.is_file() and any(p["status"] == "ok" for p in _points(fake.tmp / "sweep").values()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.kill()  # SIGKILL: no clean-up of any kind
    proc.communicate(timeout=30)
    store = sweep.Cache(fake.cache)
    finished = [p["key"] for p in json.loads((fake.tmp / "sweep" / "sweep.json").read_text())["points"]
                if store.lookup(p["key"])]
    assert 1 <= len(finished) < 4
    time.sleep(0.5)
    assert not _alive(str(fake.tmp / "fake_point.py")), "the running point dies with the sweep"

    assert fake.run(*grid) == 0
    done = fake.done()
    assert sorted(set(done)) == [(0, 2), (0, 3), (0, 4), (0, 5)]
    assert len(done) == 4, f"every point finished exactly once: {done}"
    assert sum(p["cached"] for p in _points(fake.tmp / "sweep").values()) == len(finished)


def test_two_sweeps_sharing_one_cache_compute_each_point_once(fake):
    a = _driver(fake, "--grid", "epochs=2,3,4,5", "--workers", "1", out="a", delay=0.7)
    b = _driver(fake, "--grid", "epochs=5,4,3,2", "--workers", "1", out="b", delay=0.7)
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    done = fake.done()
    assert sorted(done) == [(0, 2), (0, 3), (0, 4), (0, 5)], f"each point computed once: {done}"
    pa, pb = _points(fake.tmp / "a"), _points(fake.tmp / "b")
    assert all(p["status"] == "ok" for p in [*pa.values(), *pb.values()])
    assert sum(not p["cached"] for p in [*pa.values(), *pb.values()]) == 4
    store = sweep.Cache(fake.cache)
    assert all(store.check(p["key"]) is not None for p in pa.values())
    assert not list((fake.cache / "tmp").iterdir())


# ---- Dask ----------------------------------------------------------------------------------------------------


def test_a_sweep_on_a_dask_scheduler(fake):
    from distributed import LocalCluster

    fake.frozen.update(KEY_INPUTS(CHAPTER))  # the workers hash the checkout themselves: hash it now, too
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        assert fake.run("--grid", "epochs=2,3,4", "--scheduler", address) == 0
        assert sorted(fake.done()) == [(0, 2), (0, 3), (0, 4)]
        assert fake.run("--grid", "epochs=2,3,4", "--scheduler", address) == 0
        assert len(fake.done()) == 3 and all(p["cached"] for p in _points(fake.tmp / "sweep").values())


def test_a_sweep_through_a_scheduler_file_and_waiting_without_polling(fake, tmp_path):
    from distributed import Client, LocalCluster

    fake.frozen.update(KEY_INPUTS(CHAPTER))
    path = tmp_path / "scheduler.json"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        client.write_scheduler_file(str(path))  # what `dask scheduler --scheduler-file` and dask-jobqueue write
        assert fake.run("--grid", "epochs=2,3", "--scheduler-file", str(path)) == 0
        assert sorted(fake.done()) == [(0, 2), (0, 3)]
        pool = sweep.executors.DaskPool(None, 1, scheduler_file=path)
        try:
            assert pool.description.startswith(f"Dask scheduler {cluster.scheduler_address} (from ")
            slow = pool.client.submit(time.sleep, 1.5, pure=False)
            start = time.monotonic()
            assert pool.done([slow], timeout=0.3) == []
            assert 0.25 < time.monotonic() - start < 1.2, "returns at the timeout"
            start = time.monotonic()
            assert pool.done([slow], timeout=30) == [slow]
            assert time.monotonic() - start < 5, "woken when the task finishes"
        finally:
            pool.close()


def test_the_slurm_example_of_the_rerun_page_makes_its_job_script_and_scheduler_file(tmp_path, monkeypatch):
    """book/rerun.md's dask-jobqueue block, run as written but with no SLURM to submit to: the batch script holds
    its directives and prologue, and the scheduler writes the file `--scheduler-file` reads."""
    jobqueue = pytest.importorskip("dask_jobqueue")
    text = (Path(__file__).resolve().parents[1] / "book" / "rerun.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "SLURMCluster(" in b)
    monkeypatch.setenv("HOME", str(tmp_path))
    scaled = []
    monkeypatch.setattr(jobqueue.SLURMCluster, "scale", lambda self, *args, **kw: scaled.append((args, kw)))
    names: dict = {}
    exec(compile(block, "book/rerun.md", "exec"), names)  # the page's own example
    cluster = names["cluster"]
    try:
        script = cluster.job_script()
        assert "#SBATCH --gres=gpu:1" in script and "#SBATCH -t 04:00:00" in script
        assert "export OMP_NUM_THREADS=1" in script and "--nthreads 1" in script
        assert ((), {"jobs": 8}) in scaled
        written = json.loads((tmp_path / "lrlab-scheduler.json").read_text())
        assert written["address"] == cluster.scheduler_address
    finally:
        cluster.close()


def test_a_missing_scheduler_file_fails_in_one_line_before_anything_runs(fake, capsys):
    assert fake.run("--grid", "epochs=2", "--scheduler-file", str(fake.tmp / "nope.json")) == 2
    err = capsys.readouterr().err.strip()
    assert "--scheduler-file" in err and "does not exist" in err and len(err.splitlines()) == 1
    assert not (fake.tmp / "sweep").exists() and not fake.log.exists()
    with pytest.raises(SystemExit):  # argparse: one place to run at most
        fake.run("--grid", "epochs=2", "--scheduler-file", "x.json", "--dask-local")


def test_ctrl_c_stops_a_sweep_with_130_and_one_line(fake, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "run_sweep", interrupted)
    assert fake.run("--grid", "epochs=2") == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["interrupted: the sweep keeps every finished point; the same command resumes it"]


def test_an_interrupted_point_is_not_cached(inputs):
    script = ("import json, os, sys; os.makedirs(sys.argv[2]); "
              "json.dump({'ok': False, 'status': 'interrupted', 'error': 'KeyboardInterrupt'}, "
              "open(os.path.join(sys.argv[2], 'status.json'), 'w')); sys.exit(130)")
    payload = {"chapter": CHAPTER, "inputs": inputs, "argv": ["{python}", "-c", script, "{params}", "{out}"],
               "params": {}, "seed": 0, "env": {}, "timeout": None, "key": "k"}
    res = sweep.execute_point(payload)
    assert res["cacheable"] is False and "interrupted" in res["error"]


# ---- the report ----------------------------------------------------------------------------------------------


def test_report_writes_one_tidy_table_and_a_figure(fake, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_FAIL_EPOCHS", "3")
    assert fake.run("--grid", "epochs=2,3,4", "--seeds", "0-1", "--workers", "2") == 1
    capsys.readouterr()
    assert cli.main(["report", str(fake.tmp / "sweep")]) == 0
    out = capsys.readouterr().out
    assert "6 runs: 4 ok, 2 failed" in out
    folder = fake.tmp / "sweep" / "report"
    df = pd.read_csv(folder / "sweep.csv")
    from lrlab import studies

    # the swept parameter first, then the chapter's other parameters in the order its Spec declares them
    params = ["epochs", *(p.name for p in studies.load(CHAPTER).SPEC.params if p.name != "epochs")]
    assert list(df.columns) == ["point", "status", "seed", *params, "runtime_s", "point_s", "cached", "error", "key",
                                "folder", "C1.verdict", "C2.verdict", "C1.value.mse.0.01", "C1.value.mse.0.1",
                                "C2.value"]
    assert len(df) == 6 and df["seed"].tolist() == [0, 1, 0, 1, 0, 1] and df["epochs"].tolist() == [2, 2, 3, 3, 4, 4]
    failed = df[df.status == "failed"]
    assert failed["epochs"].tolist() == [3, 3] and (failed["error"] == "ValueError: boom").all()
    assert failed["C2.value"].isna().all()
    ok = df[df.status == "ok"]
    assert ok["C1.verdict"].tolist() == ["partial", "partial", "reproduced", "reproduced"]
    assert ok["C2.value"].tolist() == [1.0, 1.0, 2.0, 2.0]
    assert ok["C1.value.mse.0.01"].tolist() == pytest.approx([0.5, 0.51, 0.25, 0.26])
    assert ok["lrs"].tolist() == ["0.01,0.001,0.0001"] * 4
    pq = pd.read_parquet(folder / "sweep.parquet")
    assert list(pq.columns) == list(df.columns) and len(pq) == 6
    assert pq["C1.value.mse.0.1"].dtype.kind == "f" and pq["cached"].dtype.name == "boolean"
    assert (folder / "summary.png").stat().st_size > 10_000


def test_report_of_a_folder_that_is_no_sweep(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err


# ---- the chapter itself ----------------------------------------------------------------------------------------


QUICK = ["--scale", "quick", "-p", "probe_every=2", "-p", "per_class=8"]


@pytest.mark.slow
def test_a_quick_sweep_of_the_chapter_on_the_local_pool(tmp_path, capsys):
    args = ["sweep", CHAPTER, *QUICK, "--grid", "epochs=2,4", "--workers", "2", "-o", str(tmp_path / "s"),
            "--cache", str(tmp_path / "cache")]
    assert cli.main(args) == 0, capsys.readouterr().err[-3000:]
    points = _points(tmp_path / "s")
    assert all(p["status"] == "ok" and not p["cached"] for p in points.values())
    run = tmp_path / "s" / "runs" / "001-epochs=4-seed0"
    params = json.loads((run / "params.json").read_text())
    assert params["resolved"]["epochs"] == 4 and params["resolved"]["per_class"] == 8
    nb = json.loads((run / "fluctuations.ipynb").read_text())
    assert nb["metadata"]["papermill"]["parameters"]["epochs"] == 4
    assert json.loads((run / "provenance.json").read_text())["parameters"]["epochs"] == 4
    assert cli.main(["show", str(run)]) == 0
    capsys.readouterr()

    start = time.perf_counter()
    assert cli.main(args) == 0
    assert "2 from the cache" in capsys.readouterr().out and time.perf_counter() - start < 30
    assert all(p["cached"] for p in _points(tmp_path / "s").values())

    assert cli.main(["report", str(tmp_path / "s")]) == 0
    df = pd.read_parquet(tmp_path / "s" / "report" / "sweep.parquet")
    assert df["epochs"].tolist() == [2, 4] and (df["status"] == "ok").all() and (df["runtime_s"] > 0).all()
    for cid in ("C1", "C2", "C3", "C4"):
        assert df[f"{cid}.verdict"].isin(list(VERDICTS)).all()
    assert {"C1.value.test_mse.0.01", "C2.value.participating.0.0001", "C3.value.fluct_bias.0.001"} <= set(df)
    assert df["C1.value.test_mse.0.01"].notna().all()


@pytest.mark.slow
def test_a_quick_sweep_of_the_chapter_on_a_dask_local_cluster(tmp_path, capsys):
    args = ["sweep", CHAPTER, *QUICK, "--grid", "epochs=2,3", "--seeds", "1", "--dask-local", "--workers", "2",
            "-o", str(tmp_path / "s"), "--cache", str(tmp_path / "cache")]
    assert cli.main(args) == 0, capsys.readouterr().err[-3000:]
    assert "Dask LocalCluster tcp://127.0.0.1:" in capsys.readouterr().err
    store = sweep.Cache(tmp_path / "cache")
    for point in _points(tmp_path / "s").values():
        entry = store.check(point["key"])
        assert point["status"] == "ok" and entry.ok and entry.manifest["seed"] == 1
        claims = json.loads((entry.folder / "claims.json").read_text())
        assert [c["id"] for c in claims][:4] == ["C1", "C2", "C3", "C4"]


def test_sources_are_parsed_one_thread_at_a_time(monkeypatch):
    """A local sweep hashes sources from worker threads; concurrent ast.parse raises a spurious SystemError on
    CPython 3.11 < 3.11.8 (python/cpython#106905), seen once in CI. Parsing must be serialised."""
    import ast
    import threading
    import time as _time

    from lrlab import sweep as sw

    real, inside, most = ast.parse, [0], [0]
    guard = threading.Lock()

    def slow_parse(*args, **kwargs):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        _time.sleep(0.002)
        try:
            return real(*args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(sw.keys.ast, "parse", slow_parse)
    threads = [threading.Thread(target=sw.source_files, args=("boosting_paths",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
