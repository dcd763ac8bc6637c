"""Synthetic gestures: determinism, the Jester layout, class motion, streams, CLI errors."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_LABELS
from lcr_edge.training.synth import (
    EXTRA_GESTURES,
    GESTURES,
    STYLES,
    render_clip,
    render_stream,
    write_video,
)
from lcr_edge.training.synth.dataset import write_dataset

SMALL = (64, 48)


def _frames_equal(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_same_seed_same_pixels_other_seed_differs():
    a = render_clip("Swiping Left", seed=7, frames=6, size=SMALL)
    b = render_clip("Swiping Left", seed=7, frames=6, size=SMALL)
    c = render_clip("Swiping Left", seed=8, frames=6, size=SMALL)
    assert _frames_equal(a, b)
    assert not _frames_equal(a, c)
    assert a[0].shape == (48, 64, 3) and a[0].dtype == np.uint8


@pytest.mark.parametrize("label", list(JESTER_LABELS) + list(EXTRA_GESTURES))
def test_every_gesture_renders(label):
    frames, info = render_clip(label, seed=1, frames=5, size=SMALL, return_track=True)
    assert len(frames) == 5 and len(info.track) == 5
    assert 0 <= info.start < info.end <= 5


def test_registry_order_and_extras_kept_apart():
    assert tuple(GESTURES) == JESTER_LABELS
    assert len(EXTRA_GESTURES) >= 2
    assert not set(EXTRA_GESTURES) & set(JESTER_LABELS)
    with pytest.raises(LCRError, match="unknown gesture"):
        render_clip("Moonwalk", seed=0, frames=2)


def _ends(label, seed, field):
    """The pose field at the first and last frame of the gesture's motion."""
    _, info = render_clip(label, seed=seed, frames=24, return_track=True)
    first, last = info.track[info.start], info.track[info.end - 1]
    return getattr(first, field), getattr(last, field)


@pytest.mark.parametrize("label,field,sign,least", [
    ("Swiping Left", "x", 1, 0.2 * 176), ("Swiping Right", "x", -1, 0.2 * 176),
    ("Swiping Up", "y", -1, 0.2 * 100), ("Swiping Down", "y", 1, 0.2 * 100),
    ("Sliding Two Fingers Left", "x", 1, 0.15 * 176), ("Sliding Two Fingers Right", "x", -1, 0.15 * 176),
    ("Sliding Two Fingers Up", "y", -1, 15),
    ("Pushing Hand Away", "size", -1, 10), ("Pulling Hand In", "size", 1, 10),
    ("Pushing Two Fingers Away", "size", -1, 10), ("Pulling Two Fingers In", "size", 1, 10),
    ("Turning Hand Clockwise", "angle", -1, 60),
    ("Turning Hand Counterclockwise", "angle", 1, 60),
    ("Zooming In With Full Hand", "spread", 1, 1.5),
    ("Zooming Out With Full Hand", "spread", -1, 1.5),
    ("Zooming In With Two Fingers", "pinch", -1, 0.9),
    ("Zooming Out With Two Fingers", "pinch", 1, 0.9),
])
def test_class_motion_direction(label, field, sign, least):
    # image coordinates: x grows to the right and y downwards in the recorded (unmirrored) frame;
    # Jester's left/right and clockwise are the actor's, so the image's are the other way round
    for seed in range(4):
        a, b = _ends(label, seed, field)
        assert sign * (b - a) >= least, (label, seed, a, b)


def test_swiping_left_moves_the_drawn_hand_towards_larger_x():
    """Pixels, not just the pose track: in the unmirrored image the actor's left is the image's
    right, so the hand's mask centroid moves towards larger x (as in genuine Jester clips)."""
    from lcr_edge.training.synth.hand import draw_hand

    _, info = render_clip("Swiping Left", seed=3, frames=20, return_track=True)
    xs = []
    for pose in (info.track[info.start], info.track[info.end - 1]):
        canvas = np.zeros((100, 176, 3), np.uint8)
        draw_hand(canvas, pose.moved(arm=False), skin=(255, 255, 255))
        ys_, xs_ = np.nonzero(canvas[:, :, 0])
        xs.append(xs_.mean())
    assert xs[1] > xs[0] + 20


