"""`SummaryWriter`: torch.utils.tensorboard's writer of TensorBoard event files, taking matgrad Tensors.

    from matgrad.utils.tensorboard import SummaryWriter
    with SummaryWriter() as w:                  # runs/<Mon DD_HH-MM-SS>_<hostname><comment>, as torch
        w.add_scalar("loss", loss, step)        # a Tensor (any device), a NumPy array or a number
        w.add_histogram("fc.weight", model.fc.weight, step)

tensorboardX writes the files (`pip install "matgrad[tensorboard]"`; without it the constructor
raises ImportError saying so). Each method makes the summary torch 2.13's makes, with torch's
arguments: tensorboardX's own SummaryWriter differs in places (it rewrites tags holding spaces or
brackets, puts add_scalars' runs in other folders, wraps image values past 1.0 instead of clipping
them, types bool hparams differently, needs soundfile for audio, tags meshes otherwise, and has no
add_tensor, new_style scalars, hparam_domain_discrete or run_name), so the summaries are built here
as torch builds them, from tensorboardX's protobuf classes and its helpers where those agree.
Tensors go to NumPy as torch's make_np takes them: detached, copied to the host from a GPU.

Differences from torch: add_graph traces a torch module with torch.jit, which matgrad has no
counterpart of: it raises NotImplementedError naming matgrad.explain and matgrad.viz. add_tensor
stores float16 data as its 16-bit patterns in half_val, which TensorBoard reads back (torch stores the
values' float32 bit patterns there, which it misreads), and uint8 data in int_val, TensorFlow's place
for it (tensorboardX's TensorProto has no uint32_val, where torch puts it). A 0-d Tensor is taken as an
hparam value (torch's indexing fails on one).
"""
from __future__ import annotations

import itertools
import json
import math
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

from ...devices import to_host
from ...tensor import Tensor

__all__ = ["SummaryWriter"]

MISSING = ('matgrad.utils.tensorboard.SummaryWriter writes with tensorboardX, which is not installed; get it with: '
           'pip install "matgrad[tensorboard]"')


_file_uid = itertools.count()  # numbers each event file this process opens, as torch's writer does


def _file_writer(logdir: Any, max_queue: int, flush_secs: int, filename_suffix: str) -> Any:
    """tensorboardX's FileWriter, its file named as torch names one: events.out.tfevents.<time>.<host>.<pid>.<n>.

    tensorboardX names a file by the second it was opened alone, so two opened in the same second in one
    folder (a writer reopened after close()) would be one file, the first's events overwritten.
    """
    from tensorboardX.writer import FileWriter

    return FileWriter(logdir, max_queue, flush_secs, f".{os.getpid()}.{next(_file_uid)}{filename_suffix}")


def _require_tensorboardx() -> None:
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise ImportError(MISSING) from None


