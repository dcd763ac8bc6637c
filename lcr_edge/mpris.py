"""MPRIS (Linux, D-Bus): play/pause, skip, seek and volume of any running media player (VLC, mpv
with mpris, Spotify, browsers ...), through QtDBus. `mpris_call("next")` or
`mpris_call("next@vlc")` (org.mpris.MediaPlayer2.vlc; without @, the first player found).

Method calls are sent without waiting for the player (`asyncCall`), so a hung player never
blocks the caller; volume needs one short synchronous read (200 ms timeout).
"""

from __future__ import annotations

from lcr_edge.errors import LCRError

PREFIX = "org.mpris.MediaPlayer2."
PATH = "/org/mpris/MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
SEEK_US = 10_000_000  # 10 s in microseconds
VOLUME_STEP = 0.1
METHODS = {"play_pause": "PlayPause", "play": "Play", "pause": "Pause", "stop": "Stop",
           "next": "Next", "previous": "Previous"}


def _bus():
    from PyQt6.QtCore import QCoreApplication
    from PyQt6.QtDBus import QDBusConnection

    if QCoreApplication.instance() is None:  # QtDBus wants an application object
        _bus.app = QCoreApplication([])
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        raise LCRError("MPRIS needs a D-Bus session bus (Linux desktop); none is running")
    return bus


def players() -> list[str]:
    """Names of the running MPRIS players (the part after org.mpris.MediaPlayer2.)."""
    reply = _bus().interface().registeredServiceNames()
    names = reply.value() if reply.isValid() else []
    return sorted(n[len(PREFIX):] for n in names if n.startswith(PREFIX))


def mpris_call(arg: str) -> str:
    """"play_pause", "next@vlc", "seek_forward", "volume_up" ... -> a short description."""
    from PyQt6.QtCore import QMetaType
    from PyQt6.QtDBus import QDBusArgument, QDBusInterface, QDBusVariant

    cmd, _, target = arg.partition("@")
    bus = _bus()
    found = players()
    if not found:
        raise LCRError("no MPRIS media player is running")
    name = target or found[0]
    if name not in found:
        raise LCRError(f"MPRIS player {name!r} is not running; running: {', '.join(found)}")
    service = PREFIX + name
    if cmd == "raise":
        QDBusInterface(service, PATH, "org.mpris.MediaPlayer2", bus).asyncCall("Raise")
    elif cmd in METHODS:
        QDBusInterface(service, PATH, PLAYER, bus).asyncCall(METHODS[cmd])
    elif cmd in ("seek_forward", "seek_back"):
        offset = QDBusArgument(SEEK_US if cmd == "seek_forward" else -SEEK_US,
                               QMetaType.Type.LongLong.value)
        QDBusInterface(service, PATH, PLAYER, bus).asyncCall("Seek", offset)
    elif cmd in ("volume_up", "volume_down"):
        props = QDBusInterface(service, PATH, "org.freedesktop.DBus.Properties", bus)
        props.setTimeout(200)
        reply = props.call("Get", PLAYER, "Volume")
        args = reply.arguments()
        if not args:
            raise LCRError(f"MPRIS player {name!r} did not report its volume")
        volume = args[0].variant() if isinstance(args[0], QDBusVariant) else args[0]
        step = VOLUME_STEP if cmd == "volume_up" else -VOLUME_STEP
        new = min(1.0, max(0.0, float(volume) + step))
        props.asyncCall("Set", PLAYER, "Volume", QDBusVariant(new))
        return f"{name}: volume {new:.1f}"
    else:
        raise LCRError(f"unknown mpris command {cmd!r}")
    return f"{name}: {cmd}"
