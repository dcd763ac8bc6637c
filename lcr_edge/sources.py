"""Frames from a camera, a video file or a folder of images, at the model's frame rate.

Two ways to consume a source:
- `iter_frames(source, frame_rate)`: every frame due at the model rate, in order, as fast as the
  caller takes them (offline: `lcr-edge run` on a file, evaluation). Nothing is dropped.
- `LatestFrameReader(source, frame_rate)`: a capture thread reads the source continuously (a
  camera's driver buffer never fills up, so there is no lag) and keeps only the newest frame due
  at the model rate; `take()` returns it. Capture never waits for inference: a frame the model
  did not take before the next one arrived is dropped and counted. A camera that fails to open or
  disappears is reported (`status`) and retried every `retry_s`, never raised; after
  `max_retries` failures in a row it is given up, with a status that says so.

Specs (`open_source`): "0", "1" ... a camera index; a path to a video file; a path to a folder of
.jpg/.png frames (read in name order, as in the 20BN Jester layout).

>>> src = open_source("0")
>>> src.name, src.live
('camera 0', True)
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lcr_edge import paths
from lcr_edge.errors import LCRError
from lcr_edge.io import read_image
from lcr_edge.labels import JESTER_FPS

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass
class Frame:
    image: np.ndarray  # HxWx3 BGR uint8
    index: int  # frame number in the source (since it was opened)
    t: float  # seconds (file: index / fps, continuing over loops; camera: since start)


# ---------------------------------------------------------------- sources

class FrameSource:
    """open() raises LCRError; read() -> BGR frame or None (end of file, or a camera failure)."""

    name = "source"
    live = False  # a camera: frames come in real time, cannot be replayed
    fps = 0.0  # native rate (0: unknown)

    def open(self) -> None:
        raise NotImplementedError

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CameraSource(FrameSource):
    live = True

    def __init__(self, index: int, width: int | None = None, height: int | None = None):
        self.index, self.width, self.height = index, width, height
        self.name = f"camera {index}"
        self._cap = None

    def open(self) -> None:
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # no probing noise
        try:
            cap = cv2.VideoCapture(self.index)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not cap.isOpened():
            cap.release()
            raise LCRError(f"{self.name}: cannot open (not connected, or in use by another "
                           f"program); cameras found: {describe_cameras()}")
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # we read continuously; never queue stale frames
        if self.width and self.height:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource(FrameSource):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = self.path.name
        self._cap = None

    def open(self) -> None:
        if not self.path.is_file():
            raise LCRError(f"{self.path}: no such video file")
        cap = cv2.VideoCapture(str(self.path))
        ok = cap.isOpened()
        if ok:
            ok, first = cap.read()
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        if not ok:
            cap.release()
            raise LCRError(f"{self.path}: cannot decode this file as video")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0 < fps < 1000 else 0.0
        self.expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)  # what the header promises
        self.read_frames = 0
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if ok:
            self.read_frames += 1
        return frame if ok else None

    def shortfall(self) -> str | None:
        """After the last frame: a line saying the file ended early (cut short, damaged), or
        None. A few frames of slack: containers round their frame counts."""
        if self.expected and self.read_frames < self.expected - 2:
            return (f"{self.path}: ended after {self.read_frames} of the {self.expected} frames its "
                    f"header lists (the file is cut short or damaged)")
        return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FrameFolderSource(FrameSource):
    """A folder of images read in name order (Jester: 00001.jpg, 00002.jpg ...)."""

    def __init__(self, path: str | Path, fps: float = JESTER_FPS):
        self.path = Path(path)
        self.name = self.path.name + "/"
        self.fps = fps
        self._files: list[str] = []
        self._i = 0

    def open(self) -> None:
        files = sorted(f for f in glob.glob(str(self.path / "*"))
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise LCRError(f"{self.path}: no {'/'.join(IMAGE_EXTENSIONS)} frames in this folder")
        self._files, self._i = files, 0

    def read(self) -> np.ndarray | None:
        while self._i < len(self._files):
            frame = read_image(self._files[self._i])  # None: unreadable or cut short, skipped
            self._i += 1
            if frame is not None:
                return frame
        return None


RETRY_S = 1.0  # seconds between two tries of a failing camera
MAX_CAMERA_INDEX = 255  # beyond any /dev/videoN; OpenCV takes the index as an int
FIRST_OPEN_RETRIES = 5  # tries for a camera that has not given one frame yet


def open_source(spec: str | int | Path, folder_fps: float = JESTER_FPS) -> FrameSource:
    """"0" -> camera 0; a file -> video; a folder -> frames; "demo" -> the bundled demo clip.
    Not opened yet (call .open())."""
    s = str(spec).strip()
    if s.isdigit():
        if int(s) > MAX_CAMERA_INDEX:
            raise LCRError(f"camera {s}: no such camera index (0-{MAX_CAMERA_INDEX}; "
                           f"`lcr-edge run --list-cameras` lists them)")
        return CameraSource(int(s))
    if s == "demo" and not Path(s).exists():
        s = str(paths.DEMO_CLIP)
    p = Path(s).expanduser()
    if p.is_dir():
        return FrameFolderSource(p, folder_fps)
    if p.is_file():
        return VideoFileSource(p)
    raise LCRError(f"{s}: no such file or folder (a source is a camera index such as 0, a video "
                   "file, a folder of frames, or demo)")


V4L2_DEVICES = "/sys/class/video4linux"  # Linux's video devices (tests point it at a fake tree)


def list_cameras(max_probe: int = 6) -> list[tuple[int, str]]:
    """[(index, name)] of the cameras present. Linux: the V4L2 capture nodes (no device is
    opened); elsewhere: indices 0..max_probe-1 that OpenCV can open."""
    if os.path.isdir(V4L2_DEVICES):
        cams = []
        for dev in sorted(glob.glob(f"{V4L2_DEVICES}/video*"),
                          key=lambda d: int(d.rsplit("video", 1)[1] or 0)):
            idx = int(dev.rsplit("video", 1)[1])
            try:
                name = Path(dev, "name").read_text().strip()
                # A webcam exposes a metadata node too; index 0 of the device is the capture one.
                if Path(dev, "index").read_text().strip() not in ("0", ""):
                    continue
            except OSError:
                name = f"video{idx}"
            cams.append((idx, name))
        return cams
    cams = []
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        for i in range(max_probe):
            cap = cv2.VideoCapture(i)
            if cap.isOpened():
                cams.append((i, f"camera {i}"))
            cap.release()
    finally:
        cv2.utils.logging.setLogLevel(level)
    return cams


def describe_cameras() -> str:
    cams = list_cameras()
    return ", ".join(f"{i} ({n})" for i, n in cams) if cams else "none"


def default_source() -> tuple[str, str | None]:
    """(source, notice): the first camera, else the bundled demo clip and a line saying so."""
    cams = list_cameras()
    if cams:
        return str(cams[0][0]), None
    clip = paths.DEMO_CLIP
    if not clip.is_file():
        raise LCRError("no camera found and no bundled demo clip in this install: "
                       "pass --source (a video file or a folder of frames)")
    return str(clip), (f"no camera found: playing the bundled demo clip ({clip.name}, "
                       "six synthetic gestures); --source picks another")


# ---------------------------------------------------------------- offline

def iter_frames(source: FrameSource, frame_rate: float) -> Iterator[Frame]:
    """Every frame due at `frame_rate` (source frames are picked by time; a source slower than
    the model gives each frame once). Opens and closes the source."""
    source.open()
    try:
        native = source.fps if source.fps > 0 else frame_rate
        step = 1.0 / frame_rate
        due, i = 0.0, 0
        while (image := source.read()) is not None:
            t = i / native
            if t + 1e-6 >= due:
                yield Frame(image, i, t)
                due += step * max(1, int((t + 1e-6 - due) / step) + 1)
            i += 1
    finally:
        source.close()


# ---------------------------------------------------------------- live

class LatestFrameReader:
    """A capture thread with a latest-only slot for the model and one for display.

    realtime=True paces files and folders at their native rate (as if they were a camera);
    loop=True restarts them at the end. `on_status(text, is_error)` is called from the capture
    thread on every change of status (running, camera lost and retried, end of stream, error).
    """

    def __init__(self, source: FrameSource, frame_rate: float, realtime: bool = True,
                 loop: bool = False, retry_s: float | None = None, max_retries: int = 30,
                 on_status: Callable[[str, bool], None] | None = None):
        self.source, self.frame_rate = source, float(frame_rate)
        self.realtime, self.loop = realtime, loop
        self.retry_s = RETRY_S if retry_s is None else retry_s
        self.max_retries = max_retries  # a camera failing this many times in a row is given up
        self._failures = 0
        self.on_status = on_status
        self.status = "starting"
        self.error: str | None = None  # set while the source is failing; None when it is fine
        self.finished = False
        self.captured = self.delivered = self.dropped = 0
        self.camera_fps = 0.0
        self._cond = threading.Condition()
        self._model_slot: Frame | None = None
        self._display: Frame | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture {source.name}",
                                        daemon=True)

    def start(self) -> LatestFrameReader:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the capture thread to end; wait up to `timeout` (0 from a GUI thread)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if timeout and self._thread.is_alive():
            self._thread.join(timeout)

    def take(self, timeout: float | None = 0.0) -> Frame | None:
        """The newest frame due for the model (once), or None if none came within `timeout`."""
        with self._cond:
            if self._model_slot is None and timeout and not self.finished:
                self._cond.wait(timeout)
            frame, self._model_slot = self._model_slot, None
            if frame is not None:
                self.delivered += 1
            return frame

    def latest(self) -> Frame | None:
        """The newest captured frame, for display (not consumed)."""
        with self._cond:
            return self._display

    def _set_status(self, text: str, error: bool = False) -> None:
        self.error = text if error else None
        if text != self.status:
            self.status = text
            if self.on_status is not None:
                self.on_status(text, error)

    def _open(self) -> bool:
        try:
            self.source.open()
            return True
        except LCRError as exc:
            if not self.source.live:  # a bad file does not get better by retrying
                self._set_status(str(exc), error=True)
                self.finished = True
                return False
            self._retry_or_give_up(str(exc))
            return False

    def _retry_or_give_up(self, why: str) -> None:
        """A live source failed again: wait and retry, or, after `max_retries` failures in a row,
        stop with a last status that says so (a missing camera must not spin for ever)."""
        self._failures += 1
        # a camera that never gave a frame (a wrong index) is given up sooner than one that ran
        limit = self.max_retries if self.captured else min(self.max_retries, FIRST_OPEN_RETRIES)
        if self._failures > limit:
            self._set_status(f"{why}; gave up after {limit} retries ({limit * self.retry_s:g} s)",
                             error=True)
            self.finished = True
            return
        self._set_status(f"{why}; retrying every {self.retry_s:g} s ({self._failures}/{limit})",
                         error=True)
        self._stop.wait(self.retry_s)

    def _run(self) -> None:
        # Frame times never go back (a looping file, a camera that came back): the event rules'
        # cooldowns and suppressions are measured in them.
        t0, offset, due, t = time.perf_counter(), 0.0, 0.0, -1.0
        try:
            while not self._stop.is_set() and not self.finished:
                if not self._open():
                    continue
                self._set_status(f"{self.source.name}: running")
                native = self.source.fps if self.source.fps > 0 else self.frame_rate
                offset = t + 1.0 / native if t >= 0 else 0.0
                start, i, last = time.perf_counter(), 0, None
                while not self._stop.is_set():
                    image = self.source.read()
                    now = time.perf_counter()
                    if image is None:
                        break
                    self._failures = 0
                    self.captured += 1
                    t = now - t0 if self.source.live else offset + i / native
                    if last is not None and now > last:
                        self.camera_fps = 0.9 * self.camera_fps + 0.1 / (now - last) \
                            if self.camera_fps else 1.0 / (now - last)
                    last = now
                    frame = Frame(image, i, t)
                    with self._cond:
                        self._display = frame
                        if t + 1e-6 >= due:
                            step = 1.0 / self.frame_rate  # may change (a new model)
                            due += step * max(1, int((t + 1e-6 - due) / step) + 1)
                            if self._model_slot is not None:
                                self.dropped += 1  # the model did not keep up: drop, never queue
                            self._model_slot = frame
                            self._cond.notify_all()
                    i += 1
                    if self.realtime and not self.source.live:
                        self._stop.wait(max(0.0, start + i / native - time.perf_counter()))
                self.source.close()
                if self._stop.is_set():
                    break
                if self.source.live:
                    self._retry_or_give_up(f"{self.source.name}: lost (unplugged?)")
                elif not self.loop:
                    self._set_status(f"{self.source.name}: end of stream")
                    self.finished = True
        finally:
            self.source.close()
            with self._cond:
                self.finished = True
                self._cond.notify_all()
