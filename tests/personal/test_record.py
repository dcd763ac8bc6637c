"""`lcr-edge record` and RecordingSet: layout, appending, ids, short clips, a failing camera, names."""

import json
import threading
import time

import numpy as np
import pytest
from personal_data import clip_frames
from typer.testing import CliRunner

from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.recording import ClipCapture, RecordingSet, SourceFailed, check_label
from lcr_edge.sources import FrameSource
from lcr_edge.training.data import ClipDataset

runner = CliRunner()


def rows(path):
    return [ln.split(";") for ln in path.read_text().splitlines() if ln]


def record(*args):
    return runner.invoke(app, ["record", "--countdown", "0", *map(str, args)])


def error(res) -> str:
    """The one-line message `lcr-edge` prints (exit 2) for a user error, '' if none."""
    return str(res.exception) if isinstance(res.exception, LCRError) else ""


def test_record_from_a_video_writes_the_jester_layout_the_trainer_reads(tmp_path, video):
    out = tmp_path / "set"
    res = record("--out", out, "--label", "Waving Hello", "--count", 3, "--seconds", 1,
                 "--source", video)
    assert res.exit_code == 0, res.output
    assert (out / "jester-v1-labels.csv").read_text() == "Waving Hello\n"
    assert rows(out / "jester-v1-train.csv") == [["1", "Waving Hello"], ["2", "Waving Hello"],
                                                  ["3", "Waving Hello"]]
    assert len(list((out / "1").glob("*.jpg"))) == 12
    assert json.loads((out / "2" / "clip.json").read_text())["label"] == "Waving Hello"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp folder left
    ds = ClipDataset.from_dir(out, "train", frames=6)
    assert ds.labels == ["Waving Hello"] and len(ds) == 3 and ds[0][0].shape == (6, 3, 112, 112)


def test_recording_into_an_existing_set_appends_and_never_reuses_an_id(tmp_path, video):
    out = tmp_path / "set"
    rs = RecordingSet.open(out)
    for _ in range(2):
        rs.add_clip("Thumb Up", clip_frames(2))
    rs.discard("1")  # the highest id is still in use; a gap is fine
    (out / "7").mkdir()  # a folder someone left there: its id is taken too
    res = record("--out", out, "--label", "thumb  up", "--count", 1, "--source", video)
    assert res.exit_code == 0, res.output
    res = record("--out", out, "--label", "Drawing Circle", "--count", 1, "--source", video)
    assert res.exit_code == 0, res.output
    assert (out / "jester-v1-labels.csv").read_text() == "Thumb Up\nDrawing Circle\n"
    assert rows(out / "jester-v1-train.csv") == [["2", "Thumb Up"], ["8", "Thumb Up"],
                                                  ["9", "Drawing Circle"]]
    assert RecordingSet.open(out).counts() == {"Thumb Up": 2, "Drawing Circle": 1}


def test_a_clip_folder_whose_csv_line_was_lost_is_recovered(tmp_path):
    rs = RecordingSet.open(tmp_path / "set")
    rs.add_clip("Stop Sign", clip_frames(2))
    rs.add_clip("Stop Sign", clip_frames(2))
    (tmp_path / "set" / "jester-v1-train.csv").write_text("1;Stop Sign\n")  # died before writing
    again = RecordingSet.open(tmp_path / "set")
    assert again.recovered == ["2"] and again.counts() == {"Stop Sign": 2}


def test_too_short_clips_are_refused_with_a_clear_message(tmp_path, video):
    res = record("--out", tmp_path / "a", "--label", "Thumb Up", "--seconds", 0.3,
                 "--source", video)
    assert "too short" in error(res) and "at least 8" in error(res)
    assert not (tmp_path / "a").exists()
    with pytest.raises(LCRError, match="too short: 5 frames"):
        RecordingSet.open(tmp_path / "b").add_clip("Thumb Up", clip_frames(0, 5))
    # a video that ends mid-clip: a long enough rest is kept, a too short one is not
    res = record("--out", tmp_path / "c", "--label", "Thumb Up", "--count", 5, "--seconds", 3,
                 "--source", clip_video(tmp_path, 40))
    assert res.exit_code == 0 and "kept with" not in res.output
    assert "the last clip had only 4 frames" in res.output
    assert RecordingSet.open(tmp_path / "c").counts() == {"Thumb Up": 1}


def clip_video(tmp_path, n):
    from personal_data import write_video

    return write_video(tmp_path / f"v{n}.avi", clip_frames(0, n))


class DyingCamera(FrameSource):
    """A live source that delivers `frames` frames at 50 fps and then is gone for good."""

    live = True
    name = "fake camera"

    def __init__(self, frames: int):
        self.left, self.opened = frames, 0

    def open(self):
        if self.opened and self.left <= 0:
            raise LCRError("fake camera: cannot open (unplugged)")
        self.opened += 1

    def read(self):
        time.sleep(0.02)
        if self.left <= 0:
            return None
        self.left -= 1
        return np.full((48, 64, 3), 100, np.uint8)


def test_a_camera_failing_mid_recording_keeps_the_finished_clips(tmp_path, monkeypatch):
    import lcr_edge.sources

    # 80 frames at 50 fps = 1.6 s = 19 frames at 12 fps: one clip of 12, then the camera dies
    monkeypatch.setattr(lcr_edge.sources, "open_source", lambda spec: DyingCamera(80))
    out = tmp_path / "set"
    res = record("--out", out, "--label", "Swiping Left", "--count", 3, "--seconds", 1,
                 "--source", "0")
    assert "stopped delivering frames" in error(res) and "--count" in error(res)
    kept = RecordingSet.open(out)
    assert 1 <= kept.counts()["Swiping Left"] <= 2  # the clips before the failure
    assert not [p for p in out.iterdir() if p.name.startswith(".recording")]


