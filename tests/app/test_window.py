"""The window, offscreen, on synthetic videos with scripted recognizers (no real model needed)."""

import threading
import time

import pytest
from fakes import ScriptedRecognizer, stream, write_video
from optional import needs_mp4, needs_player  # QtMultimedia needs libpulse: only its tests skip
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtWidgets import QApplication

from lcr_edge.app.settings import AppSettings
from lcr_edge.app.window import MainWindow, NoPlayer

# Video frames 0-59 (60 fps, the model runs at 60 fps too, so one loop takes 1 s).
SCRIPT = stream(("idle", 5), ("Stop Sign", 10), ("idle", 10), ("Thumb Up", 10), ("idle", 10),
                ("Swiping Right", 10), ("idle", 5))
PROFILE = """\
[events]
window = 1
min_frames = 2
cooldown_s = 0.05
[gestures]
"Stop Sign" = "player:play_pause"
"Thumb Up" = "player:volume_up"
"Swiping Right" = "player:next"
"Shaking Hand" = "key:m"
"""


@pytest.fixture
def settings(tmp_path):
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def files(tmp_path):
    video = write_video(tmp_path / "camera.avi", 60, fps=60)
    media = [write_video(tmp_path / f"song{i}.avi", 24, fps=12) for i in range(2)]
    profile = tmp_path / "test.toml"
    profile.write_text(PROFILE)
    return video, media, profile


def make_window(qtbot, settings, recognizer=None, **kw):
    loaded = []

    def load(spec):
        loaded.append(recognizer or ScriptedRecognizer(SCRIPT, frame_rate=60, key_on_frame=True))
        return loaded[-1]

    win = MainWindow(settings, load_model=load, **kw)
    qtbot.addWidget(win)
    win.show()
    win.loaded = loaded
    return win


@needs_player
def test_gestures_drive_the_built_in_player(qtbot, settings, files):
    video, media, profile = files
    win = make_window(qtbot, settings, source=video, model="fake", profile=str(profile),
                      playlist=media)
    from PyQt6.QtMultimedia import QMediaPlayer

    player = win.player
    assert player.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState
    qtbot.waitUntil(lambda: win.view.frames_drawn > 5, timeout=3000)  # frames flow
    # Stop Sign -> play, Thumb Up -> volume 0.5 -> 0.6, Swiping Right -> track 2.
    qtbot.waitUntil(lambda: player.player.playbackState()
                    == QMediaPlayer.PlaybackState.PlayingState, timeout=4000)
    qtbot.waitUntil(lambda: player.audio.volume() > 0.55, timeout=4000)
    qtbot.waitUntil(lambda: player.index == 1, timeout=4000)
    log = "\n".join(win.log_lines)
    for text in ["Stop Sign (single", "player:play_pause: playing", "player:volume_up: volume 60",
                 "player:next: track 2/2"]:
        assert text in log, log
    assert win.latest is not None and len(win.latest.top) == 5
    assert win.bars.rows and win.hud.text().startswith("camera ")
    assert not win.errors, win.errors


def test_bad_profile_is_reported_in_the_window(qtbot, settings, files, tmp_path):
    video, _, _ = files
    bad = tmp_path / "bad.toml"
    bad.write_text('[gestures]\n"Stop Sign" = "player:play_pause"\n"Thumbs Up" = "player:mute"\n')
    win = make_window(qtbot, settings, source=video, model="fake", profile=str(bad))
    assert "bad.toml:3: unknown gesture 'Thumbs Up'" in win.view.message
    assert "Thumb Up" in win.view.message  # the valid names are listed
    assert win.profile.name == "media"  # still usable, on the bundled profile
    # A good profile clears the message.
    win.apply_settings({"profile": "media"})
    assert win.view.message == ""


def test_missing_camera_is_reported_in_the_window(qtbot, settings):
    win = make_window(qtbot, settings, source="7", model="fake")
    qtbot.waitUntil(lambda: "camera 7: cannot open" in win.view.message, timeout=3000)
    assert "retrying" in win.view.message


