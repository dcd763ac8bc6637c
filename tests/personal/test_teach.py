"""The "Teach a gesture" dialog (offscreen) and switching models in the window without a restart."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QProcess, QSettings
from PyQt6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parents[1] / "app"))
from fakes import ScriptedRecognizer  # noqa: E402
from personal_data import clip_frames, fake_export  # noqa: E402

from lcr_edge.app.settings import AppSettings  # noqa: E402
from lcr_edge.app.teach import TeachDialog  # noqa: E402
from lcr_edge.app.window import MainWindow  # noqa: E402
from lcr_edge.recording import RecordingSet  # noqa: E402


class FakeFeed:
    """The window's newest frame: a new array each call, until `fail_after` frames."""

    def __init__(self, fail_after=None):
        self.n, self.fail_after = 0, fail_after

    def __call__(self):
        if self.fail_after is not None and self.n >= self.fail_after:
            return None
        self.n += 1
        return np.full((60, 80, 3), self.n % 255, np.uint8)


def make_dialog(qtbot, tmp_path, feed, **kw):
    dlg = TeachDialog(feed, set_dir=tmp_path / "set", labels=["Thumb Up"], countdown_s=0, **kw)
    qtbot.addWidget(dlg)
    dlg.seconds.setValue(1.0)
    return dlg


def test_record_preview_and_discard_a_clip(qtbot, tmp_path):
    dlg = make_dialog(qtbot, tmp_path, FakeFeed())
    dlg.label.setEditText("waving  hello")
    dlg.start_recording()
    qtbot.waitUntil(lambda: dlg.clips.count() == 1, timeout=5000)
    rs = RecordingSet.open(tmp_path / "set")
    assert rs.counts() == {"waving hello": 1}
    assert len(rs.clip_frames("1")) == 12
    assert len(dlg.preview_frames) == 12  # the new clip plays back at once
    dlg.label.setEditText("Thumb Up")
    dlg.start_recording()
    qtbot.waitUntil(lambda: dlg.clips.count() == 2, timeout=5000)
    dlg.clips.setCurrentRow(0)
    dlg.discard_selected()
    assert RecordingSet.open(tmp_path / "set").counts() == {"Thumb Up": 1}
    assert not (tmp_path / "set" / "1").exists() and dlg.clips.count() == 1


def test_bad_name_and_failing_source_are_reported_and_nothing_is_lost(qtbot, tmp_path):
    dlg = make_dialog(qtbot, tmp_path, FakeFeed(fail_after=20))
    dlg.label.setEditText("Thumb Up")
    dlg.start_recording()
    qtbot.waitUntil(lambda: dlg.clips.count() == 1, timeout=5000)  # frames 1-12
    dlg.label.setEditText("a/b")
    dlg.start_recording()
    assert "file systems" in dlg.status.text() and dlg.record_btn.isEnabled()
    dlg.label.setEditText("Thumb Up")
    dlg.start_recording()  # the feed dies after 8 more frames
    qtbot.waitUntil(lambda: "stopped" in dlg.status.text(), timeout=5000)
    assert RecordingSet.open(tmp_path / "set").counts() == {"Thumb Up": 1}
    assert dlg.record_btn.isEnabled()


def test_finetune_command_and_model_ready(qtbot, tmp_path, tiny_base):
    base = fake_export(tmp_path / "base", tiny_base)
    dlg = make_dialog(qtbot, tmp_path, FakeFeed(), base_model=str(base))
    cmd = dlg.finetune_command()
    assert cmd[1:4] == ["-m", "lcr_edge", "finetune"]
    assert cmd[cmd.index("--model") + 1] == str(base / "checkpoint.pt")
    assert cmd[cmd.index("--out") + 1] == str(tmp_path / "set-model")
    dlg.start_finetune()  # an empty set: refused with a message, no process
    assert dlg.process is None and "two gestures" in dlg.status.text()
    with qtbot.waitSignal(dlg.model_ready) as sig:
        dlg._finetune_done(0)
    assert sig.args == [str(tmp_path / "set-model")]