def test_thumb_up_and_down_point_the_right_way():
    from lcr_edge.training.synth import fingertips

    for seed in range(4):
        for label, sign in (("Thumb Up", -1), ("Thumb Down", 1)):
            _, info = render_clip(label, seed=seed, frames=12, return_track=True)
            pose = info.track[info.end - 1]
            thumb_tip = fingertips(pose)[0]
            assert sign * (thumb_tip[1] - pose.y) > 0.2 * pose.size, (label, seed)


def test_no_gesture_is_absent_or_still():
    for seed in range(6):
        _, info = render_clip("No gesture", seed=seed, frames=12, return_track=True)
        xs = [p.x for p in info.track if p is not None]
        assert not xs or max(xs) - min(xs) < 3.0


def test_new_user_style_differs_and_unknown_style_fails():
    a = render_clip("Stop Sign", seed=2, frames=3, size=SMALL)
    b = render_clip("Stop Sign", seed=2, frames=3, size=SMALL, style="new-user")
    assert not _frames_equal(a, b)
    assert not set(STYLES["new-user"].backgrounds) & set(STYLES["default"].backgrounds)
    assert not set(STYLES["new-user"].skin) & set(STYLES["default"].skin)
    with pytest.raises(LCRError, match="unknown synth style"):
        render_clip("Stop Sign", seed=2, frames=3, style="martian")


def _framing(**knobs):
    from dataclasses import replace

    from lcr_edge.training.synth.preview import NEUTRAL

    return replace(STYLES["default"], **{**NEUTRAL, **knobs})


def test_small_hands_are_drawn_far_from_the_camera():
    h = 100
    sizes = {}
    for on in (0.0, 1.0):
        style = _framing(small_hand=on)
        infos = [render_clip("Swiping Left", seed=s, frames=8, style=style, return_track=True)[1]
                 for s in range(6)]
        sizes[on] = [info.track[info.start].size / h for info in infos]  # a pose of the gesture
    assert max(sizes[1.0]) <= STYLES["default"].small_hand_size[1] + 1e-6
    assert min(sizes[0.0]) >= STYLES["default"].hand_size[0] - 1e-6


def test_an_off_centre_clip_moves_every_pose_by_the_scene_offset():
    """The hand's pixels move with the scene's offset: same scene, offset on and off."""
    from dataclasses import replace

    from lcr_edge.training.synth.hand import Pose
    from lcr_edge.training.synth.scene import Scene

    style = _framing(off_centre=1.0, person=0.0, backgrounds=("gradient",), noise=(0.0, 0.0))
    scene = Scene.sample(np.random.default_rng(5), (176, 100), style, frames=2)
    ox, oy = scene.offset
    assert 0.1 * 176 - 1e-6 <= abs(ox) <= 0.3 * 176 + 1e-6 and -10 - 1e-6 <= oy <= 25 + 1e-6
    scene = replace(scene, drift=np.zeros_like(scene.drift), offset=(ox, 0.0))
    pose = Pose(x=88, y=50, size=30, arm=False)

    def centroid(sc):
        diff = np.abs(sc.frame(0, pose).astype(int) - sc.frame(0, None).astype(int)).sum(2)
        return np.nonzero(diff > 30)[1].mean()

    assert centroid(scene) - centroid(replace(scene, offset=(0.0, 0.0))) == pytest.approx(ox, abs=2)


def test_quick_scenes_shorten_brisk_strokes_only():
    style = _framing(quick=1.0)
    lo, hi = style.quick_fraction
    for seed in range(4):
        _, swipe = render_clip("Swiping Left", seed=seed, frames=40, style=style, return_track=True)
        _, thumb = render_clip("Thumb Up", seed=seed, frames=40, style=style, return_track=True)
        assert round(lo * 40) <= swipe.end - swipe.start <= round(hi * 40)
        assert thumb.end - thumb.start >= round(0.5 * 40)
    frames, events = render_stream(["Swiping Left", "Thumb Up"], seed=2, style=style,
                                   gesture_frames=(20, 20))
    assert events[0][2] - events[0][1] < 14 and events[1][2] - events[1][1] == 20


