"""INT8: NNCF quantizers -> plain QDQ, INT8 ONNX and OpenVINO (stateful == stateless), bench."""

import json

import numpy as np
import onnx
import pytest
import tiny_models as testing
import torch
from typer.testing import CliRunner

from lcr_edge.artifact import read_metadata
from lcr_edge.cli import app
from lcr_edge.model.lcr import rollout
from lcr_edge.preprocess import Preprocess
from lcr_edge.quantize import qat
from lcr_edge.quantize.step import StepModule, example_inputs
from lcr_edge.runtime import Recognizer, open_backend


def test_native_fake_quant_matches_nncf(tmp_path):
    from lcr_edge.model.checkpoint import load_checkpoint

    # random weights with eq. 1's patch stem and the mean head: the distillation check below was
    # set on that model (with the max head a few steps can move a random student either way)
    model, _ = load_checkpoint(testing.tiny_checkpoint(tmp_path / "t.pt", dim=16, num_classes=3,
                                                       head="mean", motion="none", stem="patch"))
    items = qat.calibration_items(model, testing.random_batches(1, 1, 6, 3), max_items=6, every=1)
    qstep = qat.quantize_ptq(model, items)
    counts = qat.count_quantizers(qstep)
    assert counts["weights"] >= 8 and counts["activations"] >= 8
    native = qat.to_native_fake_quant(qstep)
    assert qat.count_quantizers(native) == counts
    x, e, _ = testing.random_batches(1, 1, 6, 3, seed=5)[0]
    with torch.no_grad():
        a, b, f = (rollout(step, x, e)[0] for step in (qstep, native, StepModule(model)))
    assert (a - b).abs().max() < 1e-4
    assert 0 < (a - f).abs().max() < 0.5 * f.abs().max()  # quantized: close, not identical
    # QAT steps update the weights and keep the model finite
    before = [p.detach().clone() for p in qstep.parameters()]
    losses = qat.fine_tune(qstep, testing.random_batches(2, 2, 4, 3), epochs=1, lr=1e-3)["losses"]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert any((p - q).abs().max() > 0 for p, q in zip(qstep.parameters(), before, strict=True))
    assert torch.isfinite(qstep(*example_inputs(model))[0]).all()
    # Distillation (the default QAT loss): zero against itself, positive against the INT8 student,
    # and fine-tuning on it moves the student's outputs towards FP32's.
    teacher = StepModule(model)
    frames, edges, labels = testing.random_batches(1, 2, 4, 3, seed=7)[0]
    self_kl, _ = qat.rollout_loss(teacher, (frames, edges, labels), teacher=teacher, distill=1.0)
    assert abs(float(self_kl)) < 1e-6
    gap = [float(qat.rollout_loss(qstep, (frames, edges, labels), teacher=teacher, distill=1.0)[0])]
    qat.fine_tune(qstep, [(frames, edges, labels)] * 6, epochs=1, lr=3e-4, teacher=teacher,
                  distill=1.0)  # lr 1e-3 overshoots the max head's 2e-4 gap on this noise
    gap.append(float(qat.rollout_loss(qstep, (frames, edges, labels), teacher=teacher, distill=1.0)[0]))
    assert 0 < gap[1] < gap[0]
    with pytest.raises(ValueError, match="teacher"):
        qat.fine_tune(qstep, [(frames, edges, labels)], distill=0.5)
    # Held-out selection: steps that help on the holdout clips are kept, steps that wreck the
    # model are not (step 0 = the weights QAT started from).
    held = [(frames, edges, labels)]
    tuned = qat.fine_tune(qstep, held * 4, epochs=1, lr=1e-3, teacher=teacher, distill=1.0,
                          holdout=held, check_every=2)
    assert [c[0] for c in tuned["checks"]] == [0, 2, 4]
    assert tuned["kept_step"] == min(tuned["checks"], key=lambda c: c[1])[0]
    kept = qat.holdout_loss(qstep, held, teacher, 1.0)
    assert abs(kept - min(c[1] for c in tuned["checks"])) < 1e-6
    before = [p.detach().clone() for p in qstep.parameters()]
    wrecked = qat.fine_tune(qstep, held * 3, epochs=1, lr=0.5, teacher=teacher, distill=1.0,
                            holdout=held, check_every=1)
    assert wrecked["kept_step"] == 0 and max(c[1] for c in wrecked["checks"]) > kept
    assert all(torch.equal(p, q) for p, q in zip(qstep.parameters(), before, strict=True))


