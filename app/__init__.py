"""The LCR-Edge desktop app (PyQt6): live view, gesture events, actions, built-in media player.

Start it with `lcr-edge app [--source 0|video|folder] [--model DIR] [--profile media]`.
"""

from __future__ import annotations

import os
import signal
import sys

# What Qt's X11 platform plugin (xcb) loads, by Debian/Ubuntu package: a minimal desktop may lack
# some, and Qt then aborts the process with a hint that names only one of them.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
}


def missing_xcb_packages(load=None) -> list[str]:
    """The packages whose libraries Qt's xcb plugin needs and the system cannot load."""
    import ctypes

    def can_load(name: str) -> bool:
        try:
            (load or ctypes.CDLL)(name)
            return True
        except OSError:
            return False

    return sorted({pkg for lib, pkg in XCB_LIBRARIES.items() if not can_load(lib)})


def run_app(source=None, model=None, profile=None, playlist=None, backend=None) -> int:
    """Create the QApplication and the main window; returns the exit code."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        from lcr_edge.errors import LCRError

        # Qt would abort the process; say what is wrong instead.
        raise LCRError("no display: lcr-edge app needs a desktop session (DISPLAY or "
                       "WAYLAND_DISPLAY); without one use lcr-edge run")
    if sys.platform.startswith("linux") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb" \
            and os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        missing = missing_xcb_packages()
        if missing:
            from lcr_edge.errors import LCRError

            raise LCRError(f"Qt's X11 window needs system libraries that are missing: "
                           f"sudo apt-get install {' '.join(missing)}")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from lcr_edge.app.settings import AppSettings
    from lcr_edge.app.window import MainWindow

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