def make_np(x: Any) -> np.ndarray:
    """x as a NumPy array, as torch's make_np: arrays as they are, a number as [x], a Tensor's values on the host."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        return to_host(x.array)
    raise NotImplementedError(f"Got {type(x)}, but numpy array or matgrad Tensor are expected.")


def _plain(x: Any) -> Any:
    """Tensors and arrays as Python numbers or lists (what protobuf fields take); anything else as it is."""
    if isinstance(x, Tensor):
        x = make_np(x)
    return x.tolist() if isinstance(x, (np.ndarray, np.generic)) else x


# --- summaries, as torch.utils.tensorboard.summary builds them -----------------------------------------

def _summary(**value: Any) -> Any:
    from tensorboardX.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(**value)])


def _plugin(name: str, content: bytes = b"") -> Any:
    from tensorboardX.proto.summary_pb2 import SummaryMetadata

    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


def _scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Any:
    from tensorboardX.proto.tensor_pb2 import TensorProto

    arr = make_np(value).squeeze()
    if arr.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {arr.size} and "
                             f"{arr.ndim} dimensions.")
    number = float(arr)
    if not new_style:
        return _summary(tag=tag, simple_value=number)
    proto = (TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision
             else TensorProto(float_val=[number], dtype="DT_FLOAT"))
    return _summary(tag=tag, tensor=proto, metadata=_plugin("scalars"))


def _shape(dims: Any) -> Any:
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in dims])


# add_tensor: NumPy dtype -> (DataType, TensorProto field, values); torch's table, over matgrad's dtypes
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val", lambda a: a.view(np.uint16).ravel().tolist()),  # the bits, as TensorFlow
    "float32": ("DT_FLOAT", "float_val", None), "float64": ("DT_DOUBLE", "double_val", None),
    "int8": ("DT_INT8", "int_val", None), "uint8": ("DT_UINT8", "int_val", None),
    "int16": ("DT_INT16", "int_val", None), "int32": ("DT_INT32", "int_val", None),
    "int64": ("DT_INT64", "int64_val", None), "bool": ("DT_BOOL", "bool_val", None),
}


def _tensor(tag: str, tensor: Any) -> Any:
    from tensorboardX.proto.tensor_pb2 import TensorProto

    arr = make_np(tensor)
    if arr.nbytes >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if arr.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {arr.dtype}")
    dtype, field, values = _TENSOR_FIELDS[arr.dtype.name]
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(arr.shape),
                        **{field: values(arr) if values else arr.ravel().tolist()})
    return _summary(tag=tag, metadata=_plugin("tensor"), tensor=proto)


def _histogram(tag: str, values: Any, bins: Any, max_bins: Any = None) -> Any:
    from tensorboardX.summary import make_histogram

    return _summary(tag=tag, histo=make_histogram(make_np(values).astype(float), bins, max_bins))


def _to_uint8(hwc: np.ndarray) -> np.ndarray:
    """torch's scaling: uint8 as it is, anything else times 255; then clipped to [0, 255]."""
    scale = 1 if hwc.dtype == np.uint8 else 255
    return (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def _image(tag: str, tensor: Any, dataformats: str, boxes: Any = None, rescale: float = 1,
           labels: Any = None) -> Any:
    from tensorboardX.summary import make_image
    from tensorboardX.utils import convert_to_HWC

    hwc = _to_uint8(convert_to_HWC(make_np(tensor), dataformats))
    rois = None if boxes is None else make_np(boxes)
    return _summary(tag=tag, image=make_image(hwc, rescale=rescale, rois=rois, labels=labels))


def _video(tag: str, tensor: Any, fps: Any) -> Any:
    from tensorboardX.summary import make_video
    from tensorboardX.utils import _prepare_video

    return _summary(tag=tag, image=make_video(_to_uint8(_prepare_video(make_np(tensor))), fps))


def _audio(tag: str, tensor: Any, sample_rate: int) -> Any:
    """16-bit mono WAV, written by the standard library's wave module as torch's is."""
    import io
    import wave

    from tensorboardX.proto.summary_pb2 import Summary

    array = make_np(tensor).squeeze()
    if abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    array = (array * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as fio:
        with wave.open(fio, "wb") as wave_write:
            wave_write.setnchannels(1)
            wave_write.setsampwidth(2)
            wave_write.setframerate(sample_rate)
            wave_write.writeframes(array.data)
        encoded = fio.getvalue()
    audio = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=array.shape[-1],
                          encoded_audio_string=encoded, content_type="audio/wav")
    return _summary(tag=tag, audio=audio)


def _hparams(hparam_dict: Any, metric_dict: Any, hparam_domain_discrete: Any) -> tuple[Any, Any, Any]:
    """The hparams plugin's Experiment, SessionStartInfo and SessionEndInfo summaries (torch's rules)."""
    from google.protobuf import struct_pb2
    from tensorboardX.proto.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

    for what, d in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(d, dict):
            raise TypeError(f"parameter: {what} should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")
    hps = []
    ssi = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, Tensor):  # torch's make_np(v)[0]
            ssi.hparams[k].number_value = float(make_np(v).reshape(-1)[0])
            hps.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))
            continue
        # bool is an int, so (as in torch) True is the number 1.0 here
        if isinstance(v, (int, float)):
            field, kind, value = "number_value", "DATA_TYPE_FLOAT64", v
        elif isinstance(v, str):
            field, kind, value = "string_value", "DATA_TYPE_STRING", v
        else:
            raise ValueError("value should be one of int, float, str, bool, or matgrad Tensor")
        setattr(ssi.hparams[k], field, value)
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
                  if k in domains else None)
        hps.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    def wrap(tag: str, **content: Any) -> Any:
        data = HParamsPluginData(version=0, **content).SerializeToString()
        return _summary(tag=tag, metadata=_plugin("hparams", data))

    exp = Experiment(hparam_infos=hps, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (wrap("_hparams_/experiment", experiment=exp),
            wrap("_hparams_/session_start_info", session_start_info=ssi),
            wrap("_hparams_/session_end_info",
                 session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))))


