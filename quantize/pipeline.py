"""`lcr-edge quantize`: checkpoint + data -> an artifact folder with FP32 and INT8 models.

    1. FP32 export (quantize.export) and FP32 validation top-1 (PyTorch)
    2. PTQ: NNCF calibration on training clips -> INT8 ONNX/IR in a scratch folder -> top-1 (OpenVINO)
    3. QAT: fine-tune the PTQ model through the step loop -> INT8 ONNX (QDQ) + IR stateless and
       stateful into the folder -> top-1 (OpenVINO) and per-frame top-1 agreement with FP32
Accuracies of INT8 are measured on the exported OpenVINO files (what a user runs), FP32 in PyTorch
(the export matches it to ~1e-6); all through training.evaluate.

`lcr-edge finetune` chains training.finetune and this export: `finetune_and_export`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from lcr_edge.artifact import FILES, FORMATS, METADATA, file_entry
from lcr_edge.io import building, write_json
from lcr_edge.labels import CLIP_FRAMES
from lcr_edge.model.checkpoint import load_checkpoint
from lcr_edge.quantize import extensions, qat
from lcr_edge.quantize.export import (
    export_fp32,
    export_onnx,
    onnx_to_openvino,
    parity,
    publish,
    staging,
)
from lcr_edge.quantize.step import StepModule, example_inputs
from lcr_edge.training.data import clips_for_model, hold_out, make_loader
from lcr_edge.training.evaluate import agreement, backend_probs, predict, score_window, step_probs


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
    fake_quant: str = "auto"  # NNCF's C++ extension, or "torch": its pure-PyTorch functions


def _export_int8(native, model, folder: Path) -> None:
    """Fake-quantized step (torch.fake_quantize) -> INT8 ONNX (QDQ) + IR stateless and stateful
    (OpenVINO turns the QDQ pairs into FakeQuantize: INT8 kernels)."""
    onnx_path = export_onnx(native, example_inputs(model), folder / FILES[("int8", "onnx")])
    onnx_to_openvino(onnx_path, folder, "int8")


def _openvino_int8(folder: Path, loader, ckpt: dict, threads=None):
    """The folder's INT8 OpenVINO file over the clips of `loader` -> training.evaluate.EvalResult."""
    from lcr_edge.runtime import OpenVINOBackend

    backend = OpenVINOBackend(folder, _scratch_meta(folder), "int8", threads, True, False)
    return predict(backend_probs(backend), loader, ckpt["labels"], score_window(ckpt))


def _scratch_meta(folder: Path) -> dict:
    import json

    return json.loads((folder / METADATA).read_text())


def quantize_checkpoint(ckpt_path: Path, data: Path, out: Path, cfg: QuantizeConfig,
                        log=print) -> dict:
    """The whole pipeline on a dataset folder; returns model.json's content."""
    model, ckpt = load_checkpoint(ckpt_path)
    if cfg.frames is None:
        cfg.frames = int((ckpt.get("sampling") or ckpt.get("train_config") or {}).get("frames")
                         or CLIP_FRAMES)

    def loader(ds, shuffle=False):
        return make_loader(ds, cfg.batch_size, shuffle, cfg.workers)

    val = clips_for_model(data, "validation", ckpt, cfg.frames, limit=cfg.val_limit)
    train = clips_for_model(data, "train", ckpt, cfg.frames, train=True, limit=cfg.train_limit)
    held = None
    if cfg.epochs > 0 and cfg.holdout:  # training clips QAT picks its step on, never trains on
        train, held = hold_out(train, cfg.holdout)
    return quantize_model(model, ckpt, Path(ckpt_path), Path(out), loader(train, shuffle=True),
                          loader(val), cfg, log, holdout=loader(held) if held else None)


def quantize_model(model, ckpt: dict, ckpt_path: Path, out: Path, train, val, cfg: QuantizeConfig,
                   log=print, holdout=None) -> dict:
    """train, val, holdout: re-iterables of training.data batches or of (frames [B,F,3,S,S],
    edges [B,F,1,S,S], labels [B]); val None skips the accuracy table (tests); holdout None: QAT
    keeps its last step. The folder is built beside `out` and takes its place when complete."""
    with building(out) as work:
        return _quantize_into(model, ckpt, ckpt_path, work, train, val, cfg, log, holdout)


