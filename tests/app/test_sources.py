"""Sources: specs, model-rate resampling, latest-only delivery with drop counts, camera loss."""

import threading
import time

import cv2
import numpy as np
import pytest
from fakes import frame_index, synthetic_frames, write_video

from lcr_edge.errors import LCRError
from lcr_edge.sources import (
    CameraSource,
    FrameFolderSource,
    FrameSource,
    LatestFrameReader,
    VideoFileSource,
    iter_frames,
    list_cameras,
    open_source,
)


def wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_open_source_specs(tmp_path):
    assert isinstance(open_source("0"), CameraSource)
    video = write_video(tmp_path / "v.avi", 4)
    assert isinstance(open_source(video), VideoFileSource)
    assert isinstance(open_source(tmp_path), FrameFolderSource)
    with pytest.raises(LCRError, match="nope.mp4: no such file or folder"):
        open_source(tmp_path / "nope.mp4")
    (tmp_path / "junk.avi").write_bytes(b"not a video")
    with pytest.raises(LCRError, match="junk.avi: cannot decode"):
        VideoFileSource(tmp_path / "junk.avi").open()
    with pytest.raises(LCRError, match="no .jpg"):
        FrameFolderSource(tmp_path / "empty").open()


def test_list_cameras_names_the_v4l2_capture_nodes_in_number_order(tmp_path, monkeypatch):
    import lcr_edge.sources

    # video1 is video0's metadata node (index 1); video2 has no readable name: named by its node
    for node, name, index in [(0, "Integrated Camera", "0"), (1, "Integrated Camera", "1"),
                              (10, "USB camera", "0"), (2, None, None)]:
        folder = tmp_path / f"video{node}"
        folder.mkdir()
        if name:
            (folder / "name").write_text(name + "\n")
            (folder / "index").write_text(index + "\n")
    monkeypatch.setattr(lcr_edge.sources, "V4L2_DEVICES", str(tmp_path))
    assert list_cameras() == [(0, "Integrated Camera"), (2, "video2"), (10, "USB camera")]


def test_list_cameras_without_v4l2_probes_the_indices_opencv_opens(tmp_path, monkeypatch):
    import lcr_edge.sources

    class FakeCapture:  # only camera 1 answers
        def __init__(self, index):
            self.index = index

        def isOpened(self):
            return self.index == 1

        def release(self):
            pass

    monkeypatch.setattr(lcr_edge.sources, "V4L2_DEVICES", str(tmp_path / "no-sysfs"))
    monkeypatch.setattr(lcr_edge.sources.cv2, "VideoCapture", FakeCapture)
    assert list_cameras(max_probe=4) == [(1, "camera 1")]


def test_iter_frames_resamples_to_the_model_rate(tmp_path):
    fast = write_video(tmp_path / "fast.avi", 24, fps=24)
    got = [(f.index, frame_index(f.image)) for f in iter_frames(open_source(fast), 12)]
    assert [i for i, _ in got] == list(range(0, 24, 2))
    assert all(i == j for i, j in got)  # the right pixels, not only the right counter
    same = write_video(tmp_path / "same.avi", 10, fps=12)
    assert len(list(iter_frames(open_source(same), 12))) == 10


def test_frame_folder_in_name_order(tmp_path):
    for i, f in enumerate(synthetic_frames(5)):
        cv2.imwrite(str(tmp_path / f"{i + 1:05d}.png"), f)
    got = [frame_index(f.image) for f in iter_frames(open_source(tmp_path), 12)]
    assert got == [0, 1, 2, 3, 4]


def test_latest_only_drops_stale_frames_and_counts_them(tmp_path):
    video = write_video(tmp_path / "v.avi", 40, fps=12)
    reader = LatestFrameReader(open_source(video), 12, realtime=False).start()
    assert wait_for(lambda: reader.finished)
    # The model took nothing while 40 frames were captured: only the newest is left.
    last = reader.take()
    assert frame_index(last.image) == 39 and last.index == 39
    assert reader.captured == 40 and reader.dropped == 39 and reader.delivered == 1
    assert reader.take() is None
    assert reader.status.endswith("end of stream")


