"""`lcr-edge quantize`: checkpoint + data -> an artifact folder with FP32 and INT8 models.

    1. FP32 export (quantize.export) and FP32 validation top-1 (PyTorch)
    2. PTQ: NNCF calibration on training clips -> INT8 ONNX/IR in a scratch folder -> top-1 (OpenVINO)
    3. QAT: fine-tune the PTQ model through the step loop -> INT8 ONNX (QDQ) + IR stateless and
       stateful into the folder -> top-1 (OpenVINO) and per-frame top-1 agreement with FP32
Accuracies of INT8 are measured on the exported OpenVINO files (what a user runs), FP32 in PyTorch
(the export matches it to ~1e-6).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from lcr_edge.artifact import FILES, FORMATS, METADATA, file_entry
from lcr_edge.io import write_json
from lcr_edge.labels import CLIP_FRAMES
from lcr_edge.model.checkpoint import load_checkpoint
from lcr_edge.quantize import evaluate, qat
from lcr_edge.quantize.export import (
    export_fp32,
    export_onnx,
    onnx_to_openvino,
    parity,
    publish,
    staging,
)
from lcr_edge.quantize.step import StepModule, example_inputs


@dataclass
class QuantizeConfig:
    epochs: int = 1  # QAT epochs over the training split; 0 = post-training quantization only
    steps: int | None = None  # stop QAT after this many batches
    lr: float = 2e-5
    distill: float = 1.0  # QAT loss: 1 = match the FP32 model's outputs (KL), 0 = the labels
    holdout: int = 64  # training clips QAT never trains on; it keeps the step best on them
    check_every: int = 25  # QAT batches between two holdout checks
    batch_size: int = 8
    frames: int | None = None  # frames per clip; None: the checkpoint's training setting, else CLIP_FRAMES
    calibration: int = 256  # (frame, edge, state) triples for NNCF's range statistics
    train_limit: int | None = None  # at most this many training clips
    val_limit: int | None = None  # at most this many validation clips
    workers: int = 2
    wkv_int8: bool = False  # also quantize Bi-WKV's internal products (slower here, see docs)
    device: str = "cpu"  # where calibration and QAT run ("cuda" on a GPU machine)


def _export_int8(native, model, folder: Path) -> None:
    """Fake-quantized step (torch.fake_quantize) -> INT8 ONNX (QDQ) + IR stateless and stateful
    (OpenVINO turns the QDQ pairs into FakeQuantize: INT8 kernels)."""
    onnx_path = export_onnx(native, example_inputs(model), folder / FILES[("int8", "onnx")])
    onnx_to_openvino(onnx_path, folder, "int8")


def _openvino_probs(folder: Path, loader, threads=None):
    from lcr_edge.runtime import OpenVINOBackend

    meta = _scratch_meta(folder)
    return evaluate.predict_backend(OpenVINOBackend(folder, meta, "int8", threads, True, False),
                                    loader)


def _scratch_meta(folder: Path) -> dict:
    import json

    return json.loads((folder / METADATA).read_text())


def quantize_checkpoint(ckpt_path: Path, data: Path, out: Path, cfg: QuantizeConfig,
                        log=print, progress=None) -> dict:
    """The whole pipeline on a dataset folder; returns model.json's content."""
    model, ckpt = load_checkpoint(ckpt_path)
    if cfg.frames is None:
        cfg.frames = int((ckpt.get("sampling") or ckpt.get("train_config") or {}).get("frames")
                         or CLIP_FRAMES)
    val = evaluate.validation_loader(data, ckpt, cfg.val_limit, cfg.frames, cfg.batch_size,
                                     cfg.workers)
    holdout = cfg.holdout if cfg.epochs > 0 else 0
    train = evaluate.train_loader(data, ckpt, cfg.train_limit, cfg.frames, cfg.batch_size,
                                  cfg.workers, holdout)
    held = evaluate.holdout_loader(data, ckpt, holdout, cfg.train_limit, cfg.frames,
                                   cfg.batch_size, cfg.workers) if holdout else None
    held = evaluate.Triples(held) if held is not None else None
    return quantize_model(model, ckpt, Path(ckpt_path), Path(out), evaluate.Triples(train),
                          evaluate.Triples(val), cfg, log, progress, holdout=held)