def _quantize_into(model, ckpt: dict, ckpt_path: Path, out: Path, train, val, cfg: QuantizeConfig,
                   log, holdout) -> dict:
    t0 = time.perf_counter()
    torch.manual_seed(0)
    acc, fp32 = {}, None
    if val is not None:
        log("FP32: validating in PyTorch ...")
        fp32 = predict(step_probs(StepModule(model)), val, ckpt["labels"], score_window(ckpt))
        acc["fp32"] = fp32.summary()
        log(f"  FP32 top-1 {acc['fp32']['top1']:.2f} % ({len(fp32.targets)} clips)")
    meta = export_fp32(model, ckpt, ckpt_path, out, "all", accuracy=acc.get("fp32"), whole_folder=False)
    # until the INT8 files are in, the folder says so (it is published only when complete; this
    # guards a folder copied or moved by hand half-way)
    meta["quantization"] = {"complete": False}
    write_json(out / METADATA, meta)

    # QAT runs NNCF's quantizers many times: worth their C++ extension; PTQ only a few times
    mode = "torch" if cfg.fake_quant == "auto" and cfg.epochs == 0 else cfg.fake_quant
    fake_quant = extensions.choose_fake_quant(mode, log=log) if cfg.device == "cpu" else "cuda"
    log(f"PTQ: calibrating on {cfg.calibration} frames of training clips ...")
    items = qat.calibration_items(model.to(cfg.device), train, cfg.calibration)
    qstep = qat.quantize_ptq(model, items, cfg.wkv_int8)
    model.cpu()
    if val is not None:
        with staging(out) as scratch:
            _export_int8(qat.to_native_fake_quant(qstep), model, scratch)
            write_json(scratch / METADATA, {**meta, "files": {"int8": {
                k: file_entry(scratch, FILES[("int8", k)]) for k in ("onnx", "openvino_stateful")}}})
            ptq = _openvino_int8(scratch, val, ckpt)
        acc["ptq_int8"] = ptq.summary()
        acc["ptq_int8"]["agreement_with_fp32"] = agreement(ptq.probs, fp32.probs)
        log(f"  PTQ-INT8 top-1 {acc['ptq_int8']['top1']:.2f} % (OpenVINO)")

    tuned = {"losses": [], "checks": [], "kept_step": None}
    if cfg.epochs > 0:
        log(f"QAT: fine-tuning {cfg.epochs} epoch(s) on the training split ...")
        teacher = StepModule(model).eval() if cfg.distill > 0 else None
        tuned = qat.fine_tune(qstep, train, cfg.epochs, cfg.lr, cfg.steps, teacher=teacher,
                              distill=cfg.distill, holdout=holdout, check_every=cfg.check_every)
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
        qat_int8 = _openvino_int8(out, val, ckpt)
        acc[name] = qat_int8.summary()
        acc[name]["agreement_with_fp32"] = agreement(qat_int8.probs, fp32.probs)
        log(f"  QAT-INT8 top-1 {acc[name]['top1']:.2f} % (OpenVINO)")
    meta["accuracy"] = acc
    meta["quantization"] = {
        "complete": True,
        "method": "NNCF QAT" if cfg.epochs > 0 else "NNCF PTQ", "int8_from": name,
        "nncf": __import__("nncf").__version__, "fake_quant": fake_quant, "config": asdict(cfg),
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



def export_finetuned(tuned, cfg, out: Path, log=print) -> dict:
    """A training.finetune.Finetuned model -> `quantize_model`: FP32 + INT8 (ONNX, OpenVINO stateless
    and stateful) + model.json in `out`, PTQ calibrated on its training clips (cfg.qat_steps QAT
    steps after), held-out accuracy of FP32 and INT8 recorded in it. -> the report's "export"."""
    import logging
    import tempfile
    import warnings

    import nncf  # noqa: F401  (imported first: importing it sets its logger to INFO)

    from lcr_edge.model.checkpoint import read_checkpoint

    logging.getLogger("nncf").setLevel(logging.WARNING)  # its INFO lines drown our progress
    t0 = time.perf_counter()
    qcfg = QuantizeConfig(epochs=1 if cfg.qat_steps else 0, steps=cfg.qat_steps or None,
                          batch_size=cfg.batch, frames=tuned.sampling.frames,
                          calibration=cfg.calibration, workers=0)
    held = tuned.clips(held=True)
    extra = tuned.checkpoint_extra()
    with tempfile.TemporaryDirectory(prefix=".finetune-", dir=out) as tmp:
        ckpt_path = Path(tmp) / "finetuned.pt"
        tuned.save(ckpt_path)
        ckpt = read_checkpoint(ckpt_path)
        val = make_loader(held, cfg.batch, workers=0) if held else None
        with warnings.catch_warnings():  # quantize's frame agreement is NaN for clips of <= 10
            warnings.simplefilter("ignore", RuntimeWarning)  # frames (it looks after frame 10)
            meta = quantize_model(tuned.model, ckpt, ckpt_path, out,
                                  make_loader(tuned.clips(held=False), cfg.batch, workers=0), val,
                                  qcfg, log=log)
    meta["finetune"] = extra["finetune"]
    write_json(out / METADATA, meta)
    acc = meta.get("accuracy", {})
    seconds = round(time.perf_counter() - t0, 1)
    log(f"exported to {out} in {seconds:.0f} s: " + ", ".join(
        f"{p}/{k}" for p, ks in meta["files"].items() for k in ks))
    return {"seconds": seconds, "accuracy": {k: v.get("top1") for k, v in acc.items()},
            "files": sorted(meta["files"])}


def finetune_and_export(cfg, log=print, progress=None) -> dict:
    """`lcr-edge finetune`: training.finetune.finetune (cfg: its FinetuneConfig), then (cfg.export)
    `export_finetuned` into cfg.out, else OUT/finetuned.pt; returns the report, also written to
    OUT/finetune.json."""
    from lcr_edge.training.finetune import finetune

    t_start = time.perf_counter()
    tuned = finetune(cfg, log, progress)
    out = Path(cfg.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    report = tuned.report
    if cfg.export:
        report["export"] = export_finetuned(tuned, cfg, out, log)
    else:
        tuned.save(out / "finetuned.pt")
    report["total_seconds"] = round(time.perf_counter() - t_start, 1)
    write_json(out / "finetune.json", report)
    return report