class PacingClock(threading.Event):
    """The reader's clock and stop event in one: time moves only when the reader waits, so the
    waits it asks for are its pacing, without the wall clock."""

    def __init__(self):
        super().__init__()
        self.now, self.waits = 0.0, []

    def perf_counter(self):
        return self.now

    def wait(self, timeout=None):
        self.waits.append(timeout)
        self.now += timeout
        return self.is_set()


def test_realtime_file_is_paced_and_consumer_sees_increasing_frames(tmp_path, monkeypatch):
    import lcr_edge.sources

    clock = PacingClock()
    monkeypatch.setattr(lcr_edge.sources, "time", clock)
    video = write_video(tmp_path / "v.avi", 12, fps=24)
    reader = LatestFrameReader(open_source(video), 12, realtime=True)
    reader._stop = clock
    reader.start()
    seen = []
    while not reader.finished or reader._model_slot is not None:
        f = reader.take(timeout=0.2)
        if f is not None:
            seen.append(f.index)
    # one wait of 1/24 s after each of the 12 frames: 0.5 s in all
    assert clock.waits == pytest.approx([1 / 24] * 12) and clock.now == pytest.approx(0.5)
    assert seen and seen == sorted(seen) and all(i % 2 == 0 for i in seen)  # 12 fps out of 24


class FlakyCamera(FrameSource):
    """A live source that fails to open once, delivers 5 frames, disappears, then comes back."""

    name, live, fps = "flaky camera", True, 100.0

    def __init__(self):
        self.opens = 0
        self.reads = 0

    def open(self):
        self.opens += 1
        if self.opens == 1:
            raise LCRError("flaky camera: cannot open")
        self.reads = 0

    def read(self):
        self.reads += 1
        time.sleep(0.01)
        if self.opens == 2 and self.reads > 5:
            return None  # unplugged
        return np.full((8, 8, 3), self.opens, np.uint8)


def test_camera_that_disappears_is_reported_and_retried():
    statuses = []
    reader = LatestFrameReader(FlakyCamera(), 12, retry_s=0.05,
                               on_status=lambda text, err: statuses.append(text))
    reader.start()
    try:
        assert wait_for(lambda: reader.source.opens >= 3)
        # Frames flow again, from the reopened camera.
        assert wait_for(lambda: reader.latest().image[0, 0, 0] == 3)
        assert wait_for(lambda: (f := reader.take(0.1)) is not None and f.image[0, 0, 0] == 3)
    finally:
        reader.stop()
    text = " | ".join(statuses)
    assert "cannot open; retrying" in text and "lost (unplugged?); retrying" in text, text
    assert statuses.count("flaky camera: running") >= 2


def test_missing_camera_index_is_an_error_status_not_a_crash():
    reader = LatestFrameReader(CameraSource(97), 12, retry_s=0.05).start()
    try:
        assert wait_for(lambda: reader.error is not None)
        assert "camera 97: cannot open" in reader.error and "retrying" in reader.error
        assert reader.take(0.05) is None
    finally:
        reader.stop()


def test_a_camera_that_never_opens_is_given_up_after_max_retries():
    statuses = []
    reader = LatestFrameReader(CameraSource(97), 12, retry_s=0.01, max_retries=3,
                               on_status=lambda text, err: statuses.append(text)).start()
    try:
        assert wait_for(lambda: reader.finished)
    finally:
        reader.stop()
    assert [s[-5:] for s in statuses[:3]] == ["(1/3)", "(2/3)", "(3/3)"]
    assert "gave up after 3 retries" in statuses[-1] and reader.error == statuses[-1]


def test_looping_file_keeps_time_increasing(tmp_path):
    video = write_video(tmp_path / "v.avi", 6, fps=12)
    reader = LatestFrameReader(open_source(video), 12, realtime=True, loop=True).start()
    seen = []
    try:
        while len(seen) < 14:
            f = reader.take(timeout=0.5)
            assert f is not None
            seen.append((f.index, f.t))
    finally:
        reader.stop()
    idx = [i for i, _ in seen]
    assert any(b < a for a, b in zip(idx, idx[1:], strict=False)), idx  # it looped
    times = [t for _, t in seen]
    assert all(b > a for a, b in zip(times, times[1:], strict=False)), times


def test_a_camera_index_no_system_has_is_refused():
    with pytest.raises(LCRError, match="no such camera index"):
        open_source("99999999999999999999")
