"""Clips chained into streams: events where the clips are, splits kept apart, frame rates, bad
clips and sets, and stream training on the result."""

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.training.chain import chain_clips, read_clip
from lcr_edge.training.data import find_clips
from lcr_edge.training.streams import read_streams
from lcr_edge.training.synth.dataset import write_dataset
from lcr_edge.training.synth.render import render_clip, write_video

SIZE = (64, 48)
LABELS = ["Swiping Left", "Swiping Right", "Thumb Up", "No gesture"]


@pytest.fixture(scope="module")
def clip_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips") / "set"
    write_dataset(root, 4, seed=2, frames=(8, 12), size=SIZE, val_fraction=0.5, workers=1,
                  labels=LABELS, progress=False)
    return root


def _frame_count(path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_each_gesture_clip_is_one_event_and_the_splits_stay_apart(clip_set, tmp_path):
    out = tmp_path / "streams"
    summary = chain_clips(clip_set, out, 4, clips=(2, 3), seed=1, val_fraction=0.25, size=SIZE,
                          progress=False)
    assert summary["streams"] == 4 and summary["validation"] == 1 and summary["skipped"] == 0
    train, labels = read_streams(out, "train")
    val, _ = read_streams(out, "validation")
    assert labels == LABELS and len(train) == 3 and len(val) == 1
    lengths = {}
    for split in ("train", "validation"):
        clips, _, fps = find_clips(clip_set, split)
        for c in clips:
            lengths[c.key] = (split, LABELS[c.label], len(read_clip(c, SIZE, fps)))
    for stream, split in [(s, "train") for s in train] + [(s, "validation") for s in val]:
        assert _frame_count(stream["video"]) == stream["frames"]
        gestures = [k for k in stream["clips"] if lengths[k][1] != "No gesture"]
        assert 2 <= len(stream["events"]) == len(gestures) <= 3
        assert all(lengths[k][0] == split for k in stream["clips"])  # no clip crosses splits
        end = 0
        for (label, a, b), key in zip(stream["events"], gestures, strict=True):
            assert label == lengths[key][1] and b - a == lengths[key][2] and a >= end
            end = b
        assert stream["frames"] > end  # an idle stretch follows the last gesture
    again = chain_clips(clip_set, tmp_path / "again", 4, clips=(2, 3), seed=1, val_fraction=0.25,
                        size=SIZE, progress=False)
    assert again["total_frames"] == summary["total_frames"]
    assert (tmp_path / "again" / "streams.jsonl").read_text().replace("again", "streams") == \
        (out / "streams.jsonl").read_text()


def test_videos_are_resampled_to_12_fps_and_resized(tmp_path):
    root = tmp_path / "videos"
    for label in ("Thumb Up", "No gesture"):
        (root / label).mkdir(parents=True)
        for k in range(2):
            write_video(root / label / f"{k}.mp4", render_clip(label, seed=k, frames=24, size=(80, 60)),
                        fps=24)
    summary = chain_clips(root, tmp_path / "out", 2, clips=(1, 1), val_fraction=0.0, size=SIZE,
                          idle_p=1.0, progress=False)
    assert summary["streams"] == 2
    train, labels = read_streams(tmp_path / "out", "train")
    assert labels == ["No gesture", "Thumb Up"]
    for s in train:
        (label, a, b), = s["events"]
        assert label == "Thumb Up" and b - a == 12  # 24 frames at 24 fps: 1 s at 12 fps
        cap = cv2.VideoCapture(s["video"])
        ok, frame = cap.read()
        cap.release()
        assert ok and frame.shape[:2] == (SIZE[1], SIZE[0])


def test_an_unreadable_clip_is_skipped_and_counted(clip_set, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(clip_set, broken)
    clips, _, _ = find_clips(broken, "train")
    bad = next(c for c in clips if LABELS[c.label] == "Swiping Left")
    first = sorted(bad.frames_dir.glob("*.jpg"))[0]
    first.write_bytes(first.read_bytes()[:40])  # cut short
    with pytest.raises(ValueError, match="cut-short"):
        read_clip(bad, SIZE, 12.0)
    summary = chain_clips(broken, tmp_path / "out", 12, clips=(3, 3), val_fraction=0.0, size=SIZE,
                          seed=3, progress=False)
    assert summary["skipped"] > 0 and summary["streams"] == 12
    marker = json.loads((tmp_path / "out" / "lcr-synth.json").read_text())
    assert marker["complete"] and bad.key in marker["skipped_clips"][0]
    for s in read_streams(tmp_path / "out", "train")[0]:
        assert bad.key not in s["clips"]


def test_sets_that_cannot_be_chained_say_why(clip_set, tmp_path):
    no_bg = tmp_path / "nobg"
    write_dataset(no_bg, 2, size=SIZE, val_fraction=0.5, workers=1, labels=LABELS[:2],
                  progress=False)
    with pytest.raises(LCRError, match="needs a 'No gesture' class"):
        chain_clips(no_bg, tmp_path / "o1", 2, progress=False)
    chain_clips(clip_set, tmp_path / "streams", 2, size=SIZE, progress=False)
    with pytest.raises(LCRError, match="already a stream set"):
        chain_clips(tmp_path / "streams", tmp_path / "o2", 2, progress=False)
    with pytest.raises(LCRError, match="not found"):
        chain_clips(tmp_path / "missing", tmp_path / "o3", 2, progress=False)
    result = CliRunner().invoke(app, ["chain", str(clip_set), str(tmp_path / "o4"), "--clips", "x"])
    assert isinstance(result.exception, LCRError) and "--clips must be a count" in str(result.exception)
    result = CliRunner().invoke(app, ["chain", str(clip_set), str(tmp_path / "o5"), "--streams",
                                      "2", "--size", "64x48"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 streams" in result.output and "--mode stream" in result.output


def test_a_set_without_validation_clips_chains_training_streams_only(clip_set, tmp_path):
    """As `lcr-edge record` writes a set: Jester's layout, an empty validation split."""
    import shutil

    rec = tmp_path / "recorded"
    shutil.copytree(clip_set, rec)
    (rec / "jester-v1-validation.csv").write_text("")
    with pytest.raises(LCRError, match="validation split has no clips.*--val-fraction 0"):
        chain_clips(rec, tmp_path / "out", 10, size=SIZE, progress=False)
    assert not (tmp_path / "out").exists()  # refused before anything was written
    summary = chain_clips(rec, tmp_path / "out", 10, val_fraction=0.0, size=SIZE, progress=False)
    assert summary["streams"] == 10 and summary["validation"] == 0
    with pytest.raises(LCRError, match="--idle must be a chance"):
        chain_clips(rec, tmp_path / "o2", 2, idle_p=1.5, progress=False)


def test_stream_training_learns_from_chained_clips(clip_set, tmp_path):
    import torch

    from lcr_edge.model.checkpoint import read_checkpoint
    from lcr_edge.training.train import TrainConfig, train

    chain_clips(clip_set, tmp_path / "streams", 3, clips=(2, 2), val_fraction=0.34, size=SIZE,
                progress=False)
    cfg = TrainConfig.from_sources(None, dict(
        data=str(tmp_path / "streams"), mode="stream", dim=32, frames=4, stride=4, batch=2,
        epochs=1, epoch_steps=3, workers=0, compile="off", out=str(tmp_path / "run"),
        val_streams=1))
    metrics = train(cfg, log=lambda *_: None)
    assert metrics["step"] == 3 and 0.0 <= metrics["val_event_accuracy"] <= 1.0
    ckpt = read_checkpoint(tmp_path / "run" / "best.pt")
    assert ckpt["labels"] == LABELS and ckpt["sampling"]["mode"] == "stream"
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert np.isfinite(metrics["val_frame_acc"])
