"""Gesture events -> actions, from a TOML profile.

A profile (the default is `lcr_edge/profiles/media.toml`):

    [profile]
    name = "media"
    allow_shell = false            # shell actions run only where this says true

    [events]                       # any EventConfig setting (lcr_edge.events), laid over
    cooldown_s = 0.6               # the model's own rules (its model.json `events`)
    [events.thresholds]
    "Stop Sign" = 0.8

    [gestures]
    "Swiping Left" = "player:previous"                  # trigger `single` (fires once)
    "Thumb Up" = { single = "player:volume_up", hold = "player:volume_up" }   # `hold` repeats
    "Drumming Fingers" = ["key:space", "mpris:play_pause"]                     # several actions

Action names are `kind:argument`:
- `player:<cmd>`: the app's built-in player (PLAYER_COMMANDS);
- `key:<keys>`: a key press such as `key:space` or `key:ctrl+right` (KEY_NAMES, MODIFIERS);
- `mpris:<cmd>` or `mpris:<cmd>@<player>`: any running media player on Linux over D-Bus
  (MPRIS_COMMANDS; `@vlc` picks org.mpris.MediaPlayer2.vlc, else the first player found);
- `shell:<command line>`: only with `allow_shell = true`.

Unknown gestures, actions or settings fail with the file, the line and the valid names.
Executing actions is the caller's: `ActionRunner` calls one handler per kind (the app passes its
player, key and MPRIS handlers; `lcr-edge run` its headless ones). No Qt here.

>>> p = load_profile("media")
>>> [str(a) for a in p.bindings["Swiping Left"].single]
['player:previous']
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lcr_edge.artifact import event_rules
from lcr_edge.errors import LCRError
from lcr_edge.events import DEFAULT_MODEL_RULES, Event, EventConfig, rules_for
from lcr_edge.labels import IDLE_LABELS, JESTER_LABELS, close_names

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PLAYER_COMMANDS = ("play_pause", "play", "pause", "stop", "next", "previous", "volume_up",
                   "volume_down", "seek_forward", "seek_back", "mute", "fullscreen")
MPRIS_COMMANDS = ("play_pause", "play", "pause", "stop", "next", "previous", "seek_forward",
                  "seek_back", "volume_up", "volume_down", "raise")
MODIFIERS = ("ctrl", "alt", "shift", "meta")
# The key vocabulary: every key a `key:` action names -> (its xdotool keysym, its Qt key name).
KEYS: dict[str, tuple[str, str]] = {
    **{c: (c, c.upper()) for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
    **{f"f{i}": (f"f{i}", f"F{i}") for i in range(1, 13)},
    "space": ("space", "Space"), "enter": ("Return", "Return"), "escape": ("Escape", "Esc"),
    "tab": ("Tab", "Tab"), "backspace": ("BackSpace", "Backspace"), "delete": ("Delete", "Del"),
    "insert": ("Insert", "Ins"), "left": ("Left", "Left"), "right": ("Right", "Right"),
    "up": ("Up", "Up"), "down": ("Down", "Down"), "home": ("Home", "Home"), "end": ("End", "End"),
    "pageup": ("Prior", "PgUp"), "pagedown": ("Next", "PgDown"), "plus": ("plus", "+"),
    "minus": ("minus", "-"), "media_play": ("XF86AudioPlay", "Media Play"),
    "media_next": ("XF86AudioNext", "Media Next"),
    "media_previous": ("XF86AudioPrev", "Media Previous"),
    "media_stop": ("XF86AudioStop", "Media Stop"),
    "volume_up": ("XF86AudioRaiseVolume", "Volume Up"),
    "volume_down": ("XF86AudioLowerVolume", "Volume Down"),
    "volume_mute": ("XF86AudioMute", "Volume Mute"),
}
KEY_NAMES = tuple(KEYS)
ACTION_KINDS = ("player", "key", "mpris", "shell")
TRIGGERS = ("single", "hold")
PROFILE_SECTIONS = ("profile", "events", "gestures")
SEEK_STEP_S = 10.0
VOLUME_STEP = 0.1


@dataclass(frozen=True)
class Action:
    kind: str  # one of ACTION_KINDS
    arg: str  # the command, keys or command line

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}"


@dataclass
class Binding:
    single: list[Action] = field(default_factory=list)
    hold: list[Action] = field(default_factory=list)


@dataclass
class Profile:
    name: str
    path: Path | None
    events: EventConfig  # the rules in force: the model's own under the profile's [events]
    bindings: dict[str, Binding]
    allow_shell: bool = False
    description: str = ""
    # Jester gestures the profile maps but the model does not know (a fine-tune that dropped a
    # class): left out, named here so the caller can warn; everything else works
    missing: list[str] = field(default_factory=list)

    def warning(self) -> str | None:
        """One line naming the gestures left out, or None."""
        if not self.missing:
            return None
        where = self.path or self.name
        return (f"{where}: the model does not know {', '.join(repr(g) for g in self.missing)}; "
                f"{'that gesture is' if len(self.missing) == 1 else 'those gestures are'} ignored")

    def describe(self) -> list[tuple[str, str, str]]:
        """[(gesture, trigger, action)] in file order, for the gallery and `--help` texts."""
        return [(g, trig, str(a)) for g, b in self.bindings.items()
                for trig in TRIGGERS for a in getattr(b, trig)]


@dataclass(frozen=True)
class ActionResult:
    gesture: str
    trigger: str
    action: str
    ok: bool
    message: str = ""

    def to_dict(self) -> dict:
        return {"type": "action", "gesture": self.gesture, "trigger": self.trigger,
                "action": self.action, "ok": self.ok, "message": self.message}


# ---------------------------------------------------------------- loading

def bundled_profiles() -> list[str]:
    folder = resources.files("lcr_edge") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def resolve_profile_path(name_or_path: str | Path) -> Path:
    """A path to a .toml file, or the name of a bundled profile ("media")."""
    p = Path(name_or_path).expanduser()
    if p.is_file():
        return p
    bundled = resources.files("lcr_edge") / "profiles" / f"{name_or_path}.toml"
    if bundled.is_file():
        return Path(str(bundled))
    raise LCRError(f"{name_or_path}: no such profile file; bundled profiles: "
                   f"{', '.join(bundled_profiles())}")


def load_profile(name_or_path: str | Path = "media", labels=None, rules: dict | None = None
                 ) -> Profile:
    """Read and check a profile; `labels` (the model's) are the valid gesture names, `rules` the
    model's own event rules (`artifact.event_rules`; None: the defaults), which the profile's
    [events] settings override."""
    path = resolve_profile_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LCRError(f"{path}: cannot read profile: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise LCRError(f"{path}: not a UTF-8 text file (byte {exc.start}); save it as UTF-8") from None
    return parse_profile(text, path, labels, rules)


def profile_for(model, name_or_path: str | Path = "media") -> Profile:
    """The profile as `model` runs it (a Recognizer, or anything with `.labels` and `.metadata`):
    checked against its gesture names, over its own event rules."""
    return load_profile(name_or_path, labels=model.labels, rules=event_rules(model.metadata))


def parse_profile(text: str, path: Path | str | None = None, labels=None,
                  rules: dict | None = None) -> Profile:
    where = str(path or "<profile>")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LCRError(f"{where}: not valid TOML: {exc}") from None

    def fail(msg: str, table: str, key: str | None = None, sub: str | None = None):
        line = find_line(text, table, key, sub)
        raise LCRError(f"{where}:{line}: {msg}" if line else f"{where}: {msg}")

    for section in doc:
        if section not in PROFILE_SECTIONS:
            fail(f"unknown section [{section}]; valid: {', '.join(PROFILE_SECTIONS)}", section)
        if not isinstance(doc[section], dict):
            fail(f"[{section}] must be a table, got {doc[section]!r}", section)
    meta = doc.get("profile", {})
    for key in meta:
        if key not in ("name", "description", "allow_shell"):
            fail(f"unknown key {key!r} in [profile]; valid: name, description, allow_shell",
                 "profile", key)
    allow_shell = meta.get("allow_shell", False)
    if not isinstance(allow_shell, bool):
        fail("allow_shell must be true or false", "profile", "allow_shell")
    table = doc.get("events", {})
    try:
        EventConfig.from_dict(table)  # the profile's own settings, checked on their own
    except LCRError as exc:  # "[events]: unknown setting 'x'..." -> the line of x
        bad = re.search(r"'([^']+)'", str(exc))
        fail(str(exc), "events", bad.group(1) if bad else None)

    valid = [g for g in (labels or JESTER_LABELS) if g not in IDLE_LABELS]
    missing: list[str] = []

    def known(name: str, table: str) -> bool:
        """True for the model's gestures; a Jester gesture the model lacks is left out (and named
        in Profile.missing); any other name is an error with the closest valid names."""
        if name in valid:
            return True
        if name in JESTER_LABELS and name not in IDLE_LABELS and labels is not None:
            if name not in missing:
                missing.append(name)
            return False
        close = close_names(name, valid, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        where_in = " in [events.thresholds]" if table == "events.thresholds" else ""
        fail(f"unknown gesture {name!r}{where_in}{hint} Valid gestures: {', '.join(valid)}",
             table, name)
        return False

    rules = DEFAULT_MODEL_RULES if rules is None else rules
    mine = {n: v for n, v in table.get("thresholds", {}).items() if known(n, "events.thresholds")}
    theirs = {n: v for n, v in rules.get("thresholds", {}).items()  # a gesture the model lacks
              if labels is None or n in labels}                        # has no threshold to set
    events = rules_for({**rules, "thresholds": theirs}, {**table, "thresholds": mine})
    gestures = doc.get("gestures", {})
    bindings: dict[str, Binding] = {}
    for gesture, spec in gestures.items():
        if not known(gesture, "gestures"):
            continue
        if isinstance(spec, (str, list)):
            spec = {"single": spec}
        if not isinstance(spec, dict):
            fail(f"{gesture!r}: expected an action, a list of actions or "
                 "{ single = ..., hold = ... }", "gestures", gesture)
        binding = Binding()
        for trigger, actions in spec.items():
            if trigger not in TRIGGERS:
                fail(f"{gesture!r}: unknown trigger {trigger!r}; valid: {', '.join(TRIGGERS)}",
                     "gestures", gesture, trigger)
            if isinstance(actions, str):
                actions = [actions]
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                fail(f"{gesture!r}: {trigger} must be an action such as \"player:next\" or a list "
                     f"of them, got {actions!r}", "gestures", gesture, trigger)
            for a in actions:
                try:
                    action = parse_action(a, allow_shell)
                except LCRError as exc:
                    fail(f"{gesture!r}: {exc}", "gestures", gesture, trigger)
                getattr(binding, trigger).append(action)
        bindings[gesture] = binding
    return Profile(name=str(meta.get("name", Path(where).stem)), path=Path(path) if path else None,
                   events=events, bindings=bindings, allow_shell=allow_shell,
                   description=str(meta.get("description", "")), missing=missing)


def parse_action(text, allow_shell: bool = False) -> Action:
    """"player:next" -> Action("player", "next"); raises LCRError listing the valid names."""
    if not isinstance(text, str) or ":" not in text:
        raise LCRError(f"bad action {text!r}: expected kind:argument with kind one of "
                       f"{', '.join(ACTION_KINDS)}")
    kind, arg = (s.strip() for s in text.split(":", 1))
    if kind == "player":
        if arg not in PLAYER_COMMANDS:
            raise LCRError(f"unknown player command {arg!r}; valid: {', '.join(PLAYER_COMMANDS)}")
    elif kind == "mpris":
        cmd = arg.split("@", 1)[0]
        if cmd not in MPRIS_COMMANDS:
            raise LCRError(f"unknown mpris command {cmd!r}; valid: {', '.join(MPRIS_COMMANDS)}")
    elif kind == "key":
        parse_keys(arg)
    elif kind == "shell":
        if not allow_shell:
            raise LCRError(f"shell action {arg!r} needs allow_shell = true in [profile]")
        if not arg:
            raise LCRError("empty shell command")
    else:
        raise LCRError(f"unknown action kind {kind!r}; valid: {', '.join(ACTION_KINDS)}")
    return Action(kind, arg)


def parse_keys(spec: str) -> tuple[list[str], str]:
    """"ctrl+shift+right" -> (["ctrl", "shift"], "right")."""
    parts = [p.strip().lower() for p in spec.split("+")]
    *mods, key = parts
    for m in mods:
        if m not in MODIFIERS:
            raise LCRError(f"unknown modifier {m!r} in key {spec!r}; valid: {', '.join(MODIFIERS)}")
    if key not in KEY_NAMES:
        raise LCRError(f"unknown key {key!r} in {spec!r}; valid: {', '.join(KEY_NAMES)}")
    return mods, key


_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=')


def find_line(text: str, table: str, key: str | None = None, sub: str | None = None) -> int | None:
    """1-based line of `[table] key = ...` (or of `sub` inside `[table."key"]`); tomllib gives
    parsed values without positions, so the line is found by scanning the text."""
    current = ""
    fallback = None
    for no, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            current = ".".join(_unquote(p) for p in _split_dotted(m.group(1)))
            if key is None and current == table:
                return no
            if sub is not None and current == f"{table}.{key}":
                fallback = no
            continue
        m = _KEY.match(line)
        if not m:
            continue
        k = _unquote(m.group(1))
        if current == table and k == key:
            return no
        if sub is not None and current == f"{table}.{key}" and k == sub:
            return no
    return fallback


def _split_dotted(s: str) -> list[str]:
    return re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', s)


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'" else s


# ---------------------------------------------------------------- running

class ActionRunner:
    """Turns events into action calls: `handlers[kind](arg) -> message` for each action bound to
    the event's gesture and trigger. A handler that raises gives ok=False with its message; a
    missing handler gives ok=False "no handler"."""

    def __init__(self, profile: Profile, handlers: dict | None = None):
        self.profile = profile
        self.handlers = dict(handlers or {})
        if profile.allow_shell and "shell" not in self.handlers:
            self.handlers["shell"] = run_shell

    def handle(self, event: Event) -> list[ActionResult]:
        if event.kind not in TRIGGERS or event.gesture not in self.profile.bindings:
            return []
        results = []
        for action in getattr(self.profile.bindings[event.gesture], event.kind):
            handler = self.handlers.get(action.kind)
            if handler is None:
                results.append(ActionResult(event.gesture, event.kind, str(action), False,
                                            f"no {action.kind} handler here"))
                continue
            try:
                msg = handler(action.arg)
                results.append(ActionResult(event.gesture, event.kind, str(action), True,
                                            msg or ""))
            except Exception as exc:  # an action failing must never stop recognition
                # our own errors are written for users; anything else says what it was
                why = str(exc) if isinstance(exc, LCRError) else f"{type(exc).__name__}: {exc}"
                results.append(ActionResult(event.gesture, event.kind, str(action), False, why))
        return results


def run_shell(command: str) -> str:
    """Start a shell action without waiting for it (the caller's loop must not block)."""
    proc = subprocess.Popen(shlex.split(command), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    return f"started pid {proc.pid}"


def xdotool_keys(spec: str) -> str:
    """Headless key press through xdotool (X11); raises when it is not installed."""
    import shutil

    mods, key = parse_keys(spec)
    if shutil.which("xdotool") is None:
        raise LCRError("key presses outside the app need xdotool (apt-get install xdotool)")
    combo = "+".join([{"meta": "super"}.get(m, m) for m in mods] + [KEYS[key][0]])
    subprocess.Popen(["xdotool", "key", combo], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    return f"xdotool key {combo}"
