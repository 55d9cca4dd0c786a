"""matgrad.distributed under real `mpiexec -n 2` and `-n 3` (MPICH from PyPI, or a system MPI).

Each case starts mpiexec from pytest with one BLAS thread per rank and a bounded timeout, and
kills the whole launch (its process group) if the timeout passes. MPICH oversubscribes by
default; Open MPI's mpiexec gets --oversubscribe.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py.MPI", reason='needs mpi4py and an MPI library: pip install "matgrad[mpi]"')

SCRIPTS = Path(__file__).parent / "scripts"
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason='needs mpiexec: pip install "matgrad[mpi]"')
TIMEOUT = 120


def run(args: list[str], n: int | None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """`mpiexec -n n python script args` (or plain python when n is None), killed after `timeout` s."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    cmd = [sys.executable, *args]
    if n is not None:
        extra = ["--oversubscribe"] if "Open MPI" in subprocess.run(
            [MPIEXEC, "--version"], capture_output=True, text=True).stdout else []
        cmd = [MPIEXEC, *extra, "-n", str(n), *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} still running after {timeout} s (killed)\n{out}\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def ok(args: list[str], n: int | None) -> None:
    res = run(args, n)
    assert res.returncode == 0, f"{res.args} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"


def weights(folder: Path, rank: int) -> dict[str, np.ndarray]:
    with np.load(folder / f"rank{rank}.npz") as f:
        return dict(f)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One process on the whole batch, per optimizer and model."""
    refs = {}
    for key in [("sgd",), ("adamw",), ("sgd", "--syncbn")]:
        d = tmp_path_factory.mktemp("ref")
        ok([str(SCRIPTS / "train.py"), str(d), *key], None)
        refs[key] = weights(d, 0)
    return refs


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("key", [("sgd",), ("adamw",), ("sgd", "--syncbn")], ids=["sgd", "adamw", "syncbn"])
def test_equivalence_and_agreement(n, key, reference, tmp_path):
    """N ranks on B/N each = one process on B (float32 rounding), and all ranks bit-identical."""
    ok([str(SCRIPTS / "train.py"), str(tmp_path), *key], n)
    ws = [weights(tmp_path, r) for r in range(n)]
    ref = reference[key]
    assert ws[0].keys() == ref.keys()
    for name in ref:
        np.testing.assert_allclose(ws[0][name], ref[name], rtol=2e-4, atol=2e-5, err_msg=name)
        for r in range(1, n):
            assert np.array_equal(ws[r][name], ws[0][name]), f"rank {r} differs from rank 0 in {name}"


def test_no_sync_accumulation(reference, tmp_path):
    """Two micro-batches, the first under no_sync(): the same training as one full batch."""
    ok([str(SCRIPTS / "train.py"), str(tmp_path), "sgd", "--accumulate"], 2)
    ref = reference[("sgd",)]
    for name, w in weights(tmp_path, 0).items():
        np.testing.assert_allclose(w, ref[name], rtol=2e-4, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_and_sampler_coverage(n, tmp_path):
    ok([str(SCRIPTS / "collectives.py"), str(tmp_path)], n)
    for epoch in range(2):
        every = np.load(tmp_path / f"cover_0_{epoch}.npy")  # padded: each sample at least once
        assert sorted(set(every.ravel().tolist())) == list(range(23))
        assert every.size == -(-23 // n) * n
        dropped = np.load(tmp_path / f"cover_1_{epoch}.npy")  # drop_last: each sample at most once
        assert len(set(dropped.ravel().tolist())) == dropped.size == (23 // n) * n
    assert not np.array_equal(np.load(tmp_path / "cover_0_0.npy"), np.load(tmp_path / "cover_0_1.npy"))


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_stops_the_others(mode):
    start = time.monotonic()
    res = run([str(SCRIPTS / "fault.py"), mode], 3, timeout=60)
    took = time.monotonic() - start
    assert res.returncode != 0
    assert took < 30, f"the other ranks took {took:.0f} s to stop"
    if mode == "raise":
        assert "rank 1 of 3 failed with ValueError: rank one broke on purpose" in res.stderr, res.stderr


def test_different_models_are_refused_at_construction():
    res = run([str(SCRIPTS / "fault.py"), "mismatch"], 2, timeout=60)
    assert res.returncode != 0
    assert "the ranks' models differ" in res.stderr, res.stderr
    assert "rank 0 has parameter 2.weight (3, 8)" in res.stderr and "rank 1 has parameter 2.weight (2, 8)" in res.stderr


def _cli(args: list[str], n: int | None) -> subprocess.CompletedProcess:
    res = run(["-m", "matgrad", "train", "--dataset", "digits", "--no-tensorboard", "--no-progress", *args], n)
    assert res.returncode == 0, f"{res.args} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
    return res


def test_matgrad_train_under_mpiexec_matches_one_process(tmp_path):
    """`mpiexec -n 2 matgrad train` = one process (global --batch-size); rank 0 alone prints and
    writes; `--ranks 3` relaunches under mpiexec; a 2-rank run resumes in 1 process to the same end."""
    one = _cli(["--epochs", "2", "--out", str(tmp_path / "one")], None)
    two = _cli(["--epochs", "2", "--out", str(tmp_path / "two")], 2)
    assert two.stdout.count("done: test accuracy") == 1 and two.stdout.count("training mlp") == 1
    three = _cli(["--epochs", "2", "--out", str(tmp_path / "three"), "--ranks", "3"], None)
    part = _cli(["--epochs", "1", "--out", str(tmp_path / "resumed")], 2)
    assert "done" in part.stdout
    _cli(["--resume", str(tmp_path / "resumed" / "model.npz"), "--epochs", "2"], None)
    acc = lambda res: res.stdout.split("done: test accuracy ")[1].split("%")[0]  # noqa: E731
    assert acc(one) == acc(two) == acc(three), (one.stdout, two.stdout, three.stdout)
    with np.load(tmp_path / "one" / "model.npz") as ref:
        for run_dir in ("two", "three", "resumed"):
            with np.load(tmp_path / run_dir / "model.npz") as got:
                for k in ref.files:
                    if k.startswith("model/"):
                        np.testing.assert_allclose(got[k], ref[k], rtol=1e-4, atol=1e-6, err_msg=f"{run_dir} {k}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "resumed", "three", "two"]


@pytest.mark.slow
def test_the_seed_recipe_under_mpiexec_reaches_one_process_accuracy(tmp_path):
    """The seed recipe on MNIST (10 epochs) with 2 ranks: test accuracy within ±0.2 points of one process."""
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (data / "mnist").exists() and not os.environ.get("MATGRAD_DATA"):
        pytest.skip("MNIST not found")
    args = ["-m", "matgrad", "train", "--dataset", "mnist", "--no-tensorboard", "--no-progress"]
    if (data / "mnist").exists():
        args += ["--data", str(data)]
    accs = []
    for n, name in [(None, "one"), (2, "two")]:
        res = run([*args, "--out", str(tmp_path / name)], n, timeout=1800)
        assert res.returncode == 0, res.stderr
        accs.append(float(res.stdout.split("done: test accuracy ")[1].split("%")[0]))
    assert abs(accs[0] - accs[1]) <= 0.2, accs