def test_missing_model_and_broken_model_are_reported(qtbot, settings, files, monkeypatch, tmp_path):
    from lcr_edge import paths

    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    monkeypatch.setattr(paths, "BUNDLED_MODEL", tmp_path / "not-installed")  # an install without it
    video, _, _ = files
    win = make_window(qtbot, settings, source=video)
    assert "no model loaded" in win.view.message

    def broken(spec):
        raise RuntimeError("truncated weights")

    win2 = MainWindow(settings, load_model=broken, source=video, model="x")
    qtbot.addWidget(win2)
    qtbot.waitUntil(lambda: "truncated weights" in win2.view.message, timeout=3000)


class GatedRecognizer(ScriptedRecognizer):
    """A slow model whose every step also waits (up to 5 s) for the GUI thread to run a timer
    tick during it: were the step on the GUI thread, no tick could come."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.gate, self.stepping, self.gated = threading.Event(), False, True
        self.ticked: list[bool] = []  # per step: whether the GUI ticked meanwhile
        self.threads: set[int] = set()

    def tick(self) -> None:  # the GUI thread's timer
        if self.stepping:
            self.gate.set()

    def release(self) -> None:  # the test is done: steps stop waiting
        self.gated = False
        self.gate.set()

    def step(self, frame):
        self.threads.add(threading.get_ident())
        if self.gated:
            self.gate.clear()
            self.stepping = True
            self.ticked.append(self.gate.wait(5.0))
            self.stepping = False
        return super().step(frame)


def test_gui_thread_never_blocks_while_a_slow_model_runs(qtbot, settings, tmp_path):
    """A 60 ms-per-frame model at 24 fps: the GUI event loop keeps running during every model
    step, frames are dropped (not queued) and the HUD turns red."""
    video = write_video(tmp_path / "v.avi", 48, fps=24)
    slow = GatedRecognizer(frame_rate=24, delay_s=0.06)
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(slow.tick)
    probe.start()
    win = make_window(qtbot, settings, recognizer=slow, source=video, model="slow")
    qtbot.waitUntil(lambda: slow.steps >= 10, timeout=10000)
    ticked = list(slow.ticked)
    slow.release()
    probe.stop()
    assert len(ticked) >= 10 and all(ticked), ticked  # the GUI ran during each step
    assert threading.main_thread().ident not in slow.threads  # the model ran off the GUI thread
    assert win.reader.dropped > 0  # stale frames dropped, not queued
    assert "d00000" in win.hud.styleSheet()  # HUD red: the model falls behind


@needs_player
def test_shortcuts_key_actions_and_settings_persist(qtbot, settings, files):
    video, media, profile = files
    win = make_window(qtbot, settings, source=video, model="fake", profile=str(profile),
                      playlist=media)
    assert not win.player.audio.isMuted()
    win.windowHandle().requestActivate()  # shortcuts need an active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_M)  # shortcut: mute
    assert win.player.audio.isMuted()
    assert win._send_keys("m") == "shortcut Mute"  # what a key:m action does
    assert not win.player.audio.isMuted()
    qtbot.keyClick(win, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)  # mirror off
    assert not win.view.mirror
    win.apply_settings({"threshold": 0.75, "thresholds": {"Thumb Up": 0.9}})
    again = AppSettings(QSettings(settings.q.fileName(), QSettings.Format.IniFormat))
    assert again.get("threshold") == 0.75 and again.get("thresholds") == {"Thumb Up": 0.9}
    cfg = win._events_config()
    assert cfg.threshold == 0.75 and cfg.threshold_for("Thumb Up") == 0.9
    # The gallery explains every mapped gesture.
    text = win.gallery.label.text()
    assert "Stop Sign" in text and "player:play_pause" in text and "palm" in text


@needs_player
@needs_mp4
def test_first_start_without_a_camera_plays_the_demo_clip_with_the_bundled_model(
        qtbot, settings, monkeypatch, tmp_path):
    """`lcr-edge app` with no arguments on a machine without a camera: the bundled demo clip with
    a visible notice, the bundled model, the demo playlist; nothing of it saved as a choice."""
    import lcr_edge.sources
    from lcr_edge import paths

    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    monkeypatch.setattr(lcr_edge.sources, "list_cameras", lambda: [])
    bundled = tmp_path / "bundled"  # stands in for lcr_edge/assets/model (tests/runtime loads it)
    bundled.mkdir()
    (bundled / "model.json").write_text("{}")
    monkeypatch.setattr(paths, "BUNDLED_MODEL", bundled)
    specs = []

    def load(spec):
        specs.append(spec)
        return ScriptedRecognizer([], frame_rate=12)

    win = MainWindow(settings, load_model=load)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.view.frames_drawn > 3, timeout=5000)  # the demo clip plays
    assert win.notice.isVisible() and "bundled demo clip" in win.notice.text()
    assert specs == [str(bundled)]
    assert win.player.playlist and win.player.playlist[0].parent == paths.DEMO_PLAYLIST
    assert settings.all()["source"] == "" and settings.all()["model"] == ""
    win.open_source(write_video(tmp_path / "chosen.avi", 12))  # a chosen source: notice gone
    assert not win.notice.isVisible()


def test_without_qtmultimedia_the_window_opens_with_the_player_off(qtbot, settings, files,
                                                                      monkeypatch):
    import lcr_edge.app.window

    def broken():
        raise ImportError("libpulse.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(lcr_edge.app.window, "import_player", broken)
    video, media, profile = files
    win = make_window(qtbot, settings, source=video, model="fake", profile=str(profile),
                      playlist=media)
    assert isinstance(win.player, NoPlayer)  # in the player's place: why, and what to install
    assert "libpulse0" in win.player.text() and "libpulse.so.0" in win.log.toPlainText()
    qtbot.waitUntil(lambda: win.view.frames_drawn > 5, timeout=3000)  # recognition runs on
    qtbot.waitUntil(lambda: any("no built-in player" in line for line in win.log_lines),
                    timeout=5000)  # a player action fails with the reason, the app goes on
    assert win._player_command("play_pause", "key").startswith("player off")
    win.close()


def test_missing_x11_libraries_are_named_by_package(monkeypatch):
    import lcr_edge.app as gui
    from lcr_edge.errors import LCRError

    def load(name):
        if name in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(f"{name}: cannot open shared object file")

    assert gui.missing_xcb_packages(load) == ["libxcb-icccm4", "libxcb-keysyms1"]
    monkeypatch.setattr(gui, "missing_xcb_packages", lambda: ["libxcb-icccm4", "libxcb-keysyms1"])
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(LCRError, match="sudo apt-get install libxcb-icccm4 libxcb-keysyms1"):
        gui.run_app()


def test_frames_missed_while_the_model_loads_do_not_turn_the_hud_red(qtbot, settings, tmp_path):
    # 4 fps: a frame every 250 ms, so a busy 2-core machine cannot drop one once the model runs
    video = write_video(tmp_path / "v.avi", 48, fps=4)

    def slow_load(spec):
        time.sleep(1.5)  # the worker thread is busy: the reader drops frames meanwhile
        return ScriptedRecognizer([], frame_rate=4)

    win = MainWindow(settings, load_model=slow_load, source=video, model="fake")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.extra["model_fps"] > 0,
                    timeout=8000)
    qtbot.wait(500)
    assert win.reader.dropped > 0  # frames were dropped while loading ...
    assert win.latest.extra["dropped"] == 0 and not win.latest.extra["behind"]  # ... not since
    assert "d00000" not in win.hud.styleSheet()
    win.close()


def test_what_fails_to_load_is_never_remembered_and_the_defaults_take_over(qtbot, settings, files,
                                                                          tmp_path, monkeypatch):
    from lcr_edge import paths
    from lcr_edge.errors import LCRError

    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "model.json").write_text("{}")  # the loader below is scripted; only the path counts
    monkeypatch.setattr(paths, "BUNDLED_MODEL", bundled)
    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    bad_profile = tmp_path / "bad.toml"
    bad_profile.write_text('[gestures]\n"Thumb Up" = { single = 5 }\n')
    settings.set("profile", str(bad_profile))  # remembered earlier, edited since into an error
    specs = []

    def load(spec):
        specs.append(spec)
        if spec == "/typo":
            raise LCRError("/typo: no such model folder")
        return ScriptedRecognizer([], frame_rate=12)

    win = MainWindow(settings, load_model=load, model="/typo",
                     source=str(tmp_path / "gone.mp4"))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: specs == ["/typo", str(bundled)], timeout=5000)
    qtbot.waitUntil(lambda: settings.get("model") == "", timeout=2000)
    assert win.profile.name == "media" and settings.get("profile") == "media"
    assert "profile not loaded" in win.errors["profile"] and ":2:" in win.errors["profile"]
    assert settings.get("source") == "" and win.values["source"] == ""
    log = "\n".join(win.log_lines)
    assert "using the bundled model instead" in log and "using the automatic source" in log
    win.close()
    # a typo alone (the source plays): once the bundled model runs, the status bar drops the error
    win = MainWindow(settings, load_model=load, model="/typo",
                     source=write_video(tmp_path / "v.avi", 24, fps=12))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(specs) == 4 and "model" not in win.errors, timeout=5000)
    assert "/typo" not in win.statusBar().currentMessage()
    win.close()

    settings.set("threshold", 0.9)
    win = MainWindow(settings, load_model=load)  # the next start: no errors carried over
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(specs) == 5, timeout=5000)
    assert specs[-1] == str(bundled) and not win.errors.get("profile")
    win.reset_to_defaults()
    assert settings.get("threshold") == 0.0 and win.values["threshold"] == 0.0
    win.close()


def test_the_hud_says_the_model_is_loading_until_it_answers(qtbot, settings, tmp_path):
    video = write_video(tmp_path / "v.avi", 48, fps=12)

    def slow_load(spec):
        time.sleep(1.5)
        return ScriptedRecognizer([], frame_rate=12)

    win = MainWindow(settings, load_model=slow_load, source=video, model="fake")
    qtbot.addWidget(win)
    win.show()
    qtbot.wait(400)
    assert win.hud.text().startswith("loading model fake")  # the view runs, the HUD says why
    qtbot.waitUntil(lambda: win.hud.text().startswith("camera"), timeout=8000)
    # the log says when the first answer came, counted from the window opening (the load's 1.5 s)
    assert win.first_answer_s is not None and win.first_answer_s >= 1.5
    assert f"first answer {win.first_answer_s:.1f} s after the window opened" in win.log_lines
    win.close()


def test_the_window_fits_a_1366x768_laptop_screen(qtbot, settings, tmp_path):
    win = MainWindow(settings, load_model=lambda spec: ScriptedRecognizer([], frame_rate=12),
                     source=str(tmp_path / "none.avi"))
    qtbot.addWidget(win)
    win.show()
    hint = win.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768 - 40  # room for a panel and a title bar
    free = win.screen().availableGeometry()
    assert win.width() <= max(free.width(), hint.width()) and win.height() <= max(free.height(), 760)
    win.close()


@needs_player
def test_the_player_stays_in_view_beside_the_gesture_gallery(qtbot, settings, tmp_path):
    win = MainWindow(settings, load_model=lambda spec: ScriptedRecognizer([], frame_rate=12),
                     source=str(tmp_path / "none.avi"))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.actions_by_name["gallery"].trigger()  # G: the user reads the gesture gallery
    assert win.tabs.currentWidget() is win.gallery and win.gallery.isVisible()
    win._player_command("volume_up", None)  # a Thumb Up fired
    assert win.player.isVisible() and win.player.height() > 100
    win.close()


def test_closing_while_a_model_loads_stops_the_inference_thread(qtbot, settings, tmp_path):
    """The window closed during a slow load waits for the load, so the worker's timer is stopped
    on its own thread (a thread left running had its timer destroyed from the GUI thread at exit:
    "Timers cannot be stopped from another thread")."""
    video = write_video(tmp_path / "v.avi", 24, fps=12)
    started = []

    def slow_load(spec):
        started.append(time.perf_counter())
        time.sleep(4.0)  # longer than the 3 s the window used to wait
        return ScriptedRecognizer([], frame_rate=12)

    win = MainWindow(settings, load_model=slow_load, source=video, model="fake")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    win.close()
    assert not win.host.thread.isRunning()
    assert time.perf_counter() - started[0] >= 4.0