def test_the_ablation_styles_keep_the_framing_knobs_off():
    for name in ("drawn", "scene", "studio", "webcam", "new-user"):
        s = STYLES[name]
        assert (s.small_hand, s.off_centre, s.quick) == (0.0, 0.0, 0.0), name
    d = STYLES["default"]
    assert d.small_hand > 0 and d.off_centre > 0 and d.quick > 0
    from dataclasses import replace

    assert replace(d, small_hand=0.0, off_centre=0.0, quick=0.0) == STYLES["webcam"]


def test_render_stream_events():
    labels = ["Swiping Left", "No gesture", "Thumb Up"]
    frames, events = render_stream(labels, seed=4, idle_frames=(3, 6), gesture_frames=(8, 10),
                                   size=SMALL)
    assert [e[0] for e in events] == labels
    prev_end = 0
    for _, start, end in events:
        assert 8 <= end - start <= 10
        assert 3 <= start - prev_end <= 6  # a gap of idle frames before every gesture
        prev_end = end
    assert 3 <= len(frames) - prev_end <= 6
    again, events2 = render_stream(labels, seed=4, idle_frames=(3, 6), gesture_frames=(8, 10),
                                   size=SMALL)
    assert events2 == events and _frames_equal(frames, again)
    with pytest.raises(LCRError, match="idle_frames"):
        render_stream(labels, seed=4, idle_frames=(5, 2))


def test_write_video_round_trip(tmp_path):
    frames, _ = render_stream(["Swiping Up"], seed=0, idle_frames=(2, 2), gesture_frames=(6, 6),
                              size=SMALL)
    path = write_video(tmp_path / "s.avi", frames)
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == len(frames)
    with pytest.raises(LCRError, match=".mp4 or .avi"):
        write_video(tmp_path / "s.gif", frames)


def test_dataset_layout_and_csvs(tmp_path):
    out = tmp_path / "set"
    summary = write_dataset(out, 3, seed=5, frames=3, size=SMALL, workers=1, progress=False)
    assert summary["clips"] == 81 and summary["validation"] == 27  # round(0.6) = 1 per class
    labels = (out / "jester-v1-labels.csv").read_text().splitlines()
    assert labels == list(JESTER_LABELS)
    rows = []
    for split in ("train", "validation"):
        for line in (out / f"jester-v1-{split}.csv").read_text().splitlines():
            assert re.fullmatch(r"\d+;[A-Za-z ]+", line), line
            rows.append(line.split(";"))
    assert (out / "jester-v1-test.csv").read_text() == ""
    ids = [r[0] for r in rows]
    assert len(set(ids)) == 81
    assert {p.name for p in out.iterdir() if p.is_dir()} == set(ids)
    for label in JESTER_LABELS:
        assert sum(r[1] == label for r in rows) == 3
    for clip in ids[:5]:
        names = sorted(p.name for p in (out / clip).iterdir())
        assert names == ["00001.jpg", "00002.jpg", "00003.jpg"]
        img = cv2.imread(str(out / clip / "00001.jpg"))
        assert img.shape == (48, 64, 3)


def test_dataset_frame_range_gives_varied_lengths(tmp_path):
    summary = write_dataset(tmp_path / "v", 1, frames=(2, 5), size=(32, 24), workers=1,
                            progress=False)
    lengths = [len(list(p.iterdir())) for p in (tmp_path / "v").iterdir() if p.is_dir()]
    assert len(lengths) == 27 and min(lengths) >= 2 and max(lengths) <= 5
    assert len(set(lengths)) > 1 and summary["total_frames"] == sum(lengths)


