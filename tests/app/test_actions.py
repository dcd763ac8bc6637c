"""Profiles: bundled ones load; every mistake names the file, the line and the valid names."""

import pytest

from lcr_edge.actions import (
    ActionRunner,
    bundled_profiles,
    find_line,
    load_profile,
    parse_profile,
)
from lcr_edge.errors import LCRError
from lcr_edge.events import Event
from lcr_edge.labels import JESTER_LABELS

GOOD = """\
[profile]
name = "t"

[events]
window = 2
[events.thresholds]
"Thumb Up" = 0.8

[gestures]
"Swiping Left" = "player:previous"
"Thumb Up" = { single = "player:volume_up", hold = ["player:volume_up", "key:ctrl+up"] }

[gestures."Stop Sign"]
single = "mpris:play_pause@vlc"
"""


def test_bundled_profiles_load():
    assert {"media", "mpris"} <= set(bundled_profiles())
    for name in bundled_profiles():
        p = load_profile(name)
        assert p.bindings, name
    media = load_profile("media")
    assert str(media.bindings["Stop Sign"].single[0]) == "player:play_pause"
    assert media.events.threshold_for("Stop Sign") == 0.7


def test_parse_good_profile():
    p = parse_profile(GOOD, "good.toml")
    assert p.events.window == 2 and p.events.threshold_for("Thumb Up") == 0.8
    assert [str(a) for a in p.bindings["Thumb Up"].hold] == ["player:volume_up", "key:ctrl+up"]
    assert str(p.bindings["Stop Sign"].single[0]) == "mpris:play_pause@vlc"


@pytest.mark.parametrize("old,new,line,words", [
    ('"Swiping Left" = ', '"Swiping Lefd" = ', 10, ["unknown gesture 'Swiping Lefd'",
                                                    "Swiping Left, Swiping Right"]),
    ('player:previous', 'player:prev', 10, ["unknown player command 'prev'", "previous"]),
    ('hold = [', 'hodl = [', 11, ["unknown trigger 'hodl'", "single, hold"]),
    ('key:ctrl+up', 'key:ctrl+upp', 11, ["unknown key 'upp'", "pagedown"]),
    ('mpris:play_pause@vlc', 'mpris:playpause', 14, ["unknown mpris command", "play_pause"]),
    ('window = 2', 'windw = 2', 5, ["unknown setting 'windw'", "window"]),
    ('"Thumb Up" = 0.8', '"Thumb Upp" = 0.8', 7, ["unknown gesture 'Thumb Upp'"]),
    ('name = "t"', 'nam = "t"', 2, ["unknown key 'nam'"]),
    ('[gestures]', '[gesture]', 9, ["unknown section [gesture]", "gestures"]),
    ('player:previous', 'shell:ls', 10, ["allow_shell = true"]),
    ('player:previous', 'telnet:x', 10, ["unknown action kind 'telnet'", "player, key"]),
])
def test_bad_profiles_name_file_line_and_valid_names(old, new, line, words):
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    with pytest.raises(LCRError) as err:
        parse_profile(text, "bad.toml")
    msg = str(err.value)
    assert msg.startswith(f"bad.toml:{line}: "), msg
    for w in words:
        assert w in msg, msg


def test_toml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(LCRError, match=r"bad.toml: not valid TOML: .*line 2"):
        parse_profile('[profile]\nname = "unterminated\n', "bad.toml")
    with pytest.raises(LCRError, match="no such profile file; bundled profiles: .*media"):
        load_profile(tmp_path / "nope.toml")


def test_find_line():
    assert find_line(GOOD, "gestures", "Thumb Up") == 11
    assert find_line(GOOD, "gestures", "Stop Sign", "single") == 14
    assert find_line(GOOD, "events") == 4


