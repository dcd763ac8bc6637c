"""finetune on tiny data: label mapping, what is trained, the budget, and the whole path
record -> finetune -> export -> Recognizer (marked slow: two INT8 exports)."""

import json

import numpy as np
import pytest
import torch
from personal_data import clip_frames, write_video
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.model.checkpoint import load_checkpoint
from lcr_edge.recording import RecordingSet
from lcr_edge.training.finetune import (
    FinetuneConfig,
    adapt_model,
    finetune,
    param_groups,
    resolve_base,
    split_clips,
)


def make_set(root, per_label=4, labels=("Swiping Left", "Swiping Right", "Waving Hello")):
    rs = RecordingSet.open(root)
    for kind, label in enumerate(labels):
        for k in range(per_label):
            rs.add_clip(label, clip_frames(kind, 12, seed=10 * kind + k))
    return root


def test_labels_keep_the_base_order_then_new_names_and_rows_are_copied(tmp_path, tiny_base):
    data = make_set(tmp_path / "set", labels=("Waving Hello", "Swiping Right", "Swiping Left"))
    base, ckpt = load_checkpoint(tiny_base)
    split = split_clips(data, list(ckpt["labels"]), holdout=0.25, seed=0)
    assert split.labels == ["Swiping Left", "Swiping Right", "Waving Hello"]
    assert split.new_labels == ["Waving Hello"]
    assert len(split.held) == 3 and len(split.train) == 9  # one of four per gesture held out
    assert not {c.key for c in split.held} & {c.key for c in split.train}
    model = adapt_model(base, split, seed=0)
    assert model.head.out_features == 3
    for i, lb in enumerate(split.labels[:2]):
        row = ckpt["labels"].index(lb)
        assert torch.equal(model.head.weight[i], base.head.weight[row])
    assert torch.equal(model.units[0].gate.key.weight, base.units[0].gate.key.weight)


@pytest.mark.parametrize("strategy,frozen", [("head", "units.0.gate.key.weight"),
                                             ("last", "pos_embed"), ("all", None)])
def test_each_strategy_trains_only_its_part(strategy, frozen, tiny_base):
    base, _ = load_checkpoint(tiny_base)
    groups = param_groups(base, strategy, 1e-3, 1e-4)
    named = dict(base.named_parameters())
    assert named["head.weight"].requires_grad
    if frozen:
        assert not named[frozen].requires_grad
    else:
        assert all(p.requires_grad for p in base.parameters())
    assert len(groups) == (1 if strategy == "head" else 2)
    with pytest.raises(LCRError, match="--train must be"):
        param_groups(base, "everything", 1e-3, 1e-4)


class FakeClock:
    """time.perf_counter that moves 1 s per call: the budget logic without a slow test."""

    def __init__(self):
        self.t = 0.0

    def perf_counter(self):
        self.t += 1.0
        return self.t


def test_training_stops_within_the_budget(tmp_path, tiny_base, monkeypatch):
    import lcr_edge.training.finetune
    import lcr_edge.training.loop
    from lcr_edge.quantize.pipeline import finetune_and_export

    data = make_set(tmp_path / "set")
    clock = FakeClock()
    monkeypatch.setattr(lcr_edge.training.finetune, "time", clock)
    monkeypatch.setattr(lcr_edge.training.loop, "time", clock)
    cfg = FinetuneConfig(model=str(tiny_base), data=str(data), out=str(tmp_path / "out"),
                         minutes=0.5, export=False, batch=4)  # no epoch cap: only the budget
    seen = []
    rep = finetune_and_export(cfg, log=lambda *a: None, progress=lambda s: seen.append(s.elapsed))
    assert 1 <= rep["steps"] < 10 and len(seen) == rep["steps"]
    assert max(seen) <= 30  # the last step ended inside 30 "s"
    assert rep["held_out_after"]["clips"] == 3
    assert json.loads((tmp_path / "out" / "finetune.json").read_text())["steps"] == rep["steps"]
    model, ckpt = load_checkpoint(tmp_path / "out" / "finetuned.pt")
    assert ckpt["labels"] == ["Swiping Left", "Swiping Right", "Waving Hello"]
    assert ckpt["frame_rate"] == 6.0 and ckpt["sampling"]["frames"] == 6


def test_clear_errors_for_missing_inputs(tmp_path, tiny_base):
    with pytest.raises(LCRError, match="not a gesture set"):
        finetune(FinetuneConfig(model=str(tiny_base), data=str(tmp_path), out=str(tmp_path / "o")))
    with pytest.raises(LCRError, match="no such checkpoint"):
        resolve_base(str(tmp_path / "missing.pt"))
    one = make_set(tmp_path / "one", labels=("Thumb Up",))
    with pytest.raises(LCRError, match="at least two gestures"):
        finetune(FinetuneConfig(model=str(tiny_base), data=str(one), out=str(tmp_path / "o")))