def test_dataset_bytes_deterministic_across_worker_counts(tmp_path):
    a = write_dataset(tmp_path / "a", 1, seed=9, frames=2, size=(32, 24), workers=1,
                      progress=False)
    b = write_dataset(tmp_path / "b", 1, seed=9, frames=2, size=(32, 24), workers=2,
                      progress=False)
    assert a["clips"] == b["clips"] == 27
    for name in ("jester-v1-train.csv", "jester-v1-validation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for jpg in (tmp_path / "a").glob("*/*.jpg"):
        assert jpg.read_bytes() == (tmp_path / "b" / jpg.relative_to(tmp_path / "a")).read_bytes()


def _run(args):
    """Invoke the CLI; return (exit code, output, LCRError message or '')."""
    result = CliRunner().invoke(app, args)
    err = str(result.exception) if isinstance(result.exception, LCRError) else ""
    return result.exit_code, result.output, err


def test_cli_writes_and_refuses_bad_input(tmp_path):
    out = tmp_path / "set"
    common = ["--frames", "2", "--size", "32x24", "--workers", "1", "--json"]
    code, output, err = _run(["synth", str(out), "-n", "1", *common])
    assert code == 0 and not err and '"clips": 27' in output
    _, _, err = _run(["synth", str(out), "-n", "1", *common])
    assert "not empty" in err and "--overwrite" in err
    code, _, err = _run(["synth", str(out), "-n", "1", "--overwrite", "--extra", "Drawing Circle",
                         *common])
    assert code == 0 and not err
    assert (out / "jester-v1-labels.csv").read_text().splitlines()[-1] == "Drawing Circle"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    _, _, err = _run(["synth", str(foreign), "-n", "1", "--overwrite", *common])
    assert "refusing" in err and (foreign / "notes.txt").exists()
    for args, message in [
        (["-n", "1", "--size", "big"], "--size must be WIDTHxHEIGHT"),
        (["-n", "1", "--size", "8x8"], "--size must be between"),
        (["-n", "-3"], "--clips-per-class must be at least 1"),
        (["-n", "1", "--frames", "0"], "--frames must be at least 1"),
        (["-n", "1", "--frames", "40-30"], "LO <= HI"),
        (["-n", "1", "--frames", "many"], "--frames must be a count"),
        (["-n", "1", "--val-fraction", "1.5"], "--val-fraction"),
        (["-n", "1", "--extra", "Moonwalk"], "not an extra gesture"),
        ([], "--clips-per-class"),
    ]:
        code, _, err = _run(["synth", str(tmp_path / "new"), *args])
        assert code != 0 and message in err, (args, err)
    code, output, _ = _run(["synth", "--list"])
    assert code == 0 and "Drumming Fingers" in output and "Waving Hello" in output


def test_cli_preview_and_bench(tmp_path):
    sheet = tmp_path / "sheet.png"
    code, _, err = _run(["synth", "--preview", str(sheet), "--frames", "4", "--size", "32x24"])
    assert code == 0 and not err
    assert cv2.imread(str(sheet)).shape[1] == 32  # frames 0 of 4 (every 4th): one column
    code, _, err = _run(["synth", "--preview", str(tmp_path / "x.xyz"), "--frames", "4"])
    assert code != 0 and "give a .png" in err
    code, output, err = _run(["synth", str(tmp_path / "b"), "--bench", "-n", "1", "--frames", "2",
                              "--size", "32x24", "--workers", "1", "--json"])
    assert code == 0 and not err and '"clips": 27' in output and "cpu_ms_per_clip" in output


def test_a_machine_without_photographs_is_told_and_the_set_says_so(tmp_path, monkeypatch):
    """The default style crops photographs; where there are none they become rooms, so a set made
    on a bare machine differs from one made with them: synth warns, and lcr-synth.json records
    how many photographs there were."""
    import json

    from lcr_edge.training.synth import dataset

    monkeypatch.setattr(dataset, "photo_files", lambda: ())
    monkeypatch.setenv("LCR_SYNTH_PHOTOS", str(tmp_path / "none"))
    notice = dataset.missing_photos("default")
    assert str(tmp_path / "none") in notice and "apt-get install gnome-backgrounds" in notice
    assert dataset.missing_photos("drawn") is None  # a style without photographs needs none
    res = CliRunner().invoke(app, ["synth", str(tmp_path / "set"), "--clips-per-class", "1",
                                   "--frames", "4", "--val-fraction", "0", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "warning: no photographs in" in res.output
    assert json.loads((tmp_path / "set" / dataset.MARKER).read_text())["photographs"] == 0
    monkeypatch.setattr(dataset, "photo_files", lambda: (tmp_path / "one.jpg",))
    assert dataset.missing_photos("default") is None
