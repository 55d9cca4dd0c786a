"""`matgrad eval` and `matgrad predict` on a checkpoint trained by the test session, and their errors."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from matgrad.cli.main import main
from matgrad.data import Digits

PNG = b"\x89PNG\r\n\x1a\n"
Image = pytest.importorskip("PIL.Image")


def test_eval_prints_accuracy_per_class_and_confusion(digits_run: Path, capsys) -> None:
    assert main(["eval", str(digits_run)]) == 0
    out = capsys.readouterr().out
    acc = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert acc > 80  # six epochs of the seed recipe on 8x8 digits
    rows = re.findall(r"^\s*(\d)\s+((?:\s*\d+){10})$", out, flags=re.M)
    cm = np.array([[int(v) for v in r[1].split()] for r in rows])
    assert cm.shape == (10, 10) and cm.sum() == 360  # the digits test split
    assert abs(100 * np.trace(cm) / cm.sum() - acc) < 0.01
    per_class = re.findall(r"^\s+\d\s+([\d.]+)%\s+\((\d+) samples\)", out, flags=re.M)
    assert len(per_class) == 10 and sum(int(n) for _, n in per_class) == 360
    assert (digits_run.parent / "confusion.png").read_bytes()[:8] == PNG


def write_digit(path: Path, img8: np.ndarray, dark_on_light: bool, size: int = 96) -> None:
    """An 8x8 digits image drawn as a big picture, as a user might save a scan."""
    a = (img8.astype(np.float64) / 16 * 255).astype(np.uint8)
    if dark_on_light:
        a = 255 - a
    big = Image.fromarray(a, mode="L").resize((size, size), Image.NEAREST)
    canvas = Image.new("L", (size + 40, size + 20), 255 if dark_on_light else 0)
    canvas.paste(big, (25, 7))
    canvas.convert("RGB").save(path)


def test_predict_reads_pngs_and_jpegs(digits_run: Path, tmp_path: Path, capsys) -> None:
    test = Digits(train=False)
    paths, labels = [], []
    for i in range(12):
        p = tmp_path / f"digit{i}.{'png' if i % 2 else 'jpg'}"
        write_digit(p, test.images[i], dark_on_light=i % 3 != 0)
        paths.append(str(p))
        labels.append(int(test.labels[i]))
    assert main(["predict", str(digits_run), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 12
    hits = 0
    for line, label, path in zip(lines, labels, paths):
        assert line.startswith(path + ": ")
        top = re.findall(r"(\d) \(([\d.]+)%\)", line)
        assert len(top) == 3
        probs = [float(p) for _, p in top]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 100.05
        hits += int(top[0][0]) == label
    assert hits >= 9  # the pictures are the test set's own digits, redrawn


def test_predict_errors(digits_run: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["predict", str(digits_run), str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    Image.new("L", (30, 30), 255).save(blank)
    assert main(["predict", str(digits_run), str(blank)]) == 2
    assert "no drawing" in capsys.readouterr().err
    assert main(["predict", str(digits_run), str(tmp_path / "missing.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_checkpoint_errors(digits_run: Path, tmp_path: Path, capsys) -> None:
    assert main(["eval", str(tmp_path / "nope.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["eval", str(junk)]) == 2
    assert "not a readable matgrad checkpoint" in capsys.readouterr().err
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    assert main(["eval", str(plain)]) == 2
    assert "not a matgrad checkpoint" in capsys.readouterr().err


def test_checkpoint_of_a_different_model_is_a_clear_error(digits_run: Path, tmp_path: Path, capsys) -> None:
    """A checkpoint whose weights are for another network than its config names (say, renamed)."""
    import json

    with np.load(digits_run, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta.json"]))
    meta["config"]["model"] = "mlp-best"
    meta["config"]["output"] = "logits"
    arrays["meta.json"] = np.array(json.dumps(meta))
    other = tmp_path / "other.npz"
    np.savez(other, **arrays)
    for argv in (["eval", str(other)], ["predict", str(other), str(other)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "does not hold a 'mlp-best' model" in err and "Traceback" not in err


def test_eval_on_a_dataset_of_another_shape(digits_run: Path, tmp_path: Path, capsys) -> None:
    from matgrad.data import write_idx

    d = tmp_path / "mnist"
    d.mkdir()
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(d / "t10k-labels-idx1-ubyte", np.zeros(5, np.uint8))
    assert main(["eval", str(digits_run), "--dataset", "mnist", "--data", str(d)]) == 2
    assert "was trained on digits" in capsys.readouterr().err
    shutil.rmtree(d)


@pytest.mark.slow  # reads the real MNIST files (60,000 + 10,000 images)
def test_real_mnist_train_eval_predict(mnist_dir: Path, tmp_path: Path, capsys) -> None:
    from matgrad.data import MNIST

    out = tmp_path / "mnist"
    argv = ["train", "--data", str(mnist_dir), "--limit", "4000", "--epochs", "2", "--out", str(out),
            "--no-progress"]
    assert main(argv) == 0
    assert "training mlp on mnist (4,000 train / 10,000 test" in capsys.readouterr().out
    assert main(["eval", str(out / "model.npz"), "--data", str(mnist_dir)]) == 0
    acc = float(re.search(r"test accuracy: ([\d.]+)%", capsys.readouterr().out).group(1))
    assert acc > 85
    test = MNIST(mnist_dir, train=False)
    paths = []
    for i in range(10):  # saved as a user would have them: dark ink on white paper, larger
        p = tmp_path / f"{i}.png"
        Image.fromarray(255 - test.images[i]).resize((84, 84), Image.BILINEAR).save(p)
        paths.append(str(p))
    assert main(["predict", str(out / "model.npz"), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    hits = sum(line.split(": ")[1].startswith(str(test.labels[i])) for i, line in enumerate(lines))
    assert hits >= 8
