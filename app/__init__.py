"""The LCR-Edge desktop app (PyQt6): live view, gesture events, actions, built-in media player.

Start it with `lcr-edge app [--source 0|video|folder] [--model DIR] [--profile media]`.
"""

from __future__ import annotations

import os
import signal
import sys


def run_app(source=None, model=None, profile=None, playlist=None, backend=None) -> int:
    """Create the QApplication and the main window; returns the exit code."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        from lcr_edge.errors import LCRError

        # Qt would abort the process; say what is wrong instead.
        raise LCRError("no display: lcr-edge app needs a desktop session (DISPLAY or "
                       "WAYLAND_DISPLAY); without one use lcr-edge run")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from app.settings import AppSettings
    from app.window import MainWindow

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    qapp.setApplicationName("LCR-Edge")
    settings = AppSettings()
    if backend:
        settings.set("backend", backend)
    win = MainWindow(settings, source=source, model=model, profile=profile, playlist=playlist)
    win.show()
    # Ctrl+C / SIGTERM in the terminal close the window properly (settings saved, threads
    # stopped); the timer lets Python run its signal handlers while Qt's loop is in charge.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: win.close())
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(200)
    return qapp.exec()
