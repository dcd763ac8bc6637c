"""The runtime path stays torch-free; `lcr-edge app` answers --help and bad options in one line."""

import os
import subprocess
import sys

from typer.testing import CliRunner

from lcr_edge.cli import app


def test_the_runtime_path_imports_no_torch():
    """In a fresh process: what `lcr-edge --help`, `lcr-edge run` and `lcr-edge app` load, and
    both runtime backends answering a frame of the bundled INT8 model. torch is never imported."""
    code = ("import sys, numpy as np\n"
            "import lcr_edge.cli, lcr_edge.edges, lcr_edge.preprocess, lcr_edge.sources, lcr_edge.events\n"
            "import lcr_edge.actions, lcr_edge.engine, lcr_edge.loader, lcr_edge.headless\n"
            "import lcr_edge.recording, lcr_edge.commands.run\n"
            "import lcr_edge.app.window, lcr_edge.app.worker, lcr_edge.app.teach\n"
            "from lcr_edge import paths\n"
            "from lcr_edge.runtime import Recognizer\n"
            "for backend in ('openvino', 'onnxruntime'):\n"
            "    r = Recognizer.open(paths.BUNDLED_MODEL, backend=backend)\n"
            "    p = r.step(np.full((100, 176, 3), 90, np.uint8))\n"
            "    print(backend, r.precision, p.shape)\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                              "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["openvino int8 (27,)", "onnxruntime int8 (27,)", "False"], \
        out.stdout


def test_app_command_help_and_bad_backend():
    r = CliRunner().invoke(app, ["app", "--help"])
    assert r.exit_code == 0 and "--source" in r.output and "--profile" in r.output
    r = CliRunner().invoke(app, ["app", "--backend", "tensorflow"])
    assert "unknown backend 'tensorflow'" in str(r.exception)


def test_settings_dialog_round_trip(qtbot):
    from lcr_edge.app.settings import DEFAULTS, SettingsDialog

    values = {**DEFAULTS, "source": "clip.mp4", "model": "exports/lcr-s",
              "thresholds": {"Thumb Up": 0.8}}
    dlg = SettingsDialog(values, ["Thumb Up", "Stop Sign"])
    qtbot.addWidget(dlg)
    got = dlg.values()
    assert got["source"] == "clip.mp4" and got["model"] == "exports/lcr-s"
    assert got["profile"] == "media" and got["backend"] == "openvino"
    assert got["thresholds"] == {"Thumb Up": 0.8}
    dlg.per_gesture["Stop Sign"].setValue(0.65)
    assert dlg.values()["thresholds"] == {"Thumb Up": 0.8, "Stop Sign": 0.65}


def test_settings_fit_a_laptop_screen_and_show_whole_paths(qtbot):
    """Every Jester gesture bound: the per-gesture rows scroll, so the dialog fits 1366x768; the
    path fields get room for ~48 characters; idle labels (which never fire) get no threshold."""
    from lcr_edge.app.settings import DEFAULTS, SettingsDialog
    from lcr_edge.labels import IDLE_LABELS, JESTER_LABELS

    path = "/home/someone/models/lcr-edge/fine-tuned-2026-11-30"
    dlg = SettingsDialog({**DEFAULTS, "model": path}, list(JESTER_LABELS))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.height() <= 700 and dlg.width() <= 1366
    assert set(dlg.per_gesture) == set(JESTER_LABELS) - set(IDLE_LABELS)
    assert dlg.model.width() >= dlg.model.fontMetrics().horizontalAdvance(path)


def test_settings_show_the_profiles_values_where_they_apply(qtbot):
    from lcr_edge.actions import load_profile
    from lcr_edge.app.settings import DEFAULTS, SettingsDialog

    events = load_profile("media").events
    dlg = SettingsDialog({**DEFAULTS}, ["Stop Sign", "Thumb Up"], events=events)
    qtbot.addWidget(dlg)
    assert dlg.per_gesture["Stop Sign"].specialValueText() == "profile's (0.70)"
    assert dlg.per_gesture["Thumb Up"].specialValueText() == "profile's (0.60)"
    assert dlg.threshold.specialValueText() == "profile's (0.60)"
    assert dlg.min_frames.specialValueText() == "profile's (2)"