def test_runner_calls_handlers_per_trigger_and_reports_failures():
    calls = []

    def player(cmd):
        calls.append(cmd)
        return "ok"

    def keys(spec):
        raise RuntimeError("no display")

    p = parse_profile(GOOD, "good.toml")
    runner = ActionRunner(p, {"player": player, "key": keys})
    res = runner.handle(Event("single", "Thumb Up", 1.0, 12, 0.9))
    assert [(r.action, r.ok) for r in res] == [("player:volume_up", True)]
    res = runner.handle(Event("hold", "Thumb Up", 2.0, 24, 0.9))
    assert [(r.action, r.ok) for r in res] == [("player:volume_up", True), ("key:ctrl+up", False)]
    assert "no display" in res[1].message
    res = runner.handle(Event("single", "Stop Sign", 3.0, 36, 0.9))
    assert not res[0].ok and "no mpris handler" in res[0].message
    assert runner.handle(Event("single", "Drumming Fingers", 4.0, 48, 0.9)) == []
    assert runner.handle(Event("reset", None, 5.0, 60)) == []
    assert calls == ["volume_up", "volume_up"]


def test_shell_only_when_allowed(tmp_path):
    marker = tmp_path / "ran"
    text = f'[profile]\nallow_shell = true\n[gestures]\n"Stop Sign" = "shell:touch {marker}"\n'
    runner = ActionRunner(parse_profile(text, "s.toml"))
    (res,) = runner.handle(Event("single", "Stop Sign", 0.0, 0, 0.9))
    assert res.ok, res
    import time
    for _ in range(100):
        if marker.exists():
            break
        time.sleep(0.02)
    assert marker.exists()


def test_media_profile_directions_match_the_readme():
    """The README's table of the media profile is what the profile does, and its directions are
    the user's own (Jester's): a swipe to your right is "Swiping Right", which plays the next track."""
    import re
    from pathlib import Path

    from lcr_edge.howto import HOW_TO

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([A-Z][A-Za-z ]+) \| ([^|]+) \| `([a-z_:]+)` \|$", readme, re.M)
    media = load_profile("media")
    assert len(rows) == len(media.bindings)
    for gesture, what, action in rows:
        assert str(media.bindings[gesture].single[0]) == action, gesture
        for side in ("left", "right"):
            if gesture.endswith(side.title()):
                assert f"your {side}" in what and f"your {side}" in HOW_TO[gesture].lower(), gesture
    assert dict((g, a) for g, _, a in rows)["Swiping Right"] == "player:next"


def test_a_model_without_some_gestures_keeps_the_rest_of_the_profile():
    """After a fine-tune that dropped a class, the media profile still loads: the class is left out
    and named, every other mapping works."""
    labels = [g for g in JESTER_LABELS if g not in ("Shaking Hand", "Thumb Down")]
    prof = load_profile("media", labels=labels)
    assert set(prof.missing) == {"Shaking Hand", "Thumb Down"}
    assert "Shaking Hand" not in prof.bindings and "Shaking Hand" not in prof.events.thresholds
    assert str(prof.bindings["Swiping Right"].single[0]) == "player:next"
    assert "'Shaking Hand'" in prof.warning() and "ignored" in prof.warning()
    assert load_profile("media").warning() is None


@pytest.mark.parametrize("text,words", [
    ('[gestures]\n"Thumb Up" = { single = 5 }\n', [":2:", "'Thumb Up'", "single must be an action"]),
    ('[gestures]\n"Thumbs Up" = "player:next"\n', [":2:", "did you mean 'Thumb Up'"]),
    ('[events]\ncooldown_s = inf\n', ["cooldown_s", "[0, 3600]"]),
    ('[events]\nwindow = true\n', ["window", "true/false"]),
    ('profile = 5\n', ["[profile] must be a table"]),
    ('[gestures]\n"Stop Sign" = ["player:next", 3]\n', ["'Stop Sign'", "list"]),
])
def test_wrong_types_are_one_clear_error(text, words):
    with pytest.raises(LCRError) as info:
        parse_profile(text, "my.toml")
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_a_profile_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[profile]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(LCRError, match="not a UTF-8 text file"):
        load_profile(path)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_profile(bom).name == "t"
