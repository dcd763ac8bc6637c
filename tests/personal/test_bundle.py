"""tools/bundle_model.py: the bundle carries the export's FP32 checkpoint.pt (what `lcr-edge
finetune` starts from without --model), hashed in model.json, and refuses an export without one."""

import json

import numpy as np
import pytest
from personal_data import bundle_tool, clip_frames, fake_export

from lcr_edge.errors import LCRError
from lcr_edge.io import file_sha256


def evals(tmp_path):
    clip, stream = tmp_path / "clip.json", tmp_path / "stream.json"
    clip.write_text(json.dumps({"clips": 4, "top1_paper": 0.5}))
    stream.write_text(json.dumps({"event_accuracy": 0.5, "per_stream": []}))
    return ["--clip-eval", str(clip), "--stream-eval", str(stream), "--train-command", "train",
            "--data-command", "synth"]


def test_bundle_copies_the_checkpoint_and_lists_it(tmp_path, tiny_base):
    export = fake_export(tmp_path / "export", tiny_base)
    out = tmp_path / "assets" / "model"
    bundle_tool().main([str(export), "--out", str(out), *evals(tmp_path)])
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt", "model.json", "model_int8.onnx", "model_int8_stateful.bin",
        "model_int8_stateful.xml"]
    assert file_sha256(out / "checkpoint.pt") == file_sha256(tiny_base)
    meta = json.loads((out / "model.json").read_text())
    assert meta["files"]["torch"]["checkpoint"]["sha256"] == file_sha256(tiny_base)
    assert set(meta["files"]) == {"int8", "torch"} and meta["bundled"]["train_command"] == "train"
    assert not list(tmp_path.glob("assets/*.partial"))

    from lcr_edge.runtime import Recognizer

    rec = Recognizer.open(out, backend="torch")  # the checkpoint as listed, hash checked
    assert rec.labels == meta["labels"]
    assert np.isclose(rec.step(clip_frames(0, 1)[0]).sum(), 1.0, atol=1e-4)


def test_bundle_refuses_an_export_without_checkpoint_and_keeps_the_old_bundle(tmp_path,
                                                                             tiny_base):
    tool = bundle_tool()
    out = tmp_path / "model"
    tool.bundle(fake_export(tmp_path / "good", tiny_base), out, {})
    before = file_sha256(out / "model.json")
    bare = fake_export(tmp_path / "bare", tiny_base, with_checkpoint=False)
    with pytest.raises(SystemExit) as exit_:
        tool.main([str(bare), "--out", str(out), *evals(tmp_path)])
    msg = str(exit_.value.code)
    assert msg.startswith(f"error: {bare}: no checkpoint.pt") and "\n" not in msg
    assert file_sha256(out / "model.json") == before and (out / "checkpoint.pt").is_file()

    (tmp_path / "good" / "checkpoint.pt").write_bytes(b"other weights")  # not the one hashed
    with pytest.raises(LCRError, match="sha256 differs"):
        tool.bundle(tmp_path / "good", out, {})