@pytest.fixture
def settings(tmp_path, monkeypatch):
    import lcr_edge.app.teach

    monkeypatch.setattr(lcr_edge.app.teach, "DEFAULT_SET", tmp_path / "my-gestures")  # not the home folder
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def test_window_switches_model_without_restart_and_profile_maps_new_names(qtbot, tmp_path,
                                                                         settings):
    profile = tmp_path / "mine.toml"
    profile.write_text('[gestures]\n"Waving Hello" = "player:next"\n')
    models = {"old": ScriptedRecognizer(), "new": ScriptedRecognizer(
        labels=["Thumb Up", "Waving Hello", "No gesture"])}
    loaded = []

    def load(spec):
        loaded.append(spec)
        return models[Path(spec).name]

    win = MainWindow(settings, load_model=load, source=str(tmp_path / "none.avi"),
                     model=str(tmp_path / "old"), profile=str(profile))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: loaded == [str(tmp_path / "old")], timeout=5000)
    assert "profile" in win.errors  # Jester's labels have no "Waving Hello"
    win.use_model(str(tmp_path / "new"))
    qtbot.waitUntil(lambda: win.labels == models["new"].labels, timeout=5000)
    assert "profile" not in win.errors and "Waving Hello" in win.profile.bindings
    win.use_model(str(tmp_path / "new"))  # the same folder again (re-exported): reloaded
    qtbot.waitUntil(lambda: len(loaded) == 3, timeout=5000)
    dlg = win.teach()
    assert dlg.base_model == str(tmp_path / "new")
    dlg.close()
    win.close()


class FakeProcess(QProcess):
    """A QProcess that records the command instead of running a fine-tune."""

    started: list[list[str]] = []

    def start(self, program, args):
        FakeProcess.started.append([program, *args])


def record_two_gestures(dlg):
    rs = RecordingSet.open(dlg.set_dir.text())
    for kind, label in enumerate(["Swiping Left", "Waving Hello"]):
        rs.add_clip(label, clip_frames(kind, 12))
    dlg.open_set()


def test_teach_finetunes_the_model_the_window_runs(qtbot, tmp_path, settings, tiny_base,
                                                   monkeypatch):
    import lcr_edge.app.teach

    monkeypatch.setattr(lcr_edge.app.teach, "QProcess", FakeProcess)
    FakeProcess.started = []
    first = fake_export(tmp_path / "first", tiny_base)
    second = fake_export(tmp_path / "second", tiny_base)
    bare = fake_export(tmp_path / "bare", tiny_base, with_checkpoint=False)
    win = MainWindow(settings, load_model=lambda spec: ScriptedRecognizer(),
                     source=str(tmp_path / "none.avi"), model=str(first))
    qtbot.addWidget(win)
    dlg = win.teach()
    assert dlg.set_dir.text() == str(tmp_path / "my-gestures")
    assert dlg.base_label.text() == str(first / "checkpoint.pt")
    record_two_gestures(dlg)
    win.use_model(str(second))  # Model > Open model… while the dialog stays open
    QApplication.sendEvent(dlg, QEvent(QEvent.Type.WindowActivate))  # back to the dialog
    assert dlg.base_label.text() == str(second / "checkpoint.pt")
    dlg.start_finetune()
    cmd = FakeProcess.started[-1]
    assert cmd[cmd.index("--model") + 1] == str(second / "checkpoint.pt")
    assert cmd[cmd.index("--data") + 1] == str(tmp_path / "my-gestures")
    log = dlg.log.toPlainText()  # what the set lacks, said before the training's own output
    assert log.index("warning: no 'No gesture' clips") < log.index("finetune")

    dlg._finetune_done(1)  # (that run "failed": the button is back)
    win.use_model(str(bare))  # a folder without checkpoint.pt: said before anything starts
    dlg.start_finetune()
    assert len(FakeProcess.started) == 1 and dlg.finetune_btn.isEnabled()
    assert "has no checkpoint.pt" in dlg.status.text() and str(bare) in dlg.status.text()
    assert "has no checkpoint.pt" in dlg.base_label.text()
    dlg.close()
    win.close()


def test_teach_starts_from_the_bundled_model_when_the_window_runs_it(qtbot, tmp_path, settings,
                                                                    bundled, monkeypatch):
    import lcr_edge.app.teach

    monkeypatch.setattr(lcr_edge.app.teach, "QProcess", FakeProcess)
    FakeProcess.started = []
    loaded = []
    win = MainWindow(settings, load_model=lambda spec: loaded.append(spec) or
                     ScriptedRecognizer(), source=str(tmp_path / "none.avi"))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: loaded == [str(bundled)], timeout=5000)
    dlg = win.teach()
    record_two_gestures(dlg)
    dlg.start_finetune()
    cmd = FakeProcess.started[-1]
    assert cmd[cmd.index("--model") + 1] == str(bundled / "checkpoint.pt")

    (bundled / "checkpoint.pt").unlink()  # an install whose bundle has no checkpoint
    dlg._finetune_done(1)
    win.teach()
    assert "Cannot fine-tune the bundled model" in dlg.base_label.text()
    dlg.start_finetune()
    assert len(FakeProcess.started) == 1 and "has no checkpoint.pt" in dlg.status.text()
    dlg.close()
    win.close()


