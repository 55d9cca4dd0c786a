"""`matgrad eval` and `matgrad predict` on a checkpoint trained by the test session, and their errors."""
from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from matgrad.cli.main import main
from matgrad.data import Digits

from .process import run_matgrad

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


def test_predict_classifies_every_readable_image_and_reports_each_bad_one(digits_run: Path, tmp_path: Path,
                                                                         capsys) -> None:
    test = Digits(train=False)
    four, seven = tmp_path / "four.png", tmp_path / "seven.png"
    write_digit(four, test.images[test.labels == 4][0], dark_on_light=True)
    write_digit(seven, test.images[test.labels == 7][0], dark_on_light=True)
    blank = tmp_path / "blank.png"
    Image.new("L", (30, 30), 255).save(blank)
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    argv = ["predict", str(digits_run), str(four), str(blank), str(seven), str(notes)]
    assert main(argv) == 2  # not every image could be classified
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(four), str(seven)]
    err = captured.err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("matgrad predict: error: ") for line in err)
    assert str(blank) in err[0] and "no drawing" in err[0] and str(notes) in err[1] and "2 of 4 images" in err[2]


@pytest.mark.parametrize("top", ["0", "-1", "two"])
def test_predict_refuses_a_top_that_is_not_a_positive_number(digits_run: Path, top: str, capsys) -> None:
    assert main(["predict", str(digits_run), "x.png", "--top", top]) == 2
    err = capsys.readouterr().err
    assert "matgrad predict: error: argument --top" in err and top in err


def test_predict_without_pillow_says_what_to_install(digits_run: Path, tmp_path: Path) -> None:
    proc = run_matgrad("predict", str(digits_run), str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                       block=["PIL"])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1  # one line for the whole batch, not one per image
    assert "Pillow" in proc.stderr and 'pip install "matgrad[cli]"' in proc.stderr


def overflowing(digits_run: Path, tmp_path: Path) -> Path:
    """A copy of the run whose weights are so large that the forward pass overflows to inf and NaN."""
    with np.load(digits_run, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for k in arrays:
        if k.startswith("model/") and k.endswith("weight"):
            arrays[k] = arrays[k] * np.float32(1e30)
    path = tmp_path / "diverged.npz"
    np.savez(path, **arrays)
    return path


def test_no_numpy_warning_reaches_the_output(digits_run: Path, tmp_path: Path, capsys) -> None:
    """Overflow in the model is said in words, without NumPy's RuntimeWarning and its library paths."""
    big = overflowing(digits_run, tmp_path)
    image = tmp_path / "seven.png"
    write_digit(image, Digits(train=False).images[7], dark_on_light=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["eval", str(big)]) == 0
        eval_err = capsys.readouterr().err
        assert main(["predict", str(big), str(image)]) == 0
        predict_out = capsys.readouterr().out
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "matgrad eval: warning: the model's outputs are not finite" in eval_err
    assert "no prediction" in predict_out and "nan" not in predict_out


def test_eval_on_another_data_set_of_the_same_shape_warns(digits_run: Path, tmp_path: Path, capsys) -> None:
    """An MNIST model scored on Fashion-MNIST gets a number, and a warning naming both data sets."""
    from matgrad.data import write_idx
    from matgrad.training import build
    from matgrad.training.checkpoint import save_checkpoint

    config = {"model": "mlp", "loss": "bce", "optimizer": "sgd", "lr": 1.0, "momentum": 0.9,
              "weight_decay": 0.0, "schedule": "none", "epochs": 1, "batch_size": 256, "output": "probabilities",
              "flatten_input": True, "seed": 0, "limit": None, "watch": False, "dataset": "mnist",
              "input_shape": [1, 28, 28], "num_classes": 10, "class_names": [str(d) for d in range(10)],
              "data_dir": None}  # a plain dict, as checkpoints written before TrainConfig hold it
    model = build.make_model(load_config(config))
    ckpt = save_checkpoint(tmp_path / "run" / "model.npz", model.state_dict(), config=config, epoch=1)
    d = tmp_path / "fashion-mnist"
    d.mkdir()
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(d / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    assert main(["eval", str(ckpt), "--dataset", "fashion-mnist", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "on fashion-mnist test set: 5 samples" in captured.out
    warning = [line for line in captured.err.splitlines() if line.startswith("matgrad eval: warning: ")]
    assert len(warning) == 1 and "trained on mnist" in warning[0] and "fashion-mnist" in warning[0]


def load_config(d: dict) -> object:
    from matgrad.training.config import TrainConfig

    return TrainConfig.from_dict(d)


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
    with np.load(digits_run, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta.json"]))
    meta["config"].update(model="mlp-best", output="logits", loss="ce")
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
