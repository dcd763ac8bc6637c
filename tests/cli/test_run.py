"""`lcr-edge run --json` on a synthetic video with a recognizer scripted by video frame index."""

import json
import os
import sys

import cv2
import pytest
from typer.testing import CliRunner

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "app"))
from fakes import ScriptedRecognizer, stream, write_video  # noqa: E402
from optional import needs_mp4  # noqa: E402

from lcr_edge import loader, paths  # noqa: E402
from lcr_edge.cli import app  # noqa: E402

# Video frames 0-59 at 12 fps: a right swipe at 10-15, the hand coming back (looks like a left
# swipe) at 16-19, a stop sign at 34-45, idle elsewhere.
SCRIPT = stream(("idle", 10), ("Swiping Right", 6), ("Swiping Left", 4), ("idle", 14),
                ("Stop Sign", 12), ("idle", 14))


@pytest.fixture
def scripted(monkeypatch):
    made = []

    def fake_load(model_dir, backend="openvino", threads=None, horizon=None):
        made.append(ScriptedRecognizer(SCRIPT, key_on_frame=True))
        return made[-1]

    monkeypatch.setattr(loader, "load_recognizer", fake_load)
    return made


def run_json(args):
    result = CliRunner().invoke(app, ["run", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_run_json_prints_the_expected_events_and_actions(tmp_path, scripted):
    video = write_video(tmp_path / "stream.avi", 60, fps=12)
    out = tmp_path / "annotated.avi"
    lines = run_json(["--source", video, "--out", str(out)])
    events = [(d["kind"], d["gesture"], d["frame"]) for d in lines if d["type"] == "event"]
    # One swipe (the returning hand is suppressed), one stop sign. With window 3 and min_frames
    # 2 the swipe's smoothed score reaches 0.9 at its 3rd frame (12), the 2nd frame above
    # threshold is 13; the stop sign (threshold 0.7) likewise fires at 37.
    assert events == [("single", "Swiping Right", 13), ("single", "Stop Sign", 37)]
    actions = [(d["action"], d["ok"]) for d in lines if d["type"] == "action"]
    assert actions == [("player:next", False), ("player:play_pause", False)]  # no player here
    messages = [d["message"] for d in lines if d["type"] == "action"]
    assert messages[0].startswith("the built-in player exists only in the app window")
    assert messages[1] == "app window only (see above)"  # the whole story once
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["frames"] == 60 and summary["dropped"] == 0
    # The annotated video has every frame.
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 60
    ok, first = cap.read()
    assert ok and first.shape[1] >= 256
    assert not list(tmp_path.glob(".*partial*"))


def test_run_without_json_prints_events_on_stdout_and_the_summary_on_stderr(tmp_path, scripted):
    video = write_video(tmp_path / "stream.avi", 60, fps=12)
    result = CliRunner().invoke(app, ["run", "--source", video, "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "    1.08 s  frame    13  single Swiping Right  0.90"
    assert lines[1] == "          -> player:next  ok: dry run: not executed"
    assert len(lines) == 4 and "frames" not in result.stdout
    assert result.stderr.startswith("60 frames at the model's 12 fps, 2 events, 2 actions; ")


def test_run_resamples_a_faster_video_to_the_model_rate(tmp_path, scripted):
    video = write_video(tmp_path / "fast.avi", 48, fps=24)
    lines = run_json(["--source", video, "--dry-run"])
    assert lines[-1]["frames"] == 24
    assert scripted[0].seen == list(range(0, 48, 2))  # every second frame of the video


def test_run_with_a_profile_and_dry_run(tmp_path, scripted):
    video = write_video(tmp_path / "stream.avi", 60, fps=12)
    prof = tmp_path / "p.toml"
    prof.write_text('[gestures]\n"Stop Sign" = "key:space"\n')
    lines = run_json(["--source", video, "--profile", str(prof), "--dry-run"])
    actions = [(d["action"], d["ok"], d["message"]) for d in lines if d["type"] == "action"]
    assert actions == [("key:space", True, "dry run: not executed")]


def test_run_errors_are_one_line(tmp_path, scripted):
    bad = tmp_path / "bad.toml"
    bad.write_text('[gestures]\n"Stop Sing" = "player:play_pause"\n')
    video = write_video(tmp_path / "v.avi", 4)
    for args, msg in [
        (["--source", str(tmp_path / "missing.mp4")], "missing.mp4: no such file or folder"),
        (["--source", video, "--profile", str(bad)], "bad.toml:2: unknown gesture 'Stop Sing'"),
    ]:
        result = CliRunner().invoke(app, ["run", *args])
        assert result.exit_code != 0
        assert msg in str(result.exception)


def test_run_without_a_model_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    monkeypatch.setattr(paths, "BUNDLED_MODEL", tmp_path / "not-installed")
    video = write_video(tmp_path / "v.avi", 4)
    result = CliRunner().invoke(app, ["run", "--source", video])
    assert "no model: pass --model DIR" in str(result.exception)


def test_list_cameras_prints_one_camera_a_line_or_json(monkeypatch):
    import lcr_edge.sources

    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [(0, "Integrated Camera"),
                                                                   (10, "USB camera")])
    r = CliRunner().invoke(app, ["run", "--list-cameras", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == [{"index": 0, "name": "Integrated Camera"},
                                                          {"index": 10, "name": "USB camera"}]
    r = CliRunner().invoke(app, ["run", "--list-cameras"])
    assert r.exit_code == 0 and r.stdout == "0: Integrated Camera\n10: USB camera\n"
    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [])
    assert CliRunner().invoke(app, ["run", "--list-cameras"]).stdout == "no cameras found\n"


@needs_mp4
def test_run_without_a_source_uses_the_first_camera_else_the_demo_clip(monkeypatch, scripted):
    import lcr_edge.sources

    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [])
    lines = run_json(["--dry-run"])
    assert lines[0]["type"] == "status" and "no camera found: playing the bundled demo clip" \
        in lines[0]["message"]
    info = json.loads(paths.DEMO_CLIP.with_suffix(".json").read_text())
    assert lines[-1]["frames"] == info["frames"]  # the whole clip (scripted model at 12 fps)
    lines = run_json(["--source", "demo", "--dry-run"])  # asked for by name: no notice
    assert lines[0]["type"] != "status" and lines[-1]["frames"] == info["frames"]
    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [(3, "USB camera")])
    assert lcr_edge.sources.default_source() == ("3", None)
    monkeypatch.setattr(paths, "DEMO_CLIP", paths.DEMO_CLIP.with_name("missing.mp4"))
    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [])
    r = CliRunner().invoke(app, ["run"])
    assert "no camera found and no bundled demo clip" in str(r.exception)


@needs_mp4
def test_bundled_assets_are_installed_and_small():
    """The demo clip (under 2 MB), its description, and the player's playlist."""
    assert paths.DEMO_CLIP.is_file() and paths.DEMO_CLIP.stat().st_size < 2e6
    info = json.loads(paths.DEMO_CLIP.with_suffix(".json").read_text())
    cap = cv2.VideoCapture(str(paths.DEMO_CLIP))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == info["frames"]
    assert len(info["events"]) >= 5
    assert len(list(paths.DEMO_PLAYLIST.glob("*.mp4"))) == 3


def test_a_camera_that_is_not_there_ends_the_run_with_an_error(scripted, monkeypatch):
    from lcr_edge import sources

    monkeypatch.setattr(sources, "FIRST_OPEN_RETRIES", 2)
    monkeypatch.setattr(sources, "RETRY_S", 0.01)
    result = CliRunner().invoke(app, ["run", "--source", "7"])
    assert result.exit_code != 0
    assert "camera 7: cannot open" in str(result.exception)
    assert "gave up after 2 retries" in str(result.exception)


def test_the_annotated_video_holds_every_frame_of_a_folder_with_mixed_sizes(tmp_path, scripted):
    import numpy as np

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        size = (120, 160) if i % 2 else (100, 176)
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), np.full((*size, 3), 40 * i, np.uint8))
    out = tmp_path / "out.avi"
    run_json(["--source", str(folder), "--out", str(out)])
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == 6  # was 2 of 6


def test_an_incomplete_video_is_reported_not_written(tmp_path, scripted, monkeypatch):
    from lcr_edge.io import VideoOut

    video = write_video(tmp_path / "v.avi", 12, fps=12)
    out = tmp_path / "out.avi"
    real_write = VideoOut.write

    def lossy(self, image):  # as a full disk would: frames after the 4th never reach the file
        if self.frames < 4:
            real_write(self, image)
        else:
            self.frames += 1

    monkeypatch.setattr(VideoOut, "write", lossy)
    result = CliRunner().invoke(app, ["run", "--source", video, "--out", str(out)])
    assert result.exit_code != 0 and "holds 4 of 12 frames" in str(result.exception)
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_a_video_cut_short_is_reported_not_taken_whole(tmp_path, scripted):
    video = write_video(tmp_path / "v.avi", 40, fps=12)
    data = open(video, "rb").read()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(app, ["run", "--source", str(cut)])
    assert result.exit_code != 0 and "the file is cut short or damaged" in str(result.exception)
    assert CliRunner().invoke(app, ["run", "--source", video]).exit_code == 0  # a whole file: fine
