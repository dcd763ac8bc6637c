""""Teach a gesture": record clips of your own gestures from the live source, look at each one,
discard a bad one, then fine-tune and switch the app to the new model without a restart.

Frames come from the main window's capture (the camera is open once, by the window): a timer at
the recording rate (12 fps) hands the newest displayed frame to a `lcr_edge.recording.ClipCapture`
and clips are written by `RecordingSet`, the same code as `lcr-edge record`. Fine-tuning runs
`lcr-edge finetune` in a separate process (QProcess: the GUI stays responsive, the app needs no
torch) from the model the window runs (`base_model`, its folder's checkpoint.pt; the bundled
model when none was chosen), and `model_ready(path)` is emitted when its artifact is written. The
dialog shows which way a named gesture goes (`lcr_edge.howto`): as the person performing sees it,
the preview being mirrored like the main window's live view.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QEvent, QProcess, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from lcr_edge.app.widgets import VideoView
from lcr_edge.artifact import CHECKPOINT
from lcr_edge.errors import LCRError
from lcr_edge.howto import gesture_hint
from lcr_edge.paths import default_model_dir
from lcr_edge.recording import MIN_FRAMES, RECORD_FPS, ClipCapture, RecordingSet, SourceFailed, check_label

DEFAULT_SET = Path.home() / "lcr-edge" / "my-gestures"


_BAR = re.compile(r"^(?P<desc>.*?):?\s*(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<rest>.*)$")


class ProgressLog:
    """A child process's output (tqdm bars redrawn with "\\r") -> what the dialog shows: `feed`
    returns ("bar", percent, label) for each redraw of a bar and ("line", text) for each line of
    the log. A bar's last state (the line it ends with "\\n") enters the log once, as plain text
    without the bar's block characters."""

    def __init__(self):
        self._pending = ""

    @staticmethod
    def _plain(m: re.Match) -> str:
        return f"{m['desc']}: {m['pct']}% {m['rest']}".strip()

    def feed(self, text: str) -> list[tuple]:
        out = []
        parts = re.split(r"(\r\n|\r|\n)", self._pending + text)
        self._pending = parts.pop()  # after the last separator: not finished yet
        for segment, sep in zip(parts[::2], parts[1::2], strict=True):
            line = segment.rstrip()
            if not line.strip():
                continue
            m = _BAR.match(line)
            if m and sep == "\r":
                out.append(("bar", min(100, int(m["pct"])), f"{m['desc']} {m['rest']}".strip()))
            else:
                out.append(("line", self._plain(m) if m else line))
        m = _BAR.match(self._pending.rstrip())  # tqdm draws "\\r" + bar: show it before the next
        if m:
            out.append(("bar", min(100, int(m["pct"])), f"{m['desc']} {m['rest']}".strip()))
        return out


