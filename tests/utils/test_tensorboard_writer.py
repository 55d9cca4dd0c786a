"""matgrad.utils.tensorboard.SummaryWriter: what it writes, read back with TensorBoard's EventAccumulator
(scalars, histograms, images, text, hparams, meshes), torch's writer given the same calls writing the same
events and projector files, the tensors of a GPU (the CuPy-like test device), torch's errors, and the
one-line ImportError without tensorboardX."""
from __future__ import annotations

import glob
import io
import os
import re
import socket
import sys
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.utils.tensorboard import SummaryWriter

ALL = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0, "compressedHistograms": 0}


@pytest.fixture
def tb():
    """TensorBoard's event reader (tensorboardX writes, the tensorboard package reads)."""
    pytest.importorskip("tensorboardX")
    return pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _read(tb, path):
    acc = tb.EventAccumulator(str(path), size_guidance=ALL)
    acc.Reload()
    return acc


def _data():
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal(500).astype(np.float32), img=(rng.random((3, 6, 5)) * 1.4).astype(np.float32),
                imgs=rng.random((4, 3, 6, 5)), labels=rng.integers(0, 2, 40), preds=rng.random(40),
                verts=rng.random((1, 4, 3)).astype(np.float32), faces=np.array([[[0, 1, 2], [1, 2, 3]]], np.int32),
                colors=rng.integers(0, 255, (1, 4, 3)).astype(np.uint8), sound=rng.uniform(-1, 1, (1, 64)),
                emb=rng.standard_normal((5, 3)), sprites=rng.random((5, 3, 4, 4)))


