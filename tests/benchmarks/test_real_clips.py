"""benchmarks/real_clips.py on a tiny synthetic Jester folder (the real clips never enter the
tests): a model that always says "Swiping Left" makes every count predictable."""

import json

import pytest
import torch

from tests.scripts import load_script

LABELS = ["Swiping Left", "Swiping Right", "Stop Sign", "No gesture"]
real_clips = load_script("benchmarks/real_clips.py")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """3 clips per class of 6 frames, 2 of them in the validation split: 8 clips to score."""
    from lcr_edge.training.synth.dataset import write_dataset

    out = tmp_path_factory.mktemp("rc") / "jester"
    write_dataset(out, clips_per_class=3, seed=5, frames=6, size=(64, 48), val_fraction=0.67,
                  workers=1, labels=LABELS, progress=False)
    return out


@pytest.fixture(scope="module")
def always_left(tmp_path_factory):
    """A tiny LCR-S whose head ignores its input and puts ~1.0 on "Swiping Left": a checkpoint
    and its FP32 export."""
    from lcr_edge.model import create_model
    from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint
    from lcr_edge.quantize.export import export_fp32

    torch.manual_seed(0)
    model = create_model("lcr-s", num_classes=len(LABELS), dim=32)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([8.0, 0.0, 0.0, 0.0]))
    base = tmp_path_factory.mktemp("model")
    ckpt = base / "left.pt"
    save_checkpoint(ckpt, model, LABELS, sampling={"frames": 6, "stride": 1, "frame_rate": 12.0})
    net, c = load_checkpoint(ckpt)
    export_fp32(net, c, ckpt, base / "left-fp32", formats="openvino")
    return {"checkpoint": ckpt, "folder": base / "left-fp32"}


@pytest.mark.parametrize("kind", ["checkpoint", "folder"])
def test_scores_clips_and_events_of_a_model_that_always_says_left(data, always_left, kind,
                                                                  tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--model", str(always_left[kind]), "--data", str(data), "--out", str(out)]
    assert real_clips.main(argv + ["--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["command"].startswith("python benchmarks/real_clips.py --model")
    assert r["model"] == str(always_left[kind].resolve())
    assert r["backend"] == ("torch" if kind == "checkpoint" else "openvino")
    assert r["clips"] == 8 and len(r["per_clip"]) == 8
    # 2 of 8 clips are Swiping Left: the only right ones
    assert r["top1_paper"] == r["top1_last"] == 0.25 and r["top5_paper"] == 1.0
    rows = {row["class"]: row for row in r["per_class_table"]}
    assert list(rows) == LABELS and all(row["clips"] == 2 for row in rows.values())
    assert sum(row["clips"] for row in rows.values()) == r["clips"]
    assert rows["Swiping Left"]["correct"] == 2 and rows["Swiping Left"]["wrong"] is None
    for name in LABELS[1:]:
        assert rows[name]["correct"] == 0 and rows[name]["top5"] == 2
        assert (rows[name]["wrong"], rows[name]["wrong_count"]) == ("Swiping Left", 2)
    assert r["mirror_swaps"] == {"clips": 4, "swapped": 2}  # the Swiping Right clips
    # events, clip by clip: "Swiping Left" fires once, at the second frame (min_frames 2)
    for c in r["per_clip"]:
        assert [(e["kind"], e["gesture"], e["frame"]) for e in c["events"]] == \
            [("single", "Swiping Left", 1)]
        want = {"Swiping Left": "right", "No gesture": "false fire"}.get(c["label"], "wrong")
        assert c["outcome"] == want
    s = r["event_summary"]
    assert s == {"gesture_clips": 6, "first_event_right": 2, "first_event_wrong": 4, "no_event": 0,
                 "wrong_events": 4, "idle_clips": 2, "idle_clips_with_events": 2,
                 "false_fires": 2, "events": 8}
    assert s["first_event_right"] + s["first_event_wrong"] + s["no_event"] == s["gesture_clips"]
    assert (out / "confusion.png").stat().st_size > 1000
    assert json.loads((out / "metrics.json").read_text())["event_summary"] == s

    # the text report: command and model first, one row per class and per clip
    assert real_clips.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "$ " + r["command"].removesuffix(" --json")
    assert lines[1] == f"model: {r['model']}"
    assert any(line.startswith("clip score: top-1  25.0 %  top-5 100.0 %") for line in lines)
    rows = [line.split() for line in lines if line.startswith("  ")]
    for name in LABELS:  # one table row per class
        assert sum(" ".join(row[:len(name.split())]) == name for row in rows) == 1
    for c in r["per_clip"]:  # one row per clip: id, label, prediction, outcome, its event
        row = next(row for row in rows if row[0] == c["id"])
        assert row[-3:] == ["Swiping", "Left", "@1"] and c["outcome"].split()[0] in row
    assert "gesture clips 6: first event right 2, wrong 4, no event 0; wrong events 4" in lines


def test_outcomes_of_hand_made_events():
    idle = ("No gesture", "Doing other things")
    ev = lambda g, kind="single": {"kind": kind, "gesture": g, "frame": 3}  # noqa: E731
    assert real_clips.event_outcome("Thumb Up", [], idle) == "none"
    assert real_clips.event_outcome("Thumb Up", [ev("Thumb Up", "hold")], idle) == "none"
    assert real_clips.event_outcome("Thumb Up", [ev("Thumb Down"), ev("Thumb Up")], idle) == "wrong"
    assert real_clips.event_outcome("Doing other things", [], idle) == "quiet"
    assert real_clips.event_outcome("No gesture", [ev("Stop Sign")], idle) == "false fire"
    clips = [{"label": "Thumb Up", "events": [ev("Thumb Up"), ev("Thumb Down")]},
             {"label": "No gesture", "events": [ev("Stop Sign"), ev("Stop Sign")]}]
    for c in clips:
        c["outcome"] = real_clips.event_outcome(c["label"], c["events"], idle)
    s = real_clips.event_summary(clips, idle)
    assert (s["first_event_right"], s["wrong_events"], s["false_fires"], s["events"]) == (1, 1, 2, 4)


def test_no_real_clip_folder_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    for value in (None, str(tmp_path / "absent")):  # the variable unset, or naming no folder
        if value is None:
            monkeypatch.delenv("LCR_REAL_CLIPS", raising=False)
        else:
            monkeypatch.setenv("LCR_REAL_CLIPS", value)
        assert real_clips.main([]) == 2
        cap = capsys.readouterr()
        assert cap.out == ""
        assert len(cap.err.strip().splitlines()) == 1 and "no real-clip folder found" in cap.err
        assert "LCR_REAL_CLIPS" in cap.err


def test_bad_input_is_one_line_and_exit_2(data, tmp_path, capsys):
    assert real_clips.main(["--data", str(tmp_path / "nowhere"), "--json"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: ")
    # the bundled model has 27 classes, this folder 4
    assert real_clips.main(["--data", str(data), "--out", str(tmp_path / "o"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "differ from the model's" in err
