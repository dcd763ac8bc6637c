"""What a machine may lack for a few tests: each is a skip marker that names what to install.

Probes catch what a missing system library raises (ImportError or OSError), so a machine without
one skips those tests with the reason instead of failing to collect the module.
"""

import shutil

import pytest


def player_missing() -> str:
    """Why the app's built-in player (QtMultimedia, which needs libpulse) cannot load, or ''."""
    try:
        from lcr_edge.app.window import import_player

        import_player()
    except (ImportError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ""


def dbus_missing() -> str:
    """Why the MPRIS test cannot start a private D-Bus session with a Qt player on it, or ''."""
    if shutil.which("dbus-run-session") is None:
        return "dbus-run-session is not installed (apt-get install dbus)"
    try:
        from PyQt6 import QtDBus  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"QtDBus cannot load: {str(exc).splitlines()[0]} (apt-get install libdbus-1-3)"
    return ""


def mp4_missing() -> str:
    """Why OpenCV cannot read the bundled .mp4 demo clip (a build without FFmpeg), or ''."""
    import cv2

    if not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return (f"this OpenCV ({cv2.__version__}) has no FFmpeg backend to read .mp4 files "
                "(pip install opencv-python-headless)")
    return ""


_PLAYER, _DBUS, _MP4 = player_missing(), dbus_missing(), mp4_missing()
needs_player = pytest.mark.skipif(bool(_PLAYER), reason=f"QtMultimedia cannot load: {_PLAYER} "
                                                        "(apt-get install libpulse0)")
needs_dbus = pytest.mark.skipif(bool(_DBUS), reason=_DBUS)
needs_mp4 = pytest.mark.skipif(bool(_MP4), reason=_MP4)