def test_scalars_histograms_images_text_read_back(tb, tmp_path):
    d = _data()
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss (train)", mg.tensor(0.25), 3)            # a 0-d tensor; the tag kept as given
        w.add_scalar("loss (train)", mg.tensor([0.5], dtype=mg.float64), 4)
        w.add_scalar("lr", 1e-3, 3)
        w.add_histogram("w", mg.tensor(d["x"]), 7)
        w.add_image("img", mg.tensor(d["img"]), 1)                   # floats past 1.0 are clipped to 255
        w.add_images("batch", mg.tensor(d["imgs"]), 2)
        w.add_text("note", "hello *there*", 5)
        w.add_scalar("ns", mg.tensor(2.5, dtype=mg.float64), 6, new_style=True, double_precision=True)
    acc = _read(tb, tmp_path)
    got = [(e.step, e.value) for e in acc.Scalars("loss (train)")]
    assert got == [(3, 0.25), (4, 0.5)]
    assert [(e.step, e.value) for e in acc.Scalars("lr")] == [(3, pytest.approx(1e-3))]

    (h,) = acc.Histograms("w")
    x = d["x"].astype(np.float64)
    hv = h.histogram_value
    assert h.step == 7 and hv.num == x.size and sum(hv.bucket) == x.size
    np.testing.assert_allclose([hv.min, hv.max, hv.sum, hv.sum_squares], [x.min(), x.max(), x.sum(), x @ x],
                               rtol=1e-12)

    from PIL import Image

    (im,) = acc.Images("img")
    pixels = np.asarray(Image.open(io.BytesIO(im.encoded_image_string)))
    want = (d["img"].transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    assert (im.width, im.height) == (5, 6) and np.array_equal(pixels, want)
    (batch,) = acc.Images("batch")
    assert (batch.width, batch.height) == (4 * 5, 6)                 # four images side by side

    (text,) = acc.Tensors("note/text_summary")
    assert text.step == 5 and text.tensor_proto.string_val == [b"hello *there*"]
    (ns,) = acc.Tensors("ns")
    assert list(ns.tensor_proto.double_val) == [2.5]


def test_add_scalars_one_run_per_tag(tb, tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("run/loss", {"train": mg.tensor(1.5), "test": 2.0}, 3)
    for tag, value in (("train", 1.5), ("test", 2.0)):
        acc = _read(tb, tmp_path / f"run_loss_{tag}")                # torch's folder: main_tag's / as _
        assert [(e.step, e.value) for e in acc.Scalars("run/loss")] == [(3, value)]


def test_hparams_with_discrete_domains(tb, tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "opt": "sgd", "layers": mg.tensor(3.0)}, {"hp/acc": mg.tensor(0.75)},
                      hparam_domain_discrete={"opt": ["sgd", "adam"]}, run_name="trial", global_step=2)
    acc = _read(tb, tmp_path / "trial")
    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hp = start.session_start_info.hparams
    assert hp["lr"].number_value == 0.1 and hp["opt"].string_value == "sgd" and hp["layers"].number_value == 3
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    infos = {i.name: i for i in exp.hparam_infos}
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["sgd", "adam"]
    assert [m.name.tag for m in exp.metric_infos] == ["hp/acc"]
    assert [(e.step, e.value) for e in acc.Scalars("hp/acc")] == [(2, 0.75)]


def test_add_tensor_reads_back_as_tensorboard_decodes_it(tb, tmp_path):
    from tensorboard.util import tensor_util

    values = {"f16": np.array([0.5, -2.0, 3.25], np.float16), "i64": np.arange(6, dtype=np.int64).reshape(2, 3),
              "u8": np.array([0, 7, 255], np.uint8), "b": np.array([True, False])}
    with SummaryWriter(tmp_path) as w:
        for tag, a in values.items():
            w.add_tensor(tag, mg.tensor(a), 1)
    acc = _read(tb, tmp_path)
    for tag, a in values.items():
        (e,) = acc.Tensors(tag)
        got = tensor_util.make_ndarray(e.tensor_proto)
        assert got.dtype == a.dtype and np.array_equal(got, a), tag


def test_tensors_of_a_gpu(tb, tmp_path, cuda):
    x = mg.tensor(_data()["x"], device=cuda)
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("s", x.sum(), 1)
        w.add_histogram("h", x, 1)
    acc = _read(tb, tmp_path)
    host = _data()["x"]
    assert acc.Scalars("s")[0].value == pytest.approx(float(host.sum()), rel=1e-5)
    assert acc.Histograms("h")[0].histogram_value.num == host.size


def test_purge_step_close_and_reopen(tb, tmp_path):
    w = SummaryWriter(tmp_path, purge_step=5, filename_suffix=".a")
    w.add_scalar("s", 1.0, 5)
    w.close()
    w.close()                                                        # a second close does nothing
    w.add_scalar("s", 2.0, 6)                                        # a new file after close, as torch
    w.flush()
    w.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*.a"))) == 2
    assert [(e.step, e.value) for e in _read(tb, tmp_path).Scalars("s")] == [(5, 1.0), (6, 2.0)]


def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        logdir = w.get_logdir()
    pattern = r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(socket.gethostname()) + r"_lr0\.1"
    assert re.fullmatch(pattern, logdir.replace(os.sep, "/")) and os.path.isdir(logdir)


def test_errors_are_torchs(tmp_path):
    pytest.importorskip("tensorboardX")
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(AssertionError, match="should contain one element"):
            w.add_scalar("s", mg.tensor([1.0, 2.0]))
        with pytest.raises(NotImplementedError, match="numpy array or matgrad Tensor"):
            w.add_histogram("h", [1.0, 2.0])
        with pytest.raises(TypeError, match="should be dictionary"):
            w.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match="one of int, float, str, bool"):
            w.add_hparams({"sizes": [1, 2]}, {})
        with pytest.raises(TypeError, match=r"hparam_domain_discrete\[lr\]"):
            w.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": ["fast"]})
        with pytest.raises(ValueError, match="bucket_limits"):
            w.add_histogram_raw("h", 0, 1, 1, 1, 1, [1.0], [1, 0])
        with pytest.raises(ValueError, match="BxNx3"):
            w.add_mesh("m", mg.ones(4, 3))
        with pytest.raises(ValueError, match="unsupported tensor dtype"):
            w.add_tensor("t", mg.tensor(np.zeros(2, np.uint32)))


def test_add_graph_points_to_matgrads_own_pictures(tmp_path):
    pytest.importorskip("tensorboardX")
    with SummaryWriter(tmp_path) as w, pytest.raises(NotImplementedError) as e:
        w.add_graph(mg.nn.Linear(2, 1), mg.ones(1, 2))
    assert "matgrad.explain" in str(e.value) and "matgrad.viz" in str(e.value)