def test_a_camera_that_gives_nothing_leaves_no_empty_set_behind(tmp_path, monkeypatch):
    import lcr_edge.sources

    monkeypatch.setattr(lcr_edge.sources, "open_source", lambda spec: DyingCamera(0))
    out = tmp_path / "new-set"
    res = record("--out", out, "--label", "Swiping Left", "--count", 2, "--seconds", 1,
                 "--source", "0")
    assert res.exit_code != 0 and error(res)
    assert not out.exists()  # it was created for this recording, and nothing was recorded


def test_clip_capture_reports_the_partial_frames(tmp_path):
    with ClipCapture(DyingCamera(5), stall_s=0.3) as cap:
        with pytest.raises(SourceFailed) as err:
            cap.capture(12)
    assert 1 <= len(err.value.frames) <= 5
    assert threading.active_count() < 20


def test_clip_capture_fed_by_a_gui_takes_each_new_image_once_and_notices_a_stall():
    """The Teach dialog's way: it offers the window's newest image at 12 fps."""
    cap = ClipCapture(stall_s=0.2)
    cap.start(3)
    first = np.zeros((4, 4, 3), np.uint8)
    assert cap.offer(None) is False and cap.offer(first) is False
    assert cap.offer(first) is False and len(cap.frames) == 1  # the same image again: no frame
    assert cap.offer(first + 1) is False and cap.offer(first + 2) is True
    assert [int(f[0, 0, 0]) for f in cap.frames] == [0, 1, 2] and cap.frames[0] is not first
    cap.start(3)
    last = first + 3
    cap.offer(last)
    time.sleep(0.3)
    with pytest.raises(SourceFailed, match="stopped delivering frames after 1 of 3") as err:
        cap.offer(last)  # nothing new for longer than stall_s
    assert len(err.value.frames) == 1


@pytest.mark.parametrize("bad", ["a/b", "left\\right", "x;y", "what?", "bell\x07", "CON",
                                 "..", "", "   ", "dot."])
def test_names_file_systems_dislike_are_refused(bad, tmp_path, video):
    with pytest.raises(LCRError, match="gesture name|empty gesture name"):
        check_label(bad)
    res = record("--out", tmp_path / "s", "--label", bad, "--source", video)
    assert "gesture name" in error(res)
    assert not (tmp_path / "s").exists()


def test_names_are_tidied_and_matched_to_known_ones():
    assert check_label("  thumb   UP ") == "Thumb Up"
    assert check_label("wave (left) & back") == "wave (left) & back"
    assert check_label("my gesture", known=["My Gesture"]) == "My Gesture"
    assert check_label("Café Ünïcode") == "Café Ünïcode"


def test_a_folder_that_is_not_a_gesture_set_is_left_alone(tmp_path, video):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"x")
    res = record("--out", tmp_path / "photos", "--label", "Thumb Up", "--source", video)
    assert "not a gesture set" in error(res)
    assert [p.name for p in (tmp_path / "photos").iterdir()] == ["holiday.jpg"]


def test_record_says_which_way_the_gesture_goes(tmp_path, video):
    """Jester's convention: directions as the person performing sees them."""
    from lcr_edge.howto import DIRECTION, HOW_TO
    from lcr_edge.labels import IDLE_LABELS, JESTER_LABELS

    res = record("--out", tmp_path / "set", "--label", "swiping left", "--count", 1,
                 "--seconds", 1, "--source", video)
    assert res.exit_code == 0, res.output
    assert ("Swiping Left: sweep your open hand to YOUR left (on the mirrored preview it moves "
            "left)") in res.stderr
    res = record("--out", tmp_path / "set", "--label", "Waving Hello", "--count", 1,
                 "--seconds", 1, "--source", video)
    assert res.exit_code == 0 and "Waving Hello:" not in res.stderr  # a new name: no hint
    assert set(HOW_TO) == set(JESTER_LABELS) - set(IDLE_LABELS) and set(DIRECTION) <= set(HOW_TO)
    for name in ("Swiping Left", "Sliding Two Fingers Left"):
        assert "YOUR left" in DIRECTION[name] and "your left" in HOW_TO[name]
        right = name.replace("Left", "Right")
        assert "YOUR right" in DIRECTION[right] and "your right" in HOW_TO[right]
    assert "as YOU see it" in DIRECTION["Turning Hand Counterclockwise"]


def test_a_near_miss_name_suggests_the_jester_one_and_records_nothing(tmp_path, video):
    res = record("--out", tmp_path / "s", "--label", "Thumbs Up", "--source", video, "--count", 1,
                 "--seconds", 1)
    assert "did you mean --label 'Thumb Up'" in error(res) and "--new" in error(res)
    assert not any((tmp_path / "s").glob("*/clip.json"))
    res = record("--out", tmp_path / "s", "--label", "Thumbs Up", "--source", video, "--count", 1,
                 "--seconds", 1, "--new")
    assert res.exit_code == 0, res.output
    assert rows(tmp_path / "s" / "jester-v1-labels.csv") == [["Thumbs Up"]]


def test_set_warnings_name_what_a_set_lacks():
    from lcr_edge.recording import set_warnings

    w = set_warnings({"Thumb Up": 5, "Waving Hello": 2})
    assert any("'Waving Hello'" in x and "not measured" in x for x in w)
    assert any("no 'No gesture' clips" in x for x in w) and not any("'Thumb Up'" in x for x in w)
    assert set_warnings({"Thumb Up": 5, "No gesture": 4}) == []
