"""Checkpoint -> artifact folder: ONNX FP32, OpenVINO IR FP32 (stateless and stateful), model.json.

The exported graph is the streaming step with static shapes (batch 1):
    frame [1,3,S,S], edge [1,1,S,S], state [depth,slots,1,T,C] -> logits [1,K], new_state (same shape)
The stateful IR replaces the state input/output by ReadValue/Assign on one variable with a zero
initial value, built by hand (an INT8 model made stateful by OpenVINO's MakeStateful pass fails to
compile; docs/export.md).
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from lcr_edge import __version__
from lcr_edge.artifact import (
    CHECKPOINT,
    EXPORT_FORMATS,
    FORMAT,
    FORMATS,
    INPUTS,
    LOGITS,
    METADATA,
    STATE_IN,
    STATE_OUT,
    STATE_VARIABLE,
    file_entry,
    find_format,
)
from lcr_edge.errors import LCRError
from lcr_edge.io import building, owned_prefix, remove_leftovers, write_json
from lcr_edge.labels import JESTER_FPS
from lcr_edge.model import LCR, count_macs
from lcr_edge.model.checkpoint import check_finite, file_sha256, save_torch
from lcr_edge.model.lcr import rollout
from lcr_edge.preprocess import Preprocess
from lcr_edge.quantize.step import StepModule, example_inputs

OPSET = 18


def export_onnx(module: torch.nn.Module, inputs: tuple, path: Path) -> Path:
    """One self-contained ONNX file (opset 18, weights inside), checked with onnx.checker."""
    import logging

    import onnx

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed"
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), inputs, str(path), input_names=[*INPUTS, STATE_IN],
                          output_names=[LOGITS, STATE_OUT], opset_version=OPSET, dynamo=True,
                          external_data=False, verbose=False)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return path


@contextmanager
def _quiet():
    """torch.onnx's dynamo exporter prints progress lines to stdout; keep the CLI output clean."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        yield


def make_stateful(model):
    """Stateless OpenVINO model (state in, new_state out) -> stateful model (frame, edge in;
    logits out; state in a variable with a zero initial value, `reset_state()` zeroes it)."""
    import openvino as ov
    import openvino.opset13 as ops

    model = model.clone()
    param = next(p for p in model.get_parameters() if p.get_friendly_name() == STATE_IN
                 or STATE_IN in p.output(0).get_names())
    result = next(r for r in model.get_results() if STATE_OUT in r.output(0).get_names()
                  or STATE_OUT in r.input_value(0).get_names())
    shape, dtype = param.get_partial_shape(), param.get_element_type()
    if shape.is_dynamic:
        raise LCRError(f"state input must have a static shape, got {shape}")
    info = ov.op.util.VariableInfo()
    info.data_shape, info.data_type, info.variable_id = shape, dtype, STATE_VARIABLE
    variable = ov.op.util.Variable(info)
    zeros = ops.broadcast(ops.constant(np.zeros((), dtype=np.float32)),
                          ops.constant(np.array(shape.to_shape(), dtype=np.int64)))
    read = ops.read_value(zeros, variable)
    for target in list(param.output(0).get_target_inputs()):
        target.replace_source_output(read.output(0))
    new_state = result.input_value(0)
    if new_state.get_node().get_output_size() != 1:  # Assign takes a node: give it a 1-output one
        new_state = ops.reshape(new_state, ops.constant(np.array(shape.to_shape(), np.int64)), False)
    assign = ops.assign(new_state.get_node() if hasattr(new_state, "get_node") else new_state,
                        variable)
    model.remove_result(result)
    model.remove_parameter(param)
    model.add_variables([variable])
    model.add_sinks([assign])
    model.validate_nodes_and_infer_types()
    return model


def save_ir(model, path: Path) -> None:
    import openvino as ov

    ov.save_model(model, str(path), compress_to_fp16=False)  # keep FP32 weights FP32


def onnx_to_openvino(onnx_path: Path, folder: Path, precision: str) -> None:
    """Write the stateless and the stateful IR of an ONNX step graph into folder."""
    import openvino as ov

    model = ov.convert_model(str(onnx_path))
    save_ir(model, folder / find_format("openvino", precision, stateful=False).file)
    save_ir(make_stateful(model), folder / find_format("openvino", precision, stateful=True).file)


def parity(folder: Path, step: torch.nn.Module, precision: str, model: LCR, frames: int = 8) -> dict:
    """Max |logits - `step`| over a short random rollout with state carried, per exported file of
    `precision` (`step`: the PyTorch step it was exported from, FP32 or fake-quantized INT8).
    A smoke check written into model.json; the thorough one is tests/export."""
    from lcr_edge.runtime import open_backend

    g = torch.Generator().manual_seed(1)
    S = model.config.image_size
    x = torch.randn(frames, 3, S, S, generator=g)
    e = (torch.rand(frames, 1, S, S, generator=g) > 0.85).float()
    with torch.no_grad():
        ref = rollout(step, x[None], e[None], model.initial_state(1))[0][0].numpy()
    out = {}
    for backend in ("onnxruntime", "openvino"):
        b = open_backend(folder, backend, precision, threads=None, verify=False)
        got = np.stack([b.infer(x[t : t + 1].numpy(), e[t : t + 1].numpy())
                        for t in range(frames)])
        out[backend] = float(np.abs(got - ref).max())
    return out