def test_without_tensorboardx_one_line_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)          # `import tensorboardX` now fails
    with pytest.raises(ImportError) as e:
        SummaryWriter(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and 'pip install "matgrad[tensorboard]"' in msg
    assert not list(tmp_path.iterdir())                             # nothing written


# --- torch's writer, the same calls -----------------------------------------------------------------

def _same_calls(w, T, d):
    """Every method both writers have, on T's tensors (torch.from_numpy or matgrad.from_numpy)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w.add_scalar("loss (train)", T(np.float32(1.5)), 3, walltime=1.0)
    w.add_scalar("ns", T(np.float64(2.25)), 4, new_style=True)
    w.add_scalars("run/main", {"a": T(np.float32(1.0)), "b": 2.0}, 5, walltime=1.0)
    w.add_histogram("h w", T(d["x"]), 1)
    w.add_histogram("h auto", T(d["x"].astype(np.float64)), 1, bins="auto", max_bins=7)
    w.add_histogram_raw("hr", 0, 1, 3, 1.5, 1.25, [0.5, 1], [1, 2], 1)
    w.add_image("im g", T(d["img"]), 2)
    w.add_image("hwc", T(np.ascontiguousarray(d["img"].transpose(1, 2, 0))), 2, dataformats="HWC")
    w.add_images("ims", T(d["imgs"]), 2)
    w.add_image_with_boxes("box", T(d["img"]), T(np.array([[1, 1, 4, 4.0]])), 2, labels=["x"])
    w.add_text("t", "hello *there*", 1)
    w.add_pr_curve("pr", T(d["labels"]), T(d["preds"]), 1, num_thresholds=20)
    w.add_audio("au", T(d["sound"]), 1, sample_rate=8000)
    w.add_mesh("m", T(d["verts"]), colors=T(d["colors"]), faces=T(d["faces"]), global_step=1)
    w.add_mesh("m2", T(d["verts"]), config_dict={"camera": {"fov": 75}}, global_step=1)
    w.add_custom_scalars_multilinechart(["a", "b"])
    w.add_custom_scalars_marginchart(["a", "b", "c"], category="c", title="t")
    w.add_tensor("tens", T(np.arange(6, dtype=np.int64).reshape(2, 3)), 1)
    w.add_hparams({"lr": 0.1, "opt": "sgd", "flag": True, "n": 3, "none": None}, {"hp/acc": T(np.float32(0.9))},
                  hparam_domain_discrete={"opt": ["sgd", "adam"], "n": [1, 3]}, run_name="hp", global_step=2)
    w.add_embedding(T(d["emb"]), metadata=list("abcde"), label_img=T(d["sprites"]), tag="emb/1", global_step=3)
    w.add_embedding(T(d["emb"][:4]), metadata=[[1, "a"], [2, "b"], [3, "c"], [4, "d"]], metadata_header=["n", "s"])
    fig = plt.figure(figsize=(1, 1), dpi=20)
    plt.plot([0, 1])
    w.add_figure("fig", fig, 1)


def _events(root):
    """{run folder: [serialized events]} with the wall times zeroed and the file_version events left out."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = {}
    for f in sorted(glob.glob(os.path.join(root, "**", "events.out.tfevents.*"), recursive=True)):
        run = os.path.relpath(os.path.dirname(f), root)
        for e in EventFileLoader(f).Load():
            if not e.HasField("file_version"):
                e.wall_time = 0
                out.setdefault(run, []).append(e)
    return out


def test_same_events_and_files_as_torchs_writer(tb, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("PIL")
    pytest.importorskip("matplotlib")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    d = _data()
    for name, W, make in (("torch", TorchWriter, torch.from_numpy), ("matgrad", SummaryWriter, mg.from_numpy)):
        with warnings.catch_warnings(), W(str(tmp_path / name), purge_step=1) as w:
            warnings.simplefilter("ignore")
            _same_calls(w, lambda a, make=make: make(np.asarray(a)), d)  # NumPy scalars too
    want, got = _events(str(tmp_path / "torch")), _events(str(tmp_path / "matgrad"))
    assert sorted(got) == sorted(want) == [".", "hp", "run_main_a", "run_main_b"]
    for run in want:
        assert len(got[run]) == len(want[run]), run
        for g, t in zip(got[run], want[run]):
            assert g.SerializeToString() == t.SerializeToString(), f"{run}: matgrad wrote\n{g}\ntorch wrote\n{t}"
    files = sorted(os.path.relpath(p, tmp_path / "torch") for p in glob.glob(str(tmp_path / "torch" / "**" / "*.*"),
                                                                           recursive=True) if "tfevents" not in p)
    assert "projector_config.pbtxt" in files and len(files) == 6
    for rel in files:
        assert (tmp_path / "matgrad" / rel).read_bytes() == (tmp_path / "torch" / rel).read_bytes(), rel


def test_same_scalar_and_histogram_values_as_torch(tb, tmp_path):
    """Read back through TensorBoard, not just bytes: steps, values and buckets of both writers agree."""
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    d = _data()
    for name, W, T in (("torch", TorchWriter, torch.from_numpy), ("matgrad", SummaryWriter, mg.from_numpy)):
        with W(str(tmp_path / name)) as w:
            for step in range(3):
                w.add_scalar("x/mean", T(d["x"][step * 100:(step + 1) * 100].mean(keepdims=True)), step)
                w.add_histogram("x", T(d["x"] * (step + 1)), step)
    want, got = _read(tb, tmp_path / "torch"), _read(tb, tmp_path / "matgrad")
    assert [(e.step, e.value) for e in got.Scalars("x/mean")] == [(e.step, e.value) for e in want.Scalars("x/mean")]
    for g, t in zip(got.Histograms("x"), want.Histograms("x"), strict=True):
        assert g.step == t.step and g.histogram_value == t.histogram_value