def quantize_model(model, ckpt: dict, ckpt_path: Path, out: Path, train, val, cfg: QuantizeConfig,
                   log=print, progress=None, holdout=None) -> dict:
    """train, val, holdout: re-iterables of (frames [B,F,3,S,S], edges [B,F,1,S,S], labels [B]);
    val None skips the accuracy table (tests); holdout None: QAT keeps its last step."""
    t0 = time.perf_counter()
    torch.manual_seed(0)
    acc, fp32_probs, targets = {}, None, None
    window = evaluate.score_window(ckpt)
    if val is not None:
        log("FP32: validating in PyTorch ...")
        fp32_probs, targets = evaluate.predict_step(StepModule(model), val)
        acc["fp32"] = evaluate.summary(fp32_probs, targets, window)
        log(f"  FP32 top-1 {acc['fp32']['top1']:.2f} % ({len(targets)} clips)")
    meta = export_fp32(model, ckpt, ckpt_path, out, "all", accuracy=acc.get("fp32"))
    # until the INT8 files are in, the folder says so: a quantize killed from here on leaves an
    # FP32 export that the runtime names as unfinished instead of running it as if it were whole
    meta["quantization"] = {"complete": False}
    write_json(out / METADATA, meta)

    log(f"PTQ: calibrating on {cfg.calibration} frames of training clips ...")
    items = qat.calibration_items(model.to(cfg.device), train, cfg.calibration)
    qstep = qat.quantize_ptq(model, items, cfg.wkv_int8)
    model.cpu()
    if val is not None:
        with staging(out) as scratch:
            _export_int8(qat.to_native_fake_quant(qstep), model, scratch)
            write_json(scratch / METADATA, {**meta, "files": {"int8": {
                k: file_entry(scratch, FILES[("int8", k)]) for k in ("onnx", "openvino_stateful")}}})
            ptq_probs, _ = _openvino_probs(scratch, val)
        acc["ptq_int8"] = evaluate.summary(ptq_probs, targets, window)
        acc["ptq_int8"]["agreement_with_fp32"] = evaluate.agreement(ptq_probs, fp32_probs)
        log(f"  PTQ-INT8 top-1 {acc['ptq_int8']['top1']:.2f} % (OpenVINO)")

    tuned = {"losses": [], "checks": [], "kept_step": None}
    if cfg.epochs > 0:
        log(f"QAT: fine-tuning {cfg.epochs} epoch(s) on the training split ...")
        teacher = StepModule(model).eval() if cfg.distill > 0 else None
        tuned = qat.fine_tune(qstep, train, cfg.epochs, cfg.lr, cfg.steps, progress,
                              teacher=teacher, distill=cfg.distill, holdout=holdout,
                              check_every=cfg.check_every)
        if tuned["checks"]:
            log("  holdout loss by step: " + ", ".join(f"{s}: {v:.4f}" for s, v in tuned["checks"])
                + f"; kept step {tuned['kept_step']}")
    losses = tuned["losses"]
    native = qat.to_native_fake_quant(qstep)
    name = "qat_int8" if cfg.epochs > 0 else "ptq_int8"
    with staging(out) as tmp:
        _export_int8(native, model, tmp)
        names = [f.file for f in FORMATS if f.precision == "int8"]
        meta = publish(tmp, out, meta, names)
    if cfg.epochs > 0 and val is not None:
        q_probs, _ = _openvino_probs(out, val)
        acc[name] = evaluate.summary(q_probs, targets, window)
        acc[name]["agreement_with_fp32"] = evaluate.agreement(q_probs, fp32_probs)
        log(f"  QAT-INT8 top-1 {acc[name]['top1']:.2f} % (OpenVINO)")
    meta["accuracy"] = acc
    meta["quantization"] = {
        "complete": True,
        "method": "NNCF QAT" if cfg.epochs > 0 else "NNCF PTQ", "int8_from": name,
        "nncf": __import__("nncf").__version__, "config": asdict(cfg),
        "quantizers": qat.count_quantizers(qstep), "calibration_items": len(items),
        "qat_batches": len(losses), "qat_loss_first_last": losses[:1] + losses[-1:],
        "qat_holdout_checks": [[s, round(v, 6)] for s, v in tuned["checks"]],
        "qat_kept_step": tuned["kept_step"],
        "float_ops": [] if cfg.wkv_int8 else ["matmul", "mul", "sum"],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    meta["parity"]["int8"] = parity(out, native, "int8", model)
    write_json(out / METADATA, meta)
    return meta

