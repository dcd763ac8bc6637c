"""Screenshot of the real window: `xvfb-run -s "-screen 0 1280x800x24" python
benchmarks/app_screenshot.py docs/img/app.png`. Runs the app on a synthetic video with a scripted
recognizer (tests/app/fakes.py) whose probabilities follow the video's truth, so no trained model
is needed; a second synthetic video plays in the built-in player. Waits until a gesture has fired
and its action reached the player."""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "app")]

from fakes import ScriptedRecognizer, probs_for, write_video  # noqa: E402
from PyQt6.QtCore import QSettings, QTimer  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from lcr_edge.app.settings import AppSettings  # noqa: E402
from lcr_edge.app.window import MainWindow  # noqa: E402
from lcr_edge.labels import JESTER_LABELS  # noqa: E402


def camera_video(folder: str):
    """A synthetic recording with a hand (training.synth, when present) or moving rectangles;
    -> (path, script) where script(step) gives noisy probabilities that follow the truth."""
    try:
        from lcr_edge.training.synth import render_stream
        from lcr_edge.training.synth import write_video as write_frames

        frames, truth = render_stream(["Swiping Right", "Thumb Up"], seed=4, size=(480, 360),
                                      idle_frames=(10, 12), gesture_frames=(20, 22))
        path = str(write_frames(os.path.join(folder, "camera.mp4"), frames, fps=12))
        n, keyed = len(frames), False
    except ImportError:
        path, n, keyed = write_video(os.path.join(folder, "camera.avi"), 120, fps=12,
                                     size=(360, 480)), 60, True
        truth = [("Swiping Right", 20, 40)]

    def script(i: int) -> np.ndarray:
        i %= n
        rng = np.random.default_rng(i)
        label, strength = "No gesture", 0.0
        for lab, start, end in truth:
            if start <= i < end:
                label = lab
                strength = float(np.clip(1.2 - 2.2 * abs((i - start) / (end - start) - 0.5),
                                         0.1, 0.93))
        p = probs_for(label, strength) if label != "No gesture" else probs_for("Thumb Up", 0.02)
        p = 0.85 * p + 0.15 * rng.dirichlet(np.ones(len(JESTER_LABELS)) * 0.3)
        return p / p.sum()

    return path, script, keyed


def main(out: str) -> None:
    tmp = tempfile.mkdtemp()
    camera, script, keyed = camera_video(tmp)
    media = write_video(os.path.join(tmp, "clip.avi"), 240, fps=24, size=(270, 480))
    qapp = QApplication(sys.argv[:1])
    settings = AppSettings(QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat))
    settings.set("edges", True)
    win = MainWindow(settings, load_model=lambda spec: ScriptedRecognizer(
        script, frame_rate=12, key_on_frame=keyed), source=camera, model="scripted demo",
        playlist=[media, media])
    win.player.command("play_pause")
    win.show()

    def shoot():
        if not any("player:" in line for line in win.log_lines) or not win.view.banner:
            QTimer.singleShot(50, shoot)
            return
        pix = qapp.primaryScreen().grabWindow(0, win.x(), win.y(), win.frameGeometry().width(),
                                              win.frameGeometry().height())
        pix.save(out)
        print(f"wrote {out} ({pix.width()}x{pix.height()})")
        print("\n".join(win.log_lines))
        win.close()
        qapp.quit()

    QTimer.singleShot(2500, shoot)
    QTimer.singleShot(20000, qapp.quit)
    qapp.exec()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/img/app.png")
