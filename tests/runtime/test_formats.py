"""The formats table (lcr_edge.artifact.FORMATS) drives what export writes, what the runtime opens
and what bench runs; every command that takes --backend names an unknown one the same way."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from lcr_edge import artifact
from lcr_edge.artifact import FORMATS, find_format, read_metadata, runnable
from lcr_edge.bench import configurations
from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.runtime import Recognizer, default_precision, open_backend

UNKNOWN = "unknown backend 'tensorrt'; choose one of openvino, onnxruntime, torch"


def listed(meta) -> set:
    return {(group, kind) for group, kinds in meta["files"].items() for kind in kinds}


def test_every_row_is_a_file_of_a_quantized_export_and_nothing_else_is(tiny_int8):
    meta = read_metadata(tiny_int8)
    assert listed(meta) == {(f.group, f.kind) for f in FORMATS}
    for f in FORMATS:
        assert meta["files"][f.group][f.kind]["path"] == f.file
        assert (tiny_int8 / f.file).is_file()
        if f.file.endswith(".xml"):
            assert (tiny_int8 / f.file.replace(".xml", ".bin")).is_file()


@pytest.mark.parametrize("fmt", ["onnx", "openvino", "all"])
def test_export_writes_the_rows_of_the_backends_its_format_names(tmp_path, fmt):
    import tiny_models as testing

    from lcr_edge.model.checkpoint import load_checkpoint, read_checkpoint
    from lcr_edge.quantize.export import export_fp32

    ckpt = testing.tiny_checkpoint(tmp_path / "t.pt", dim=16, num_classes=3)
    model, _ = load_checkpoint(ckpt)
    meta = export_fp32(model, read_checkpoint(ckpt), ckpt, tmp_path / "out", fmt)
    want = [f for f in FORMATS if f.precision == "fp32" and f.backend in artifact.EXPORT_FORMATS[fmt]]
    assert listed(meta) == {(f.group, f.kind) for f in want}
    on_disk = {p.name for p in (tmp_path / "out").iterdir()} - {"model.json"}
    assert on_disk == {f.file for f in want} | {f.file.replace(".xml", ".bin") for f in want
                                                  if f.file.endswith(".xml")}


def test_the_runtime_opens_each_rows_file(tiny_int8):
    for f in FORMATS:
        kw = {"stateful": f.stateful} if f.backend == "openvino" else {}
        backend = open_backend(tiny_int8, f.backend, f.precision, threads=1, **kw)
        assert backend.path == tiny_int8 / f.file, f
    # without a choice, OpenVINO opens its first row of a precision: the stateful IR
    assert open_backend(tiny_int8, "openvino", "fp32").path.name == "model_fp32_stateful.xml"


def test_default_precision_and_bench_follow_the_rows_the_folder_lists(tiny_fp32, tiny_int8):
    fp32, int8 = read_metadata(tiny_fp32), read_metadata(tiny_int8)
    assert [f.file for f in runnable(int8, "openvino")] == ["model_int8_stateful.xml",
                                                            "model_fp32_stateful.xml"]
    assert [f.precision for f in runnable(fp32, "onnxruntime")] == ["fp32"]
    assert [default_precision(int8, b) for b in artifact.BACKENDS] == ["int8", "int8", "fp32"]
    assert configurations(int8, list(artifact.BACKENDS)) == [
        ("openvino", "int8"), ("openvino", "fp32"), ("onnxruntime", "int8"), ("onnxruntime", "fp32"),
        ("torch", "fp32")]
    # a folder whose model.json lists no stateful IR has nothing for OpenVINO to run by default
    no_stateful = {**fp32, "files": {**fp32["files"], "fp32": {
        k: v for k, v in fp32["files"]["fp32"].items() if k != "openvino_stateful"}}}
    assert runnable(no_stateful, "openvino") == []
    assert configurations(no_stateful, ["openvino"]) == []


def test_rows_a_backend_lacks_are_one_clear_error(tiny_int8):
    assert find_format("torch", "fp32").file == "checkpoint.pt"
    with pytest.raises(LCRError, match="the torch backend runs FP32 only, not int8"):
        find_format("torch", "int8")
    with pytest.raises(LCRError, match="no stateful fp32 model"):
        find_format("onnxruntime", "fp32", stateful=True)
    with pytest.raises(LCRError, match="FP32 only"):
        Recognizer.open(tiny_int8, backend="torch", precision="int8")


def test_an_unknown_backend_is_one_message_everywhere(tiny_fp32, tmp_path):
    from lcr_edge.loader import load_recognizer

    for call in (lambda: artifact.check_backend("tensorrt"),
                 lambda: Recognizer.open(tiny_fp32, backend="tensorrt"),
                 lambda: Recognizer.open(tiny_fp32 / "checkpoint.pt", backend="tensorrt"),
                 lambda: open_backend(tiny_fp32, "tensorrt", "fp32"),
                 lambda: load_recognizer(tiny_fp32, "tensorrt"),
                 lambda: runnable(read_metadata(tiny_fp32), "tensorrt")):
        with pytest.raises(LCRError) as err:
            call()
        assert str(err.value) == UNKNOWN
    for args in (["run", "--source", "demo", "--model", str(tiny_fp32), "--seconds", "1"],
                 ["app"],
                 ["bench", "--model", str(tiny_fp32), "--no-peak", "--frames", "1"],
                 ["eval", "--model", str(tiny_fp32), "--data", str(tmp_path)],
                 ["eval", "--model", str(tiny_fp32), "--stream", "--streams", "1"]):
        res = CliRunner().invoke(app, [*args, "--backend", "tensorrt"])
        assert isinstance(res.exception, LCRError) and str(res.exception) == UNKNOWN, (args, res.output)


def test_a_folder_listing_a_file_under_an_unknown_kind_is_still_read(tiny_fp32, tmp_path):
    """model.json from a newer export may list more files: the rows the runtime knows still open."""
    folder = tmp_path / "m"
    shutil.copytree(tiny_fp32, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["files"]["fp32"]["tflite"] = meta["files"]["fp32"]["onnx"]
    (folder / "model.json").write_text(json.dumps(meta))
    rec = Recognizer.open(folder, backend="onnxruntime")
    assert rec.precision == "fp32"
