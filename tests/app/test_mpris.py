"""MPRIS actions reach a player on a private D-Bus session (skipped, saying why, without dbus or
QtDBus)."""

import os
import subprocess
import sys
import textwrap

from optional import needs_dbus

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))

CLIENT = textwrap.dedent("""
    import subprocess, sys, time
    player = subprocess.Popen([sys.executable, {player!r}], stdout=subprocess.PIPE, text=True)
    assert player.stdout.readline().strip() == "ready"
    from lcr_edge.mpris import mpris_call, players
    print("players", players())
    for cmd in ["play_pause", "next@fakeplayer", "seek_forward", "seek_back", "volume_up"]:
        print("client", mpris_call(cmd))
    try:
        mpris_call("next@vlc")
    except Exception as exc:
        print("error", exc)
    time.sleep(0.3)
    player.terminate()
    print(player.communicate()[0])
""")


@needs_dbus
def test_mpris_actions_reach_a_running_player():
    code = CLIENT.format(player=os.path.join(HERE, "fake_mpris_player.py"))
    env = {**os.environ, "PYTHONPATH": ROOT, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=60).stdout
    assert "players ['fakeplayer']" in out, out
    assert "client fakeplayer: volume 0.6" in out
    assert "MPRIS player 'vlc' is not running; running: fakeplayer" in out
    received = [line for line in out.splitlines()
                if line and not line.startswith(("players", "client", "error"))]
    assert received == ["PlayPause", "Next", "Seek 10000000", "Seek -10000000", "Volume 0.6"], out