def base_metadata(model: LCR, ckpt: dict, ckpt_path: Path, frame_rate: float | None) -> dict:
    cfg = model.config
    pre = Preprocess.from_dict(ckpt["preprocess"]) if "preprocess" in ckpt else Preprocess()
    # the rate the model was trained to see frames at (training.data.Sampling: source fps / stride)
    if frame_rate is not None and not (math.isfinite(frame_rate) and 0 < frame_rate <= 240):
        raise LCRError(f"--frame-rate must be a rate in (0, 240] frames per second, got {frame_rate}")
    fps = frame_rate or (ckpt.get("sampling") or {}).get("frame_rate") or ckpt.get("frame_rate")
    S = cfg.image_size
    if pre.size != S:
        raise LCRError(f"{ckpt_path}: preprocessing size {pre.size} != model input {S}")
    return {
        "format": FORMAT, "version": 1, "lcr_edge_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "variant": cfg.variant, "config": cfg.to_dict(),
        "labels": list(ckpt["labels"]), "num_classes": cfg.num_classes,
        **pre.to_dict(),  # input_size, mean, std, colour_order, edges: Preprocess.from_dict(meta)
        "frame_rate": float(fps or JESTER_FPS),
        "sampling": dict(ckpt.get("sampling") or {}),  # frames, stride as trained (clip eval)
        "inputs": {"frame": [1, 3, S, S], "edge": [1, 1, S, S]},
        "outputs": {LOGITS: [1, cfg.num_classes]},
        "state": [{"input": STATE_IN, "output": STATE_OUT, "variable": STATE_VARIABLE,
                   "shape": list(cfg.state_shape), "dtype": "float32", "initial": "zeros",
                   "layout": "depth, (H, C), batch, tokens, dim"}],
        "params": model.num_params(), "macs_per_frame": int(count_macs(model)),
        "source_checkpoint": {"name": ckpt_path.name, "sha256": file_sha256(ckpt_path)},
        "files": {}, "accuracy": {}, "parity": {},
        "toolchain": _versions(),
    }


def _versions() -> dict:
    import onnx
    import openvino as ov

    return {"torch": torch.__version__, "onnx": onnx.__version__, "openvino": ov.__version__,
            "python": platform.python_version()}


@contextmanager
def staging(out: Path):
    """A temporary folder beside `out`; files are moved into `out` only when all are written."""
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out, ".staging-*")  # left by exports that were killed
    tmp = Path(tempfile.mkdtemp(prefix=owned_prefix(".staging-"), dir=out))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(staged: Path, out: Path, meta: dict, names: list[str]) -> dict:
    """Move the staged files into out, record them (with hashes) in meta, write model.json last."""
    for name in names:
        os.replace(staged / name, out / name)
        if name.endswith(".xml"):
            os.replace(staged / (name[:-4] + ".bin"), out / (name[:-4] + ".bin"))
    for f in FORMATS:
        if f.file in names:
            meta["files"].setdefault(f.group, {})[f.kind] = file_entry(out, f.file)
    write_json(out / METADATA, meta)
    return meta


def export_fp32(model: LCR, ckpt: dict, ckpt_path: Path, out: Path, formats: str = "all",
                frame_rate: float | None = None, accuracy: dict | None = None,
                whole_folder: bool = True) -> dict:
    """Write the FP32 artifact folder; returns model.json's content. formats: a key of
    `EXPORT_FORMATS`, the backends whose files to write. whole_folder: build the folder beside
    `out` and put it in place in one step (`lcr_edge.io.building`); False writes into `out`
    (a caller that builds the folder itself, as quantize does)."""
    if formats not in EXPORT_FORMATS:
        raise LCRError(f"--format must be {', '.join(EXPORT_FORMATS)}, got {formats!r}")
    if whole_folder:
        check_finite(model, ckpt_path)  # before the folder is copied
        with building(out) as work:
            return export_fp32(model, ckpt, ckpt_path, work, formats, frame_rate, accuracy, False)
    backends = EXPORT_FORMATS[formats]
    model = model.eval()
    check_finite(model, ckpt_path)
    step = StepModule(model)
    meta = base_metadata(model, ckpt, ckpt_path, frame_rate)
    if accuracy:
        meta["accuracy"]["fp32"] = accuracy
    with staging(out) as tmp:
        write_inference_checkpoint(ckpt, tmp / CHECKPOINT)
        # the OpenVINO IR is converted from the ONNX file: it is written either way
        onnx_path = export_onnx(step, example_inputs(model), tmp / find_format("onnxruntime", "fp32").file)
        if "openvino" in backends:
            onnx_to_openvino(onnx_path, tmp, "fp32")
        names = [f.file for f in FORMATS if f.precision == "fp32" and f.backend in backends]
        if onnx_path.name not in names:
            onnx_path.unlink()
        old = _keep_int8(out)  # a later FP32 re-export drops INT8 files made from other weights
        meta = publish(tmp, out, meta, names)
    for name in old:
        (out / name).unlink(missing_ok=True)
    if formats == "all":
        meta["parity"]["fp32"] = parity(out, step, "fp32", step.model)
        write_json(out / METADATA, meta)
    return meta


# Training state an exported model does not need (it is two thirds of a training checkpoint).
TRAINING_ONLY = ("optimizer", "scheduler", "rng")


def write_inference_checkpoint(ckpt: dict, path: Path) -> None:
    """The checkpoint an export ships: weights, config, labels, preprocessing and provenance,
    without the optimizer state (fine-tuning starts a new optimizer anyway)."""
    save_torch({k: v for k, v in ckpt.items() if k not in TRAINING_ONLY}, path)


def _keep_int8(out: Path) -> list[str]:
    """INT8 files in out that the new model.json will not list (they belong to older weights)."""
    names = [f.file for f in FORMATS if f.precision == "int8"]
    return [n for n in names + [n[:-4] + ".bin" for n in names if n.endswith(".xml")]
            if (out / n).exists()]