def _mesh(tag: str, vertices: Any, colors: Any, faces: Any, config_dict: Any) -> Any:
    """One tensor summary per part given, tagged <tag>_VERTEX/_FACE/_COLOR, as TensorBoard's mesh plugin reads."""
    from tensorboardX.proto.plugin_mesh_pb2 import MeshPluginData
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.proto.tensor_pb2 import TensorProto

    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, kind) for t, kind in ((vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE),
                                       (colors, MeshPluginData.COLOR)) if t is not None]
    components = sum(1 << kind for _, kind in parts)  # which parts exist: a bitmask
    values = []
    for t, kind in parts:
        arr = make_np(t)
        if arr.ndim != 3:
            raise ValueError(f"Tensor shape should be of shape BxNx3, but got {list(arr.shape)}.")
        # MeshPluginData field 7, `components`, is missing from tensorboardX's copy of the proto: appended
        # to the serialised message as protobuf writes it (tag 7 varint = 0x38; the mask is at most 14)
        content = MeshPluginData(version=0, name=tag, content_type=kind, json_config=json_config,
                                 shape=list(arr.shape)).SerializeToString() + bytes([0x38, components])
        proto = TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(), tensor_shape=_shape(arr.shape))
        values.append(Summary.Value(tag=f"{tag}_{MeshPluginData.ContentType.Name(kind)}", tensor=proto,
                                    metadata=_plugin("mesh", content)))
    return Summary(value=values)


# --- the embedding projector's files, as torch writes them ---------------------------------------------

def _make_tsv(metadata: Any, save_path: str, metadata_header: Any = None) -> None:
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())


def _make_sprite(label_img: np.ndarray, save_path: str) -> None:
    """The images on one square sprite sheet, row by row, as torch arranges them."""
    from io import BytesIO

    from PIL import Image
    from tensorboardX.utils import make_grid

    nrow = math.ceil(label_img.shape[0] ** 0.5)
    grid_chw = make_grid(label_img, ncols=nrow)
    square = np.zeros((grid_chw.shape[2], grid_chw.shape[2], 3))
    hwc = grid_chw.transpose(1, 2, 0)
    square[: hwc.shape[0], :, :] = hwc
    im = Image.fromarray(np.uint8((square * 255).clip(0, 255)))
    with BytesIO() as buf:
        im.save(buf, format="PNG")
        data = buf.getvalue()
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(data)


def _make_mat(mat: np.ndarray, save_path: str) -> None:
    with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
        for row in mat:
            f.write(("\t".join(str(i.item()) for i in row) + "\n").encode())


def _embedding_info(metadata: Any, label_img: Any, subdir: str, global_step: Any, tag: str) -> str:
    """One `embeddings { ... }` entry of projector_config.pbtxt, as protobuf's text format prints torch's."""
    lines = [f'  tensor_name: "{tag}:{str(global_step).zfill(5)}"']
    if metadata is not None:
        lines.append(f'  metadata_path: "{subdir}/metadata.tsv"')
    if label_img is not None:
        lines += ["  sprite {", f'    image_path: "{subdir}/sprite.png"',
                  f"    single_image_dim: {label_img.shape[3]}", f"    single_image_dim: {label_img.shape[2]}", "  }"]
    lines.append(f'  tensor_path: "{subdir}/tensors.tsv"')
    return "embeddings {\n" + "\n".join(lines) + "\n}\n"


