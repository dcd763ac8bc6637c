"""FP32 export: ONNX validity, parity with PyTorch over a 40-frame clip with state carried,
stateful == stateless, model.json contents, clear errors for broken folders."""

import json
import shutil

import numpy as np
import onnx
import pytest
import tiny_models as testing
import torch

from lcr_edge.artifact import read_metadata
from lcr_edge.errors import LCRError
from lcr_edge.model.checkpoint import load_checkpoint
from lcr_edge.preprocess import Preprocess
from lcr_edge.runtime import Recognizer, open_backend


def clip_inputs(meta, n=40):
    pre = Preprocess.from_dict(meta)
    pairs = [pre(f) for f in testing.clip(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def torch_logits(folder, x, e):
    model, _ = load_checkpoint(folder / "checkpoint.pt")
    state, out = model.initial_state(1), []
    with torch.no_grad():
        for t in range(len(x)):
            logits, state = model.step(torch.from_numpy(x[t : t + 1]),
                                       torch.from_numpy(e[t : t + 1]), state)
            out.append(logits[0].numpy())
    return np.stack(out)


def backend_logits(folder, backend, precision="fp32", x=None, e=None, **kw):
    b = open_backend(folder, backend, precision, **kw)
    return np.stack([b.infer(x[t : t + 1], e[t : t + 1]) for t in range(len(x))])


def test_onnx_is_valid_static_and_opset_17_plus(tiny_fp32):
    m = onnx.load(str(tiny_fp32 / "model_fp32.onnx"))
    onnx.checker.check_model(m, full_check=True)
    assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 17
    dims = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input}
    meta = read_metadata(tiny_fp32)
    assert dims == {"frame": [1, 3, 112, 112], "edge": [1, 1, 112, 112],
                    "state": meta["state"][0]["shape"]}
    assert [o.name for o in m.graph.output] == ["logits", "new_state"]


def test_fp32_parity_over_40_frames_with_state_carried(tiny_fp32):
    meta = read_metadata(tiny_fp32)
    x, e = clip_inputs(meta)
    assert e.sum() > 0  # edges present, so the edge path is exercised
    ref = torch_logits(tiny_fp32, x, e)
    ort = backend_logits(tiny_fp32, "onnxruntime", x=x, e=e)
    ov_stateful = backend_logits(tiny_fp32, "openvino", x=x, e=e)
    ov_stateless = backend_logits(tiny_fp32, "openvino", x=x, e=e, stateful=False)
    assert np.abs(ref[1:] - ref[:-1]).max() > 1e-3  # the logits do move over the clip
    for got in (ort, ov_stateful, ov_stateless):
        assert np.abs(got - ref).max() < 1e-3
    np.testing.assert_allclose(ov_stateful, ov_stateless, atol=1e-5, rtol=0)


def test_metadata_describes_the_model(tiny_fp32):
    meta = read_metadata(tiny_fp32)
    model, ckpt = load_checkpoint(tiny_fp32 / "checkpoint.pt")
    assert meta["labels"] == ckpt["labels"] and meta["num_classes"] == 5
    assert Preprocess.from_dict(meta) == Preprocess.from_dict(ckpt["preprocess"])
    assert meta["frame_rate"] == 12.0 and meta["colour_order"] == "RGB"
    assert meta["state"][0]["shape"] == list(model.config.state_shape)
    assert meta["macs_per_frame"] > 1e6 and meta["variant"] == "lcr-s"
    assert len(meta["source_checkpoint"]["sha256"]) == 64
    assert set(meta["files"]["fp32"]) == {"onnx", "openvino", "openvino_stateful"}
    assert all(v < 1e-3 for v in meta["parity"]["fp32"].values())


def broken_copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_missing_folder_and_metadata_fail_clearly(tmp_path, tiny_fp32):
    with pytest.raises(LCRError, match="no such model folder"):
        Recognizer.open(tmp_path / "nope")
    with pytest.raises(LCRError, match="model.json: missing"):
        Recognizer.open(tmp_path)
    d = broken_copy(tiny_fp32, tmp_path)
    (d / "model.json").write_text("{not json")
    with pytest.raises(LCRError, match="not readable JSON"):
        Recognizer.open(d)


def test_partial_and_mismatched_folders_fail_clearly(tmp_path, tiny_fp32):
    d = broken_copy(tiny_fp32, tmp_path)
    (d / "model_fp32_stateful.bin").unlink()
    with pytest.raises(LCRError, match="model_fp32_stateful.bin: missing.*partial"):
        Recognizer.open(d, backend="openvino")
    shutil.copyfile(tiny_fp32 / "model_fp32.onnx", d / "model_fp32.onnx.bak")
    with open(d / "model_fp32.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(LCRError, match="sha256 differs"):
        Recognizer.open(d, backend="onnxruntime")
    # a model.json that describes another model (different state shape) than the files hold
    shutil.copyfile(d / "model_fp32.onnx.bak", d / "model_fp32.onnx")
    meta = json.loads((d / "model.json").read_text())
    meta["state"][0]["shape"][-1] = 64
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(LCRError, match="do not match model.json"):
        Recognizer.open(d, backend="onnxruntime")
    with pytest.raises(LCRError, match="no int8"):
        Recognizer.open(tiny_fp32, backend="openvino", precision="int8")
    # an input_size the graph does not take (a broadcast error at the first frame before)
    meta = json.loads((tiny_fp32 / "model.json").read_text())
    meta["input_size"] = [96, 96]
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(LCRError, match=r"input_size \[96, 96\] does not match inputs.frame"):
        Recognizer.open(d, backend="onnxruntime")


def test_export_cli_and_bad_checkpoint(tmp_path):
    from typer.testing import CliRunner

    from lcr_edge.cli import app

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    res = CliRunner().invoke(app, ["export", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and isinstance(res.exception, LCRError)
    assert not (tmp_path / "o" / "model.json").exists()
    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16, num_classes=3)
    res = CliRunner().invoke(app, ["export", str(ckpt), "--out", str(tmp_path / "o"),
                                   "--format", "onnx", "--frame-rate", "15"])
    assert res.exit_code == 0, res.output
    meta = read_metadata(tmp_path / "o")
    assert meta["frame_rate"] == 15.0 and set(meta["files"]["fp32"]) == {"onnx"}
    assert "exported lcr-s" in res.output


def test_the_exported_checkpoint_keeps_the_weights_but_not_the_optimizer(tmp_path):
    from lcr_edge.model.checkpoint import read_checkpoint, save_checkpoint
    from lcr_edge.quantize.export import export_fp32

    src = testing.tiny_checkpoint(tmp_path / "tiny.pt", dim=16)
    model, ckpt = load_checkpoint(src)
    trained = tmp_path / "trained.pt"  # as `lcr-edge train` writes it: with optimizer state
    save_checkpoint(trained, model, ckpt["labels"], Preprocess.from_dict(ckpt["preprocess"]),
                    optimizer={"state": {0: {"exp_avg": torch.ones(1000)}}}, rng=[1, 2], epoch=3)
    export_fp32(model, read_checkpoint(trained), trained, tmp_path / "out", formats="onnx")
    shipped = read_checkpoint(tmp_path / "out" / "checkpoint.pt")
    assert "optimizer" not in shipped and "rng" not in shipped and shipped["epoch"] == 3
    for k, v in ckpt["model"].items():
        assert torch.equal(shipped["model"][k], v), k
    assert (tmp_path / "out" / "checkpoint.pt").stat().st_size < trained.stat().st_size


def test_weights_with_nan_are_refused_at_export(tmp_path):
    from lcr_edge.model.checkpoint import read_checkpoint, save_checkpoint
    from lcr_edge.quantize.export import export_fp32

    model, ckpt = load_checkpoint(testing.tiny_checkpoint(tmp_path / "tiny.pt", dim=16))
    with torch.no_grad():
        model.head.weight[0, 0] = float("nan")
    bad = tmp_path / "nan.pt"
    save_checkpoint(bad, model, ckpt["labels"])
    with pytest.raises(LCRError, match="NaN or infinity"):
        export_fp32(model, read_checkpoint(bad), bad, tmp_path / "out", formats="onnx")
    assert not (tmp_path / "out").exists()