def test_the_dialog_says_which_way_a_named_gesture_goes(qtbot, tmp_path):
    dlg = make_dialog(qtbot, tmp_path, FakeFeed())
    dlg.label.setEditText("swiping  left")
    assert dlg.hint.text() == ("Swiping Left: sweep your open hand to YOUR left (on the mirrored "
                               "preview it moves left)")
    assert dlg.view.mirror  # the preview the hint speaks of
    dlg.label.setEditText("Turning Hand Clockwise")
    assert "clockwise as YOU see it" in dlg.hint.text()
    dlg.label.setEditText("Thumb Up")
    assert dlg.hint.text().startswith("Thumb Up: Fist with the thumb pointing up")
    dlg.label.setEditText("Waving Hello")  # a new name: its direction is the user's own
    assert dlg.hint.text() == ""


def test_actions_pause_while_the_dialog_records(qtbot, tmp_path, settings):
    from types import SimpleNamespace

    from lcr_edge.events import Event

    win = MainWindow(settings, load_model=lambda spec: ScriptedRecognizer(),
                     source=str(tmp_path / "none.avi"))
    qtbot.addWidget(win)
    ran = []
    win.runner = SimpleNamespace(handle=lambda ev: ran.append(ev.gesture) or [])
    stop = SimpleNamespace(events=[Event("single", "Stop Sign", 1.0, 12, 0.9)])
    dlg = win.teach()
    dlg.want = 36  # a clip is being recorded
    win._on_result(stop)
    assert ran == [] and "actions paused while Teach records" in win.log_lines[-1]
    dlg.want = 0
    win._on_result(stop)
    assert ran == ["Stop Sign"]
    dlg.close()
    win.close()


def test_progress_bars_of_the_child_redraw_one_bar_not_one_log_line_each(qtbot, tmp_path):
    """tqdm redraws with "\\r": the dialog's bar follows, the log gets the bar's last state once,
    as text without block characters."""
    from lcr_edge.app.teach import ProgressLog

    said = ProgressLog().feed("start\n\repoch 1/2:  50%|█████     | 20/40 [00:05<00:05, "
                              "loss=0.31]\repoch 1/2: 100%|██████████| 40/40 [00:10<00:00]\n")
    assert said == [("line", "start"), ("bar", 50, "epoch 1/2 20/40 [00:05<00:05, loss=0.31]"),
                    ("line", "epoch 1/2: 100% 40/40 [00:10<00:00]")]
    dlg = make_dialog(qtbot, tmp_path, FakeFeed())
    code = ("import time\nfrom tqdm import tqdm\nprint('fine-tuning', flush=True)\n"
            "for _ in tqdm(range(30), desc='epoch 1/1', mininterval=0):\n    time.sleep(0.02)\n"
            "print('held-out top-1 50.0 %', flush=True)\n")
    seen = []
    dlg.process = QProcess(dlg)
    dlg.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
    dlg.process.readyReadStandardOutput.connect(dlg._read_output)
    dlg.process.readyReadStandardOutput.connect(lambda: seen.append(dlg.progress.value()))
    dlg.process.start(sys.executable, ["-c", code])
    assert dlg.process.waitForStarted(10000)
    qtbot.waitUntil(lambda: dlg.process.state() == QProcess.ProcessState.NotRunning, timeout=30000)
    dlg._read_output()
    lines = dlg.log.toPlainText().splitlines()
    lines = lines[lines.index("fine-tuning"):]
    assert lines[-1] == "held-out top-1 50.0 %" and lines[-1] == "held-out top-1 50.0 %"
    assert [ln for ln in lines if ln.startswith("epoch 1/1")] == [lines[1]]  # one line, not 30
    assert lines[1].startswith("epoch 1/1: 100% 30/30") and "█" not in lines[1]
    assert max(seen) > 0  # the bar moved while the child ran