class SummaryWriter:
    """Writes TensorBoard event files into `log_dir`, as torch.utils.tensorboard.SummaryWriter (same arguments).

    `log_dir` defaults to runs/<current datetime>_<hostname><comment>. `purge_step` hides what a crashed
    run wrote from that step on; `max_queue` events are kept before a write, and at most `flush_secs`.
    """

    def __init__(self, log_dir: Any = None, comment: str = "", purge_step: int | None = None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = "") -> None:
        _require_tensorboardx()
        if not log_dir:
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: Any = None
        self.all_writers: dict[str, Any] | None = None
        self._get_file_writer()
        # the 'tensorflow' bins: ±1e-12 growing by 10% to 1e20, and 0
        v, buckets = 1e-12, []
        while v < 1e20:
            buckets.append(v)
            v *= 1.1
        self.default_bins = [-b for b in buckets[::-1]] + [0] + buckets
        self._embeddings: list[str] = []

    def _get_file_writer(self) -> Any:
        """The default FileWriter (tensorboardX's), made again after close()."""
        if self.all_writers is None or self.file_writer is None:
            from tensorboardX.proto.event_pb2 import Event, SessionLog

            self.file_writer = _file_writer(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step = self.purge_step
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def _add(self, summary: Any, global_step: Any = None, walltime: Any = None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def get_logdir(self) -> Any:
        """The directory the event files go to."""
        return self.log_dir

    # --- numbers ---------------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: Any = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One number (a one-element Tensor or array, or a Python number) at global_step.

        new_style writes it as a tensor (float32, or float64 with double_precision), not a simple_value.
        """
        self._add(_scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: Any = None,
                    walltime: Any = None) -> None:
        """Several numbers on one chart: each is main_tag in its own run, <log_dir>/<main_tag>_<tag>."""
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            assert self.all_writers is not None
            fw = self.all_writers.get(fw_tag)
            if fw is None:
                fw = self.all_writers[fw_tag] = _file_writer(fw_tag, self.max_queue, self.flush_secs,
                                                             self.filename_suffix)
            fw.add_summary(_scalar(main_tag, scalar_value), global_step, walltime)

    def add_tensor(self, tag: str, tensor: Any, global_step: Any = None, walltime: Any = None) -> None:
        """A whole tensor, as a TensorProto (the 'tensor' plugin)."""
        self._add(_tensor(tag, tensor), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: Any = None, bins: Any = "tensorflow",
                      walltime: Any = None, max_bins: Any = None) -> None:
        """A histogram of values; bins: 'tensorflow' (the default bins), or any of np.histogram's bins."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(_histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(self, tag: str, min: Any, max: Any, num: Any, sum: Any, sum_squares: Any,  # noqa: A002
                          bucket_limits: Any, bucket_counts: Any, global_step: Any = None,
                          walltime: Any = None) -> None:
        """A histogram already counted: bucket_limits are the buckets' upper edges."""
        from tensorboardX.summary import histogram_raw

        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        args = [_plain(a) for a in (min, max, num, sum, sum_squares, bucket_limits, bucket_counts)]
        self._add(histogram_raw(tag, *args), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: Any = None,
                     num_thresholds: int = 127, weights: Any = None, walltime: Any = None) -> None:
        """A precision-recall curve of predictions (in [0, 1]) against binary labels."""
        from tensorboardX.summary import pr_curve

        weights = make_np(weights) if isinstance(weights, Tensor) else weights
        self._add(pr_curve(tag, make_np(labels), make_np(predictions), num_thresholds, weights), global_step,
                  walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts: Any, false_positive_counts: Any,
                         true_negative_counts: Any, false_negative_counts: Any, precision: Any, recall: Any,
                         global_step: Any = None, num_thresholds: int = 127, weights: Any = None,
                         walltime: Any = None) -> None:
        """A precision-recall curve already counted, one value per threshold in each argument."""
        from tensorboardX.summary import pr_curve_raw

        counts = [make_np(a) if isinstance(a, Tensor) else a for a in (
            true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts, precision,
            recall)]
        self._add(pr_curve_raw(tag, *counts, num_thresholds, weights), global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None, run_name: str | None = None,
                    global_step: Any = None) -> None:
        """Hyperparameters and their metrics for the HPARAMS tab, in the run <log_dir>/<run_name or the time>."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = _hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w_hp:
            for summary in (exp, ssi, sei):
                w_hp.file_writer.add_summary(summary, global_step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    # --- pictures, sound, text -------------------------------------------------------------------------
    def add_image(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: Any = None,
                  dataformats: str = "CHW") -> None:
        """One image: floats in [0, 1] (clipped) or uint8 in [0, 255]; dataformats CHW, HWC, HW ... (needs Pillow)."""
        self._add(_image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: Any = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images, shown as one grid (dataformats NCHW or NHWC)."""
        self._add(_image(tag, img_tensor, dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any, global_step: Any = None,
                             walltime: Any = None, rescale: float = 1, dataformats: str = "CHW",
                             labels: Any = None) -> None:
        """An image with boxes drawn on it: box_tensor is N×4 (xmin, ymin, xmax, ymax), labels one per box."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        self._add(_image(tag, img_tensor, dataformats, boxes=box_tensor, rescale=rescale, labels=labels),
                  global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: Any = None, close: bool = True,
                   walltime: Any = None) -> None:
        """A matplotlib figure (or a list of them) rendered to an image."""
        from tensorboardX.utils import figure_to_image

        formats = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats=formats)

    def add_video(self, tag: str, vid_tensor: Any, global_step: Any = None, fps: Any = 4,
                  walltime: Any = None) -> None:
        """A batch of videos, N×T×C×H×W, as an animated GIF (needs moviepy)."""
        self._add(_video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: Any = None, sample_rate: int = 44100,
                  walltime: Any = None) -> None:
        """A sound, 1×L values in [-1, 1] (clipped), as 16-bit WAV."""
        self._add(_audio(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: Any = None, walltime: Any = None) -> None:
        """Text (markdown), shown under <tag>/text_summary."""
        from tensorboardX.summary import text

        self._add(text(tag, text_string), global_step, walltime)

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None, config_dict: Any = None,
                 global_step: Any = None, walltime: Any = None) -> None:
        """A 3D mesh or point cloud: vertices B×N×3, colors B×N×3 (uint8), faces B×F×3 (vertex indices)."""
        self._add(_mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    # --- layouts, graphs, embeddings -------------------------------------------------------------------
    def add_custom_scalars(self, layout: dict[str, Any]) -> None:
        """The CUSTOM SCALARS tab's layout: {category: {title: ['Multiline' or 'Margin', [tags]]}}."""
        from tensorboardX.summary import custom_scalars

        self._add(custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags: list[str], category: str = "default",
                                          title: str = "untitled") -> None:
        """One multi-line chart of tags on the CUSTOM SCALARS tab."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags: list[str], category: str = "default",
                                       title: str = "untitled") -> None:
        """One margin chart on the CUSTOM SCALARS tab: tags are [value, lower, upper]."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_onnx_graph(self, prototxt: Any) -> None:
        """The graph of an ONNX model file (needs onnx)."""
        from tensorboardX.onnx_graph import load_onnx_graph

        self._get_file_writer().add_onnx_graph(load_onnx_graph(prototxt))

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not available: TensorBoard's graph comes from tracing a torch module with torch.jit."""
        raise NotImplementedError(
            "SummaryWriter.add_graph: TensorBoard's graph is made by tracing a torch module with torch.jit, which "
            "matgrad has no counterpart of. To see a matgrad graph, explain an output: matgrad.explain(model(x)) "
            "(the backward steps as a table), matgrad.viz.draw(model(x), 'graph.svg') or "
            "matgrad.viz.html(model(x), 'graph.html'); add_onnx_graph shows an ONNX file's graph in TensorBoard")

    @staticmethod
    def _encode(rawstr: str) -> str:
        """A tag as a folder name: '%', '/' and '\\' written as %25, %2f, %5c."""
        return rawstr.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None, global_step: Any = None,
                      tag: str = "default", metadata_header: Any = None) -> None:
        """Points for the PROJECTOR tab: mat N×D, metadata N labels (or rows under a header), label_img N×C×H×W."""
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        if os.path.exists(save_path):
            if not os.path.isdir(save_path):
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            label_img = make_np(label_img)
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _make_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        _make_mat(mat, save_path)
        # the config lists every embedding this writer added, rewritten whole each time (as torch's)
        self._embeddings.append(_embedding_info(metadata, label_img, subdir, global_step, tag))
        with open(os.path.join(logdir, "projector_config.pbtxt"), "wb") as f:
            f.write("".join(self._embeddings).encode())

    # --- the files -------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what is pending to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the files (a later add_* opens new ones in the same log_dir)."""
        if self.all_writers is None:
            return  # closed already
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.close()
