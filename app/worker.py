"""The inference worker: one long-lived QObject on its own QThread owns the recognizer, the event
engine and their state. The GUI talks to it only through queued signals, and it answers only
through signals carrying copies (StepResult holds numpy copies), so no widget is ever touched off
the GUI thread and the GUI never waits for the model.

Frames come from a `LatestFrameReader` (capture thread, latest-only slot); the worker polls the
slot every few milliseconds and runs the model on the newest frame. A slow model therefore drops
frames (counted, shown in the HUD) instead of building up lag.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable

from PyQt6.QtCore import QObject, QThread, QTimer, pyqtSignal, pyqtSlot

from lcr_edge.engine import Engine
from lcr_edge.errors import LCRError
from lcr_edge.events import EventConfig
from lcr_edge.sources import LatestFrameReader

POLL_MS = 4


class InferenceWorker(QObject):
    result = pyqtSignal(object)  # StepResult with .extra: fps, dropped, behind
    model_loaded = pyqtSignal(object)  # {"labels", "frame_rate", "metadata", "name"}
    status = pyqtSignal(str, bool)  # message, is_error
    model_failed = pyqtSignal(str, str)  # spec, why

    def __init__(self, load_recognizer: Callable[[str], object]):
        super().__init__()
        self._load = load_recognizer
        self.engine: Engine | None = None
        self.reader: LatestFrameReader | None = None
        self.events_config = EventConfig()
        self.want_edges = False
        self._timer: QTimer | None = None
        self._model_fps = 0.0
        self._last_step_end: float | None = None
        self._last_dropped = 0
        self._dropped_base = 0  # frames the reader dropped before this model ran (its loading)
        self._behind_until = 0.0

    @pyqtSlot()
    def start(self) -> None:
        """Runs on the worker thread (connected to QThread.started)."""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    @pyqtSlot()
    def stop(self) -> None:
        if self._timer is not None:  # stopped and deleted here, on the thread that owns it
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None
        self.reader = None

    @pyqtSlot(str)
    def load_model(self, spec: str) -> None:
        """Open a model (slow: runs here, on the worker thread, never on the GUI's)."""
        try:
            rec = self._load(spec)
        except LCRError as exc:
            self.status.emit(f"model: {exc}", True)
            self.model_failed.emit(str(spec), str(exc))
            return
        except Exception as exc:  # a broken artifact must not take the app down
            traceback.print_exc()
            self.status.emit(f"model: cannot load {spec}: {type(exc).__name__}: {exc}", True)
            self.model_failed.emit(str(spec), f"{type(exc).__name__}: {exc}")
            return
        self.engine = Engine(rec, self.events_config)
        self.engine.reset()
        if self.reader is not None:
            self.reader.frame_rate = self.engine.frame_rate
            # frames missed while the model loaded (this thread was busy) are not the model
            # falling behind: the stale frame waiting in the slot is discarded, drops count from now
            self.reader.take(0)
            self._dropped_base = self._last_dropped = self.reader.dropped
        self.model_loaded.emit({"labels": list(rec.labels), "frame_rate": self.engine.frame_rate,
                                "metadata": dict(getattr(rec, "metadata", {}) or {}),
                                "name": str(spec)})

    @pyqtSlot(object)
    def set_reader(self, reader: LatestFrameReader | None) -> None:
        self.reader = reader
        self._last_dropped = self._dropped_base = reader.dropped if reader else 0
        if reader is not None and self.engine is not None:
            reader.frame_rate = self.engine.frame_rate
        if self.engine is not None:
            self.engine.reset()

    @pyqtSlot(object)
    def set_events(self, config: EventConfig) -> None:
        self.events_config = config
        if self.engine is not None:
            self.engine.set_events(config)

    @pyqtSlot(bool)
    def set_edges(self, on: bool) -> None:
        self.want_edges = on

    @pyqtSlot()
    def reset(self) -> None:
        if self.engine is not None:
            self.engine.reset()

    @pyqtSlot()
    def _poll(self) -> None:
        reader, engine = self.reader, self.engine
        if reader is None:
            return
        frame = reader.take(0)  # without a model, frames are taken and discarded: not "dropped"
        if frame is None or engine is None:
            return
        try:
            res = engine.step(frame.image, frame.t, frame.index, want_edges=self.want_edges)
        except Exception as exc:
            traceback.print_exc()
            self.status.emit(f"model: step failed: {type(exc).__name__}: {exc}", True)
            self.engine = None
            return
        now = time.perf_counter()
        if self._last_step_end is not None and now > self._last_step_end:
            inst = 1.0 / (now - self._last_step_end)
            self._model_fps = inst if not self._model_fps else 0.8 * self._model_fps + 0.2 * inst
        self._last_step_end = now
        # Behind: the last step took longer than a frame interval, or frames were dropped lately.
        if reader.dropped > self._last_dropped or \
                res.timings.get("total", 0.0) > 1000.0 / engine.frame_rate:
            self._behind_until = now + 1.0
        self._last_dropped = reader.dropped
        res.extra = {"model_fps": self._model_fps, "camera_fps": reader.camera_fps,
                     "dropped": reader.dropped - self._dropped_base, "captured": reader.captured,
                     "behind": now < self._behind_until, "frame_rate": engine.frame_rate}
        self.result.emit(res)


class WorkerHost(QObject):
    """Owns the worker's QThread; the GUI calls these signals, they are queued to the worker."""

    load_model = pyqtSignal(str)
    set_reader = pyqtSignal(object)
    set_events = pyqtSignal(object)
    set_edges = pyqtSignal(bool)
    reset = pyqtSignal()
    _stop = pyqtSignal()

    def __init__(self, load_recognizer: Callable[[str], object], parent=None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("inference")
        self.worker = InferenceWorker(load_recognizer)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.start)
        self.load_model.connect(self.worker.load_model)
        self.set_reader.connect(self.worker.set_reader)
        self.set_events.connect(self.worker.set_events)
        self.set_edges.connect(self.worker.set_edges)
        self.reset.connect(self.worker.reset)
        self._stop.connect(self.worker.stop)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop the worker's timer on its own thread, then the thread. A model being loaded or a
        step being run cannot be interrupted: wait for it (a load takes seconds on a busy CPU).
        A thread left running would have its timer destroyed from this one when Python exits
        ("Timers cannot be stopped from another thread")."""
        if self.thread.isRunning():
            self._stop.emit()
            self.thread.quit()
            if not self.thread.wait(timeout_ms):
                print(f"warning: the inference thread did not stop within {timeout_ms / 1000:.0f} s",
                      file=sys.stderr)