def test_int8_onnx_is_plain_qdq(tiny_int8):
    m = onnx.load(str(tiny_int8 / "model_int8.onnx"))
    onnx.checker.check_model(m, full_check=True)
    ops = {n.op_type for n in m.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert {n.domain for n in m.graph.node} <= {"", "ai.onnx"}  # no custom NNCF ops


def test_int8_metadata_and_parity(tiny_int8):
    meta = read_metadata(tiny_int8)
    assert set(meta["files"]["int8"]) == {"onnx", "openvino", "openvino_stateful"}
    assert set(meta["files"]["fp32"]) == {"onnx", "openvino", "openvino_stateful"}
    assert meta["quantization"]["method"] == "NNCF QAT"
    # exported INT8 files against the fake-quantized PyTorch step: rounding-boundary differences
    # only, on a CPU with VNNI. Without it (AVX2 only) the backends' u8 x s8 products can saturate
    # their 16-bit sums, since quantize turns NNCF's overflow fix off: 0.04-0.05 on this random
    # model (measured on a 2-core AVX2 EPYC; with the fix on it is under 1e-2 there too).
    bound = 1e-2 if testing.has_vnni() else 0.1
    assert all(v < bound for v in meta["parity"]["int8"].values()), meta["parity"]


def test_int8_stateful_equals_stateless_and_reset(tiny_int8):
    meta = read_metadata(tiny_int8)
    pre = Preprocess.from_dict(meta)
    pairs = [pre(f) for f in testing.clip(40)]
    x, e = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    outs = {}
    for stateful in (True, False):
        b = open_backend(tiny_int8, "openvino", "int8", stateful=stateful)
        outs[stateful] = np.stack([b.infer(x[t : t + 1], e[t : t + 1]) for t in range(40)])
    np.testing.assert_allclose(outs[True], outs[False], atol=1e-5, rtol=0)
    ort = open_backend(tiny_int8, "onnxruntime", "int8")
    got = np.stack([ort.infer(x[t : t + 1], e[t : t + 1]) for t in range(40)])
    # two runtimes' INT8 kernels: within 5 % of the largest logit with VNNI; without it each
    # saturates its own way (14 % measured on a 2-core AVX2 EPYC), see the parity test above
    share = 0.05 if testing.has_vnni() else 0.25
    assert np.abs(got - outs[True]).max() < share * np.abs(outs[True]).max() + 1e-3
    rec = Recognizer.open(tiny_int8)
    first = [rec.step(f) for f in testing.clip(5)]
    rec.reset()
    np.testing.assert_array_equal([rec.step(f) for f in testing.clip(5)], first)


def test_bench_cli_json(tiny_int8):
    res = CliRunner().invoke(app, ["bench", "--model", str(tiny_int8), "--backend", "onnxruntime",
                                   "--backend", "openvino", "--frames", "5", "--no-peak",
                                   "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {(r["backend"], r["precision"]): r for r in out["rows"]}
    assert set(rows) == {("onnxruntime", "int8"), ("onnxruntime", "fp32"),
                         ("openvino", "int8"), ("openvino", "fp32")}
    for r in rows.values():
        assert r["latency_ms"]["median"] > 0 and r["fps"] > 0 and r["peak_rss_mb"] > 10
        assert set(r["stages_ms"]) == {"preprocess", "edges", "inference"}
        assert not r["torch_imported"]
        assert r["macs_per_frame"] == read_metadata(tiny_int8)["macs_per_frame"]


def test_matmul_peak_probe_runs_an_int8_kernel_for_int8():
    """The 'of peak' column compares INT8 rows with an INT8 product, not an FP32 fallback."""
    from lcr_edge.bench import matmul_peak

    peak = matmul_peak(1, seconds=0.02, shape=(64, 256, 256))
    assert "i8" in peak["kernels"]["int8"].lower()
    assert "f32" in peak["kernels"]["fp32"].lower()
    assert peak["int8"] > 0 and peak["fp32"] > 0


def test_bench_profile_says_where_openvino_spends_its_time(tiny_int8):
    res = CliRunner().invoke(app, ["bench", "--model", str(tiny_int8), "--backend", "openvino",
                                   "--precision", "int8", "--frames", "5", "--no-peak",
                                   "--threads", "1", "--profile", "--json"])
    assert res.exit_code == 0, res.output
    (prof,) = json.loads(res.output)["openvino_profile"]
    assert prof["precision"] == "int8" and prof["frames"] == 5
    types = {r["type"]: r for r in prof["rows"]}
    # the INT8 model's quantized layers run INT8 kernels, and the parts add up to the total
    assert any("i8" in k.lower() for r in types.values() for k in r["kernels"])
    assert all(r["ms"] >= 0 and r["layers"] >= 1 for r in prof["rows"])
    assert prof["total_ms"] > 0
    assert abs(sum(r["ms"] for r in prof["rows"]) - prof["total_ms"]) < 0.5 * prof["total_ms"]
    res = CliRunner().invoke(app, ["bench", "--model", str(tiny_int8), "--backend", "openvino",
                                   "--precision", "int8", "--frames", "5", "--no-peak",
                                   "--threads", "1", "--profile"])
    assert res.exit_code == 0 and "by layer type" in res.output, res.output


def test_eval_of_an_exported_folder_runs_its_int8_file_clip_by_clip(tiny_int8, tmp_path):
    """`lcr-edge eval --model FOLDER --data DIR`: clip accuracy of what users deploy."""
    import sys
    from pathlib import Path

    from lcr_edge.labels import JESTER_LABELS

    sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
    from jester_fixture import make_jester

    data = make_jester(tmp_path / "jester", per_class=0, frames=8, labels=JESTER_LABELS[:5])
    res = CliRunner().invoke(app, ["eval", "--model", str(tiny_int8), "--data", str(data),
                                   "--frames", "4", "--workers", "0", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert m["clips"] == 5 and set(m["per_class"]) == set(JESTER_LABELS[:5])
    assert m["top5_paper"] == 1.0  # 5 classes
    assert (tiny_int8 / "eval-validation" / "metrics.json").is_file()
    res = CliRunner().invoke(app, ["eval", "--model", str(tiny_int8), "--data", str(data),
                                   "--backend", "torch"])
    assert "openvino or onnxruntime" in str(res.exception)


def test_quantize_cli_on_a_dataset_folder_holds_out_training_clips(tmp_path):
    """`lcr-edge quantize CKPT --data DIR`: the whole path a user runs, on a tiny Jester folder.
    12 training clips: 3 held out (a quarter; --holdout 64 asks for more), QAT checks them."""
    import sys
    from pathlib import Path

    from lcr_edge.labels import JESTER_LABELS

    sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
    from jester_fixture import make_jester

    data = make_jester(tmp_path / "jester", per_class=4, frames=4, labels=JESTER_LABELS[:3])
    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16, num_classes=3)
    out = tmp_path / "int8"
    res = CliRunner().invoke(app, ["quantize", str(ckpt), "--data", str(data), "--out", str(out),
                                   "--steps", "2", "--check-every", "1", "--calibration", "8",
                                   "--frames", "4", "--batch-size", "2", "--workers", "0"])
    assert res.exit_code == 0, res.output
    assert "PTQ-INT8" in res.output and "QAT-INT8" in res.output
    assert "INFO:nncf" not in res.output and f"next: lcr-edge run --model {out}" in res.output
    meta = read_metadata(out)
    q = meta["quantization"]
    assert [c[0] for c in q["qat_holdout_checks"]] == [0, 1, 2]
    # the step kept is the one the held-out clips liked best
    assert q["qat_kept_step"] == min(q["qat_holdout_checks"], key=lambda c: c[1])[0]
    assert q["qat_batches"] == 2 and q["fake_quant"] in ("extension", "torch")
    assert {"fp32", "ptq_int8", "qat_int8"} <= set(meta["accuracy"])
    assert meta["accuracy"]["fp32"]["clips"] == 3
    rec = Recognizer.open(out)
    assert rec.precision == "int8" and rec.step(testing.clip(1)[0]).shape == (3,)
    from lcr_edge.model.checkpoint import read_checkpoint
    from lcr_edge.training.data import clips_for_model, hold_out

    train = clips_for_model(data, "train", read_checkpoint(ckpt), frames=4, train=True)
    rest, held = hold_out(train, 64)
    assert len(held) == 3 and len(rest) == 9 and rest.train and not held.train
    assert not {x.key for x in held.clips} & {x.key for x in rest.clips}
    assert len(hold_out(train, 2)[1]) == 2 and hold_out(train, 0)[1] is None