class TeachDialog(QDialog):
    model_ready = pyqtSignal(str)  # an exported folder, ready to load

    def __init__(self, frame_source: Callable[[], np.ndarray | None], base_model: str = "",
                 set_dir: str | Path | None = None, labels=(), parent=None,
                 countdown_s: int = 3):
        super().__init__(parent)
        self.setWindowTitle("Teach a gesture")
        self.frame_source, self.countdown_s = frame_source, countdown_s
        self.rs: RecordingSet | None = None
        self.capture = ClipCapture()  # fed the window's newest frame while a clip records
        self.want = 0  # frames of the clip being recorded (its countdown included); 0: none
        self.left = 0
        self.preview_frames: list[np.ndarray] = []
        self.preview_i = 0
        self.process: QProcess | None = None

        self.view = VideoView(self)
        self.view.mirror = True
        form = QFormLayout()
        self.set_dir = QLineEdit(str(set_dir or DEFAULT_SET), self)
        browse = QPushButton("…", self)
        browse.clicked.connect(self._pick_dir)
        row = QHBoxLayout()
        row.addWidget(self.set_dir, 1)
        row.addWidget(browse)
        form.addRow("Gesture set", row)
        self.label = QComboBox(self)
        self.label.setEditable(True)
        self.label.addItems([lb for lb in labels])
        self.label.setEditText("")
        self.label.lineEdit().setPlaceholderText("e.g. Waving Hello, or one of the model's")
        form.addRow("Gesture name", self.label)
        self.hint = QLabel("", self)  # which way the named gesture goes
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #505050;")
        form.addRow("", self.hint)
        self.label.currentTextChanged.connect(self._show_hint)
        self.seconds = QDoubleSpinBox(self)
        self.seconds.setRange(MIN_FRAMES / RECORD_FPS, 10.0)
        self.seconds.setValue(3.0)
        self.seconds.setSuffix(" s")
        form.addRow("Clip length", self.seconds)
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 60)
        self.minutes.setValue(5)
        self.minutes.setSuffix(" min")
        form.addRow("Fine-tune budget", self.minutes)
        self.base_label = QLabel("", self)
        self.base_label.setWordWrap(True)
        form.addRow("Fine-tune from", self.base_label)
        self.base_model = base_model  # the model the window runs ("": the bundled one)

        self.record_btn = QPushButton("Record a clip (3-2-1)", self)
        self.record_btn.clicked.connect(self.start_recording)
        self.clips = QListWidget(self)
        self.clips.currentItemChanged.connect(self._show_clip)
        self.discard_btn = QPushButton("Discard selected clip", self)
        self.discard_btn.clicked.connect(self.discard_selected)
        self.finetune_btn = QPushButton("Fine-tune and use the new model", self)
        self.finetune_btn.clicked.connect(self.start_finetune)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(300)
        self.progress = QProgressBar(self)  # the child's progress bars, redrawn in place
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.output = ProgressLog()

        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.record_btn)
        side.addWidget(QLabel("Recorded clips (select one to watch it):", self))
        side.addWidget(self.clips, 1)
        side.addWidget(self.discard_btn)
        side.addWidget(self.finetune_btn)
        side.addWidget(self.status)
        side.addWidget(self.progress)
        side.addWidget(self.log)
        lay = QHBoxLayout(self)
        lay.addWidget(self.view, 3)
        lay.addLayout(side, 2)
        self.resize(1000, 560)

        self.live_timer = QTimer(self)  # live view, countdown ticks and capture at 12 fps
        self.live_timer.setInterval(round(1000 / RECORD_FPS))
        self.live_timer.timeout.connect(self._tick)
        self.live_timer.start()
        self.count_timer = QTimer(self)
        self.count_timer.setInterval(1000)
        self.count_timer.timeout.connect(self._count)
        self.set_dir.editingFinished.connect(self.open_set)
        self.open_set()

    # ------------------------------------------------------------ the base model
    @property
    def base_model(self) -> str:
        return self._base_model

    @base_model.setter
    def base_model(self, spec) -> None:
        """The model the window runs: an exported folder or a checkpoint ("": the default one,
        as the window loads it)."""
        self._base_model = str(spec or "")
        ckpt, why = self.base_checkpoint()
        self.base_label.setText(str(ckpt) if ckpt else why)
        self.base_label.setStyleSheet("" if ckpt else "color: #c00000;")

    def follow_window(self) -> None:
        """Take the window's current model choice (it may switch models, e.g. Model > Open
        model…, while this dialog stays open)."""
        running = getattr(self.parent(), "_teach_base", None)
        values = getattr(self.parent(), "values", None)
        if callable(running):
            self.base_model = running()
        elif isinstance(values, dict) and "model" in values:
            self.base_model = values["model"]

    def base_checkpoint(self) -> tuple[Path | None, str]:
        """(the FP32 checkpoint of the window's model, "") or (None, why there is none)."""
        spec = self._base_model or default_model_dir()
        if not spec:
            return None, ("No model is loaded: open an exported model folder first "
                          "(Model > Open model…).")
        path = Path(spec).expanduser()
        if path.is_file():  # a checkpoint (the torch backend runs .pt files)
            return path, ""
        if (path / CHECKPOINT).is_file():
            return path / CHECKPOINT, ""
        bundled = default_model_dir()
        is_bundled = not self._base_model or (bundled and path.resolve() == Path(bundled).resolve())
        which = "the bundled model" if is_bundled else "the loaded model"
        return None, (f"Cannot fine-tune {which} ({path}): it has no {CHECKPOINT}, the FP32 "
                      f"checkpoint fine-tuning starts from. Open a model folder that has one "
                      f"(Model > Open model…), e.g. one written by `lcr-edge export`, "
                      f"`lcr-edge quantize` or an earlier fine-tune.")

    # ------------------------------------------------------------ the set
    def open_set(self) -> bool:
        try:
            self.rs = RecordingSet.open(self.set_dir.text().strip())
        except LCRError as exc:
            self.rs = None
            self._say(str(exc), error=True)
            return False
        self.clips.clear()
        for cid, label in self.rs.rows + self.rs.val_rows:
            self._add_item(cid, label)
        for lb in self.rs.labels:
            if self.label.findText(lb) < 0:
                self.label.addItem(lb)
        self._say(self._summary())
        return True

    def _summary(self) -> str:
        counts = self.rs.counts() if self.rs else {}
        if not counts:
            return "No clips yet: name a gesture and record about 5 clips of it."
        return "In the set: " + ", ".join(f"{k} {v}" for k, v in counts.items())

    def _add_item(self, cid: str, label: str) -> None:
        item = QListWidgetItem(f"#{cid}  {label}")
        item.setData(Qt.ItemDataRole.UserRole, cid)
        self.clips.addItem(item)

    def _show_hint(self, text: str) -> None:
        self.hint.setText(gesture_hint(text))

    def _pick_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Gesture set folder", self.set_dir.text())
        if path:
            self.set_dir.setText(path)
            self.open_set()

    # ------------------------------------------------------------ recording
    @property
    def is_recording(self) -> bool:
        """A clip is being recorded (its countdown included): the window runs no actions then."""
        return getattr(self, "want", 0) > 0

    def start_recording(self) -> None:
        if self.rs is None and not self.open_set():
            return
        try:
            name = check_label(self.label.currentText(), self.rs.labels)
        except LCRError as exc:
            self._say(str(exc), error=True)
            return
        self.label.setEditText(name)
        self.want = round(self.seconds.value() * RECORD_FPS)
        self.preview_frames = []
        self.record_btn.setEnabled(False)
        self.left = self.countdown_s
        if self.left > 0:
            self.view.banner = str(self.left)
            self.count_timer.start()
        else:
            self._go()
        self._say(f"Recording {name!r}: get ready…" if self.left else f"Recording {name!r}")

    def _count(self) -> None:
        self.left -= 1
        if self.left > 0:
            self.view.banner = str(self.left)
        else:
            self.count_timer.stop()
            self._go()
        self.view.update()

    def _go(self) -> None:
        """The countdown is over: the clip starts with the next frame."""
        self.view.banner = "● REC"
        self.capture.start(self.want)

    def _tick(self) -> None:
        """12 fps: show the newest frame; while recording (after the countdown) offer it to the
        clip; while a clip is selected and not recording, play that clip instead."""
        if self.preview_frames and not self.want:
            self.view.show_frame(self.preview_frames[self.preview_i % len(self.preview_frames)])
            self.preview_i += 1
            return
        img = self.frame_source()
        if img is not None:
            self.view.show_frame(img)
        if not self.want or self.left > 0:
            return
        try:
            done = self.capture.offer(img)
        except SourceFailed as exc:
            self._finish(failed=len(exc.frames))
            return
        self.view.hint = (f"{len(self.capture.frames) / RECORD_FPS:.1f} / "
                          f"{self.want / RECORD_FPS:.1f} s")
        if done:
            self._finish()

    def _finish(self, failed: int | None = None) -> None:
        """The clip is complete (saved), or the source failed after `failed` frames (dropped)."""
        self.want = 0
        self.view.banner, self.view.hint = "", ""
        self.record_btn.setEnabled(True)
        name = self.label.currentText()
        if failed is not None:
            self._say(f"The source stopped after {failed} frames: clip dropped (clips "
                      f"already recorded are safe). Check the camera and record again.", True)
            return
        try:
            cid = self.rs.add_clip(name, self.capture.frames, source="app")
        except LCRError as exc:
            self._say(str(exc), error=True)
            return
        self._add_item(cid, check_label(name, self.rs.labels))
        self.clips.setCurrentRow(self.clips.count() - 1)  # play it back at once
        self._say(f"Saved clip #{cid}. " + self._summary())

    def _show_clip(self, item, _prev=None) -> None:
        if item is None or self.rs is None or self.want:
            self.preview_frames = []
            return
        self.preview_frames = self.rs.clip_frames(item.data(Qt.ItemDataRole.UserRole))
        self.preview_i = 0

    def discard_selected(self) -> None:
        item = self.clips.currentItem()
        if item is None or self.rs is None:
            return
        cid = item.data(Qt.ItemDataRole.UserRole)
        self.rs.discard(cid)
        self.clips.takeItem(self.clips.row(item))
        self.preview_frames = []
        self.clips.setCurrentItem(None)
        self._say(f"Discarded clip #{cid}. " + self._summary())

    def live(self) -> None:
        """Back to the live view (deselect the clip being played)."""
        self.clips.setCurrentItem(None)
        self.preview_frames = []

    # ------------------------------------------------------------ fine-tuning
    def out_dir(self) -> Path:
        return Path(self.set_dir.text().strip()).with_name(
            Path(self.set_dir.text().strip()).name + "-model")

    def finetune_command(self) -> list[str]:
        """`lcr-edge finetune` from the window's model's checkpoint (always named with --model,
        so the child process cannot pick another one)."""
        cmd = [sys.executable, "-m", "lcr_edge", "finetune", "--data", self.set_dir.text().strip(),
               "--out", str(self.out_dir()), "--minutes", str(self.minutes.value())]
        ckpt, _ = self.base_checkpoint()
        return cmd + (["--model", str(ckpt)] if ckpt else [])

    def start_finetune(self) -> None:
        if self.rs is None or len(self.rs.counts()) < 2:
            self._say("Record clips of at least two gestures first.", error=True)
            return
        self.follow_window()
        ckpt, why = self.base_checkpoint()
        if ckpt is None:  # said here, before any training starts
            self._say(why, error=True)
            return
        from lcr_edge.recording import set_warnings

        warnings = set_warnings(self.rs.counts())
        if warnings:  # said before training starts, so the user can record more first
            self.log.appendPlainText("\n".join(f"warning: {w}" for w in warnings))
        cmd = self.finetune_command()
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read_output)
        self.process.finished.connect(self._finetune_done)
        self.finetune_btn.setEnabled(False)
        self._say(f"Fine-tuning {ckpt} for up to {self.minutes.value()} min, then exporting…"
                  + (f" ({len(warnings)} warning(s) about the set below)" if warnings else ""))
        self.log.appendPlainText(" ".join(cmd))
        self.process.start(cmd[0], cmd[1:])

    def _read_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        for kind, *rest in self.output.feed(text):
            if kind == "bar":  # a refresh: the bar above the log, not one more log line
                pct, label = rest
                self.progress.setVisible(True)
                self.progress.setValue(pct)
                self.progress.setFormat(f"{label}  %p%")
            else:
                self.log.appendPlainText(rest[0])

    def _finetune_done(self, code: int, _status=None) -> None:
        self.finetune_btn.setEnabled(True)
        self.progress.setVisible(False)
        for _, line in self.output.feed("\n"):  # whatever the child left unfinished
            self.log.appendPlainText(line)
        if code != 0:
            self._say(f"Fine-tuning failed (exit {code}); see the log below.", error=True)
            return
        self._say(f"New model ready in {self.out_dir()}; the app now uses it.")
        self.model_ready.emit(str(self.out_dir()))
        self.follow_window()  # the window has switched to it: the next fine-tune starts there

    # ------------------------------------------------------------ misc
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c00000;" if error else "")
        self.log.appendPlainText(("error: " if error else "") + text)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.WindowActivate:  # back from the main window's menus
            self.follow_window()
        return super().event(event)

    def closeEvent(self, event) -> None:
        self.live_timer.stop()
        self.count_timer.stop()
        super().closeEvent(event)
