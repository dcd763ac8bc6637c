"""The main window. GUI thread only: it draws, dispatches actions and edits settings; capture runs
on the source's thread and the model on the worker's (app/worker.py).

Data flow: capture thread -> latest-only slots -> (a) the worker runs the model on the newest due
frame and sends a StepResult back by signal; (b) the UI timer (30 Hz) draws the newest captured
frame with the newest result. Events in every result are turned into actions here, in order.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeyEvent, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lcr_edge.actions import KEYS, ActionRunner, Profile, load_profile, parse_keys, run_shell
from lcr_edge.app.settings import AppSettings, SettingsDialog
from lcr_edge.app.widgets import Gallery, ProbabilityBars, VideoView
from lcr_edge.app.worker import WorkerHost
from lcr_edge.artifact import event_rules
from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_FPS, JESTER_LABELS
from lcr_edge.loader import load_recognizer
from lcr_edge.paths import DEMO_PLAYLIST, default_model_dir
from lcr_edge.sources import LatestFrameReader, default_source, open_source

BANNER_S = 1.5
UI_MS = 33


class MainWindow(QMainWindow):
    source_status = pyqtSignal(str, bool)  # emitted from the capture thread, queued to us
    source_works = pyqtSignal(str)  # likewise: a chosen source delivered frames

    def __init__(self, settings: AppSettings | None = None, load_model=None,
                 source: str | None = None, model: str | None = None,
                 profile: str | None = None, playlist=None):
        super().__init__()
        self.setWindowTitle("LCR-Edge")
        self.settings = settings or AppSettings()
        self.values = self.settings.all()
        # Source, model and profile are remembered for the next start only once they have loaded
        # (`_remember`): a typo on the command line must not become every later start's error.
        # A remembered one that no longer loads falls back to the bundled default, with a notice.
        for key, value in (("source", source), ("model", model), ("profile", profile)):
            if value is not None:  # given on the command line: used now, remembered if it works
                self.values[key] = str(value)
        self.labels = list(JESTER_LABELS)
        self.model_rules = None  # the loaded model's own event rules (model.json `events`)
        self.frame_rate = JESTER_FPS
        self.profile: Profile | None = None
        self.runner: ActionRunner | None = None
        self.reader: LatestFrameReader | None = None
        self.latest = None  # newest StepResult
        self.last_drawn = -1
        self.banner_until = 0.0
        self.errors: dict[str, str] = {}  # "source" / "model" / "profile" -> message
        self.log_lines: list[str] = []
        self.clock = 0.0  # seconds since start, advanced by the UI timer
        self.opened_at: float | None = None  # wall clock when the window first showed
        self.first_answer_s: float | None = None  # ... to the model's first answer

        self._build_ui()
        self._build_actions()

        def default_load(spec: str):
            return load_recognizer(spec, self.values["backend"])

        self.host = WorkerHost(load_model or default_load, self)
        self.host.worker.result.connect(self._on_result)
        self.host.worker.model_loaded.connect(self._on_model_loaded)
        self.host.worker.model_failed.connect(self._on_model_failed)
        self.host.worker.status.connect(lambda text, err: self._set_error("model", text))
        self.source_status.connect(self._on_source_status)
        self.source_works.connect(lambda spec: spec == self.values["source"]
                                  and self._remember("source", spec))
        self.host.set_edges.emit(self.values["edges"])

        self.load_profile(self.values["profile"])
        self.open_source(self.values["source"])
        model_dir = self.values["model"] or default_model_dir()  # the bundled one unless chosen
        if model_dir:
            self._load_model(str(model_dir))
        else:
            self._set_error("model", "no model loaded: choose an exported model folder in "
                                     "Settings (Ctrl+,)")
        playlist = playlist or self.values["playlist"] or (
            [DEMO_PLAYLIST] if DEMO_PLAYLIST.is_dir() else None)
        if playlist:
            self.player.set_playlist(playlist)
        self.ui_timer = QTimer(self)
        self.ui_timer.setInterval(UI_MS)
        self.ui_timer.timeout.connect(self._draw)
        self.ui_timer.start()

    # ------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.view = VideoView(self)
        self.view.mirror = self.values["mirror"]
        self.hud = QLabel(self)
        self.hud.setTextFormat(Qt.TextFormat.PlainText)
        self.notice = QLabel(self)  # e.g. "no camera found: playing the bundled demo clip"
        self.notice.setStyleSheet("color: #b35c00; font-weight: bold")
        self.statusBar().addPermanentWidget(self.notice)
        self.notice.hide()
        self.bars = ProbabilityBars(self)
        left = QWidget(self)
        lay = QVBoxLayout(left)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.hud)
        lay.addWidget(self.bars)

        # The player on top, always in view; below it the log and the gesture gallery as tabs
        # (reading the gallery must not hide what a gesture just did to the player).
        self.player, why = make_player(self)  # without QtMultimedia: a notice saying why
        self.gallery = Gallery(self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setPlaceholderText("Events and actions appear here.")
        if why:
            self.log.appendPlainText(why)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.gallery, "Gestures")
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.player)
        right.addWidget(self.tabs)
        right.setSizes([400, 240] if not why else [80, 560])

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([640, 560])
        self.setCentralWidget(split)
        self.resize(1240, 760)
        screen = self.screen()
        if screen is not None:  # never larger than the desktop (a 1366x768 laptop included)
            free = screen.availableGeometry()
            self.resize(min(1240, free.width()), min(760, free.height()))

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}

        def add(menu, name, text, keys, slot, checkable=False, checked=False):
            act = QAction(text, self)
            if keys:
                act.setShortcut(QKeySequence(keys))
                act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            act.setCheckable(checkable)
            if checkable:
                act.setChecked(checked)
                act.toggled.connect(slot)
            else:
                act.triggered.connect(lambda _=False: slot())
            menu.addAction(act)
            self.addAction(act)
            self.actions_by_name[name] = act

        bar = self.menuBar()
        m = bar.addMenu("&File")
        add(m, "open_video", "Open video…", "Ctrl+O", self._pick_video)
        add(m, "settings", "Settings…", "Ctrl+,", self.edit_settings)
        add(m, "reset_defaults", "Reset to defaults", "", self.reset_to_defaults)
        add(m, "quit", "Quit", "Ctrl+Q", self.close)
        m = bar.addMenu("&View")
        add(m, "mirror", "Mirror live view", "Ctrl+M", self._set_mirror, True, self.view.mirror)
        add(m, "edges", "Edge overlay", "E", self._set_edges, True, self.values["edges"])
        add(m, "gallery", "Gesture gallery", "G", lambda: self.tabs.setCurrentWidget(self.gallery))
        m = bar.addMenu("&Player")
        for name, text, keys in [("play_pause", "Play / pause", "Space"), ("next", "Next", "N"),
                                 ("previous", "Previous", "P"),
                                 ("seek_forward", "Forward 10 s", "Right"),
                                 ("seek_back", "Back 10 s", "Left"),
                                 ("volume_up", "Volume up", "Up"),
                                 ("volume_down", "Volume down", "Down"),
                                 ("mute", "Mute", "M"), ("fullscreen", "Full screen", "F")]:
            add(m, name, text, keys, lambda n=name: self._player_command(n, "key"))
        add(m, "leave_fullscreen", "Leave full screen", "Escape", self.player.leave_fullscreen)
        m = bar.addMenu("&Model")
        add(m, "reset", "Reset model state", "R", lambda: self.host.reset.emit())
        add(m, "open_model", "Open model…", "Ctrl+L", self._pick_model)
        add(m, "teach", "Teach a gesture…", "Ctrl+T", self.teach)

    # ------------------------------------------------------------ sources, model, profile
    def automatic_source(self) -> str:
        """No source chosen yet: the first camera, else the bundled demo clip, said in the
        status bar for as long as it plays (and in the log)."""
        try:
            spec, notice = default_source()
        except LCRError as exc:
            self._set_error("source", str(exc))
            return ""
        if notice:  # said in the window's words, not the command line's
            notice = notice.replace("--source picks another", "File > Open video… or Settings "
                                    "picks another")
            self.notice.setText(f"Demo: {notice}")
            self.notice.show()
            self._log(notice)
        return spec

    def open_source(self, spec: str) -> None:
        """Start capturing from `spec` (camera index, video, folder; "" = automatic); errors go
        to the window."""
        if self.reader is not None:
            self.reader.stop(timeout=0)  # never wait on the GUI thread
            self.reader = None
        self.values["source"] = str(spec)
        self.notice.hide()
        if not spec:
            spec = self.automatic_source()
            if not spec:
                self.host.set_reader.emit(None)
                return
        try:
            src = open_source(spec)
        except LCRError as exc:
            self._set_error("source", str(exc))
            self.host.set_reader.emit(None)
            if self.values["source"]:  # a chosen source that is not there: forget it, go on
                self._log(f"source not opened ({exc}); using the automatic source instead")
                self._remember("source", "")
                self.open_source("")
                self._set_error("source", f"{exc} (using the automatic source)")
            return
        self._set_error("source", None)
        chosen = self.values["source"]

        def on_status(text: str, error: bool) -> None:
            if not error and text.endswith(": running") and chosen:
                self.source_works.emit(chosen)  # a frame source that runs: remember it
            self.source_status.emit(text, error)

        self.reader = LatestFrameReader(src, self.frame_rate, realtime=True, loop=not src.live,
                                        on_status=on_status)
        self.reader.start()
        self.host.set_reader.emit(self.reader)

    def load_profile(self, spec: str, quiet: bool = False) -> bool:
        """Load and use a profile. A bad one is reported in the window and the current one
        stays; with none loaded yet the bundled media profile stands in."""
        try:
            prof = load_profile(spec, labels=self.labels, rules=self.model_rules)
        except LCRError as exc:
            self._set_error("profile", f"profile not loaded: {exc}")
            if self.profile is None:
                self._use_profile(load_profile("media", labels=self.labels,
                                               rules=self.model_rules))
                self._log("using the bundled media profile instead")
                if spec == self.settings.get("profile"):  # a remembered one broke: forget it
                    self._remember("profile", "media")  # (tried again when another model loads)
            return False
        self._set_error("profile", None)
        self.values["profile"] = str(spec)
        self._remember("profile", str(spec))
        self._use_profile(prof, quiet)
        return True

    def _use_profile(self, prof: Profile, quiet: bool = False) -> None:
        self.profile = prof
        self.runner = ActionRunner(prof, {"player": lambda c: self._player_command(c, None),
                                          "key": self._send_keys, "mpris": self._mpris,
                                          "shell": run_shell})
        self.gallery.set_profile(prof)
        self.host.set_events.emit(self._events_config())
        if not quiet:
            self._log(f"profile {prof.name}: {len(prof.bindings)} gestures mapped")
        if prof.warning():
            self._log(f"warning: {prof.warning()}")

    def _events_config(self):
        cfg = dataclasses.replace(self.profile.events,
                                  thresholds=dict(self.profile.events.thresholds))
        if self.values["threshold"]:
            cfg.threshold = float(self.values["threshold"])
        if self.values["min_frames"]:
            cfg.min_frames = int(self.values["min_frames"])
        cfg.thresholds.update({g: float(v) for g, v in self.values["thresholds"].items() if v})
        return cfg

    def _load_model(self, spec: str) -> None:
        """Load a model on the worker thread; until it answers, the HUD says so."""
        self.loading = (str(spec), self.clock)
        self.hud.setText(f"loading model {Path(str(spec)).name} …")
        self.hud.setStyleSheet("color: #b35c00; font-weight: bold;")
        self.host.load_model.emit(str(spec))

    def _remember(self, key: str, value: str) -> None:
        """Keep a source, model or profile that loaded as the next start's default."""
        if self.settings.get(key) != value:
            self.settings.set(key, value)
            self.settings.sync()

    def _on_model_failed(self, spec: str, why: str) -> None:
        """A model that does not load: the bundled one takes over if it was a remembered (or
        just typed) choice, and the choice is forgotten."""
        self.loading = None
        self.hud.setText(f"model not loaded: {why}")
        self.hud.setStyleSheet("color: #d00000; font-weight: bold;")
        bundled = default_model_dir()
        if not bundled or Path(spec).resolve() == Path(bundled).resolve():
            return  # the bundled model itself failed: nothing to fall back to (error shown)
        if spec == self.values["model"]:
            self.values["model"] = ""
            self._remember("model", "")
            self._log(f"model {spec} not loaded ({why}); using the bundled model instead "
                      f"(Settings or Model > Open model… picks another)")
            self.notice.setText("model not loaded: using the bundled model (see the log)")
            self.notice.show()
            self._load_model(str(bundled))

    def reset_to_defaults(self) -> None:
        """Settings > Reset to defaults: the automatic source, the bundled model, the media
        profile, default thresholds and view options."""
        from lcr_edge.app.settings import DEFAULTS

        for key, value in DEFAULTS.items():
            self.settings.set(key, value)
        self.settings.sync()
        self._log("settings reset to the defaults")
        self.values = {**self.values, **DEFAULTS}
        self.view.mirror = self.values["mirror"]
        self.host.set_edges.emit(self.values["edges"])
        self.open_source("")
        self.load_profile("media")
        self._load_model(str(default_model_dir()))

    def _on_model_loaded(self, info: dict) -> None:
        self.loading = None
        self.hud.setStyleSheet("")
        self.labels, self.frame_rate = info["labels"], info["frame_rate"]
        if info["name"] == str(self.values["model"] or default_model_dir()):
            self._remember("model", self.values["model"])
        self.loaded_model = info["name"]  # what Teach fine-tunes from: the model that runs
        if getattr(self, "teach_dialog", None) is not None:
            self.teach_dialog.base_model = self.loaded_model
        self._set_error("model", None)
        meta = info["metadata"]
        self.model_rules = event_rules(meta)
        self._log(f"model {info['name']}: {len(self.labels)} classes at {self.frame_rate:g} fps"
                  + (f", {meta.get('variant')} {meta.get('precision', '')}" if meta else ""))
        self.load_profile(self.values["profile"], quiet=True)  # the model's names and rules

    def apply_settings(self, new: dict) -> None:
        old, self.values = self.values, {**self.values, **new}
        for key, value in new.items():
            if key not in REMEMBERED:  # those are remembered once they load
                self.settings.set(key, value)
        self.settings.sync()
        if new.get("source", old["source"]) != old["source"]:
            self.open_source(self.values["source"])
        if (self.values["model"], self.values["backend"]) != (old["model"], old["backend"]) \
                and self.values["model"]:
            self._load_model(self.values["model"])
        if not self.load_profile(self.values["profile"]):
            self.values["profile"] = old["profile"]

    def edit_settings(self) -> None:
        gestures = list(self.profile.bindings) if self.profile else []
        dlg = SettingsDialog(self.values, gestures, self,
                             events=self.profile.events if self.profile else None)
        if dlg.exec():
            self.apply_settings(dlg.values())

    def use_model(self, path: str) -> None:
        """Switch to another exported model now (no restart), also when the path is the same
        as before (a fine-tune re-exported into it); the profile is re-checked against the new
        labels once it is loaded."""
        self.values["model"] = str(path)
        self._log(f"loading model {path} …")
        self._load_model(str(path))

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Exported model folder", self.values["model"])
        if path:
            self.use_model(path)

    def teach(self):
        """The "Teach a gesture" dialog (kept, not modal: the live view keeps running)."""
        from lcr_edge.app.teach import TeachDialog

        if getattr(self, "teach_dialog", None) is None:
            def newest():
                frame = self.reader.latest() if self.reader is not None else None
                return None if frame is None else frame.image

            self.teach_dialog = TeachDialog(newest, base_model=self._teach_base(),
                                            labels=self.labels, parent=self)
            self.teach_dialog.model_ready.connect(self.use_model)
        self.teach_dialog.base_model = self._teach_base()
        self.teach_dialog.show()
        self.teach_dialog.raise_()
        return self.teach_dialog

    def _teach_base(self) -> str:
        """The model that is running (once one has loaded), else the one being loaded."""
        return getattr(self, "loaded_model", None) or self.values["model"]

    def _pick_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video source", "",
                                              "Video (*.mp4 *.avi *.mkv *.mov *.webm)")
        if path:
            self.apply_settings({"source": path})

    def _set_mirror(self, on: bool) -> None:
        self.view.mirror = on
        self.settings.set("mirror", on)

    def _set_edges(self, on: bool) -> None:
        self.values["edges"] = on
        self.settings.set("edges", on)
        self.host.set_edges.emit(on)

    # ------------------------------------------------------------ worker results
    def _on_source_status(self, text: str, error: bool) -> None:
        self._set_error("source", text if error else None)
        self.statusBar().showMessage(text, 5000)

    def showEvent(self, event) -> None:
        if self.opened_at is None:
            self.opened_at = time.perf_counter()
        super().showEvent(event)

    def _on_result(self, res) -> None:
        """Every result (queued from the worker): handle its events now; draw it later."""
        self.latest = res
        if self.first_answer_s is None and self.opened_at is not None:
            self.first_answer_s = time.perf_counter() - self.opened_at
            self._log(f"first answer {self.first_answer_s:.1f} s after the window opened")
        for ev in res.events:
            if ev.kind == "reset":
                self._log(f"{ev.t:7.2f} s  idle: model state reset")
                continue
            self.view.banner = ev.gesture if ev.kind == "single" else f"{ev.gesture} (hold)"
            self.banner_until = self.clock + BANNER_S
            self._log(f"{ev.t:7.2f} s  {ev.gesture} ({ev.kind}, {ev.score:.2f})")
            teach = getattr(self, "teach_dialog", None)
            if teach is not None and teach.is_recording:  # a clip of Stop Sign must not pause
                self._log(f"{'':10s}(actions paused while Teach records)")
                continue
            for r in (self.runner.handle(ev) if self.runner else []):
                self._log(f"{'':10s}→ {r.action}: {r.message}" + ("" if r.ok else "  [failed]"))

    def _draw(self) -> None:
        """UI timer: draw only the newest frame and the newest result."""
        self.clock += UI_MS / 1000
        reader, res = self.reader, self.latest
        frame = reader.latest() if reader is not None else None
        if frame is not None and (frame.index, id(frame)) != self.last_drawn:
            edges = res.edges if (res is not None and self.values["edges"]) else None
            self.view.show_frame(frame.image, edges)
            self.last_drawn = (frame.index, id(frame))
        if self.view.banner and self.clock > self.banner_until:
            self.view.banner = ""
            self.view.update()
        if getattr(self, "loading", None) is not None:  # no answer from the new model yet
            name, since = self.loading
            self.hud.setText(f"loading model {Path(name).name} … {self.clock - since:.0f} s")
            return
        if res is None:
            return
        def thr(g: str) -> float:  # no threshold tick for idle labels (they never fire)
            if self.profile is None or g in self.profile.events.idle_labels:
                return 0.0
            return self.profile.events.threshold_for(g)

        self.bars.set_rows([(g, s, thr(g)) for g, s in res.top])
        if self.view.hint != res.why:
            self.view.hint = res.why
            self.view.update()
        x, t = res.extra, res.timings
        stages = "  ".join(f"{k} {v:.1f} ms" for k, v in t.items() if k != "events")
        self.hud.setText(f"camera {x['camera_fps']:.1f} fps   model {x['model_fps']:.1f} fps "
                         f"(needs {x['frame_rate']:g})   {stages}   dropped {x['dropped']}")
        self.hud.setStyleSheet("color: #d00000; font-weight: bold;" if x["behind"] else "")

    # ------------------------------------------------------------ action handlers
    def _player_command(self, name: str, via: str | None) -> str:
        if isinstance(self.player, NoPlayer) and via:  # a menu key: say it, do not raise
            self._log(f"{'':10s}{via}: {name}: {self.player.why}")
            return self.player.why
        msg = self.player.command(name)
        if via:
            self._log(f"{'':10s}{via}: {name}: {msg}")
        return msg

    def _send_keys(self, spec: str) -> str:
        """A key action: trigger our own shortcut if one matches, else send the key press to
        the focused widget."""
        mods, key = parse_keys(spec)
        seq = QKeySequence("+".join([m.capitalize() for m in mods] + [KEYS[key][1]]))
        for act in self.actions_by_name.values():
            if not act.shortcut().isEmpty() and act.shortcut().matches(seq) == \
                    QKeySequence.SequenceMatch.ExactMatch:
                act.trigger()
                return f"shortcut {act.text()}"
        combo = seq[0]
        target = QApplication.focusWidget() or self
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.postEvent(target, QKeyEvent(kind, combo.key(), combo.keyboardModifiers()))
        return f"key {seq.toString()}"

    def _mpris(self, arg: str) -> str:
        from lcr_edge.mpris import mpris_call

        return mpris_call(arg)

    # ------------------------------------------------------------ messages
    def _set_error(self, where: str, message: str | None) -> None:
        if message:
            if self.errors.get(where) != message:
                self._log(f"[{where}] {message}")
            self.errors[where] = message
        else:
            old = self.errors.pop(where, None)
            if old and self.statusBar().currentMessage() == old:  # solved: no longer said
                self.statusBar().clearMessage()
        self.view.message = "\n".join(self.errors.values())
        self.view.update()
        if message:
            self.statusBar().showMessage(message)

    def _log(self, line: str) -> None:
        self.log_lines.append(line)
        self.log.appendPlainText(line)

    def closeEvent(self, event) -> None:
        self.ui_timer.stop()
        if self.reader is not None:
            self.reader.stop(timeout=0)
        self.host.shutdown()
        self.settings.set("playlist", [str(p) for p in self.player.playlist])
        self.settings.sync()
        super().closeEvent(event)


REMEMBERED = ("source", "model", "profile")  # kept for the next start only once they load
PLAYER_PACKAGES = "libpulse0"  # what QtMultimedia needs on Debian and Ubuntu


def import_player():
    """The built-in player's class (QtMultimedia loads here; it fails where libpulse is missing)."""
    from lcr_edge.app.player import PlayerWidget

    return PlayerWidget


class NoPlayer(QLabel):
    """Stands in for the player when QtMultimedia cannot load: player actions say why."""

    def __init__(self, why: str, parent=None):
        super().__init__(why, parent)
        self.why, self.playlist = why, []
        self.setWordWrap(True)

    def set_playlist(self, items) -> None:
        self.playlist = []

    def command(self, name: str) -> str:
        raise LCRError(f"no built-in player: {self.why}")

    def leave_fullscreen(self) -> None:
        pass


def make_player(parent) -> tuple[QWidget, str]:
    """(the player widget, "") or (a stand-in, one line saying what to install)."""
    try:
        return import_player()(parent), ""
    except (ImportError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        why = (f"player off: QtMultimedia cannot load ({first}); install it with "
               f"`sudo apt-get install {PLAYER_PACKAGES}` and restart")
        return NoPlayer(why, parent), why