# quantize's frame-agreement metric looks after frame 10; these 6-frame clips have none (NaN)
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
@pytest.mark.slow  # two INT8 exports; the bundled-model test below runs one by default
def test_record_finetune_export_recognizer(tmp_path, tiny_base):
    """The user's path end to end through the CLI; the artifact runs in the app's runtime."""
    runner = CliRunner()
    data = tmp_path / "mine"
    for kind, label in enumerate(["Swiping Left", "Swiping Right", "Drawing Circle"]):
        video = write_video(tmp_path / f"{kind}.avi", clip_frames(kind, 40, seed=kind))
        res = runner.invoke(app, ["record", "--out", str(data), "--label", label, "--count", "3",
                                  "--seconds", "1", "--source", str(video), "--countdown", "0"])
        assert res.exit_code == 0, res.output
    out = tmp_path / "model"
    res = runner.invoke(app, ["finetune", "--model", str(tiny_base), "--data", str(data),
                              "--out", str(out), "--minutes", "0.1", "--batch", "3", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert report["new_labels"] == ["Drawing Circle"] and report["steps"] >= 1
    meta = json.loads((out / "model.json").read_text())
    assert meta["labels"] == ["Swiping Left", "Swiping Right", "Drawing Circle"]
    assert meta["finetune"]["new_labels"] == ["Drawing Circle"] and meta["frame_rate"] == 6.0
    assert {"onnx", "openvino_stateful"} <= set(meta["files"]["int8"])
    assert (out / "finetune.json").is_file()

    from lcr_edge.runtime import Recognizer

    for backend in ("openvino", "onnxruntime"):
        rec = Recognizer.open(out, backend=backend)
        assert rec.labels == meta["labels"] and rec.precision == "int8"
        probs = [rec.step(f) for f in clip_frames(2, 6)]
        assert probs[-1].shape == (3,) and np.isclose(probs[-1].sum(), 1.0, atol=1e-4)

    from lcr_edge.actions import parse_profile

    prof = parse_profile('[gestures]\n"Drawing Circle" = "player:next"\n', labels=rec.labels)
    assert "Drawing Circle" in prof.bindings  # profiles can map the new name


def test_the_base_defaults_to_lcr_edge_model_then_the_bundled_checkpoint(tmp_path, tiny_base,
                                                                         bundled, monkeypatch):
    from lcr_edge import paths

    assert resolve_base("") == bundled / "checkpoint.pt"
    monkeypatch.setenv("LCR_EDGE_MODEL", str(tiny_base))
    assert resolve_base(None) == tiny_base
    monkeypatch.setenv("LCR_EDGE_MODEL", str(tmp_path))  # a folder without checkpoint.pt
    with pytest.raises(LCRError, match="without checkpoint.pt"):
        resolve_base("")
    monkeypatch.delenv("LCR_EDGE_MODEL")
    monkeypatch.setattr(paths, "BUNDLED_MODEL", tmp_path / "not-installed")
    with pytest.raises(LCRError, match="no bundled model; give --model"):
        resolve_base("")


def test_without_the_bundled_checkpoint_finetune_says_so_in_one_line(tmp_path, bundled,
                                                                    monkeypatch, capsys):
    import sys

    from lcr_edge.cli import main

    (bundled / "checkpoint.pt").unlink()
    data = make_set(tmp_path / "set", per_label=2, labels=("Swiping Left", "Thumb Up"))
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["lcr-edge", "finetune", "--data", str(data), "--out",
                                      str(out), "--minutes", "1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: the bundled model ({bundled}) has no checkpoint.pt")
    assert "give --model" in err
    assert not out.exists()


# quantize's frame-agreement metric looks after frame 10; these 6-frame clips have none (NaN)
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_finetune_without_model_starts_from_the_bundled_model_and_the_app_loads_it(tmp_path,
                                                                                   bundled):
    """`lcr-edge finetune --data DIR --out DIR --minutes 1` (one pass, no hold-out: the export
    then skips its accuracy checks) from the bundled default; the window's loader opens it."""
    data = make_set(tmp_path / "set", per_label=3, labels=("Swiping Left", "Waving Hello"))
    out = tmp_path / "model"
    res = CliRunner().invoke(app, ["finetune", "--data", str(data), "--out", str(out),
                                   "--minutes", "1", "--epochs", "1", "--holdout", "0",
                                   "--batch", "3"])
    assert res.exit_code == 0, res.output
    assert f"base {bundled / 'checkpoint.pt'} (the bundled model, lcr-s" in res.output
    report = json.loads((out / "finetune.json").read_text())
    assert report["base"] == str(bundled / "checkpoint.pt") and report["steps"] == 2
    assert report["labels"] == ["Swiping Left", "Waving Hello"]
    assert (out / "checkpoint.pt").is_file()  # so the next fine-tune can start from it

    from lcr_edge.loader import load_recognizer

    rec = load_recognizer(str(out), "openvino")  # what the app's window loads a model with
    assert rec.labels == ["Swiping Left", "Waving Hello"] and rec.precision == "int8"
    probs = [rec.step(f) for f in clip_frames(0, 6)]
    assert probs[-1].shape == (2,) and np.isclose(probs[-1].sum(), 1.0, atol=1e-4)


def test_a_holdout_that_would_leave_nothing_to_train_on_is_refused(tmp_path, tiny_base):
    data = make_set(tmp_path / "set")
    for bad in (1.0, 1.5, -0.1):
        with pytest.raises(LCRError, match="--holdout"):
            finetune(FinetuneConfig(model=str(tiny_base), data=str(data), out=str(tmp_path / "o"),
                                    holdout=bad))
    base, ckpt = load_checkpoint(tiny_base)
    split = split_clips(data, list(ckpt["labels"]), holdout=0.99, seed=0)
    assert len(split.train) == 3  # every gesture keeps one clip to train on
