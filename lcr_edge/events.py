"""Per-frame class probabilities -> gesture events, with the rules that keep a streaming recognizer
from firing twice, firing on the hand coming back, or firing on noise.

Per frame (probabilities [K] in the model's label order, time t in seconds):
1. smoothing: the mean of the last `window` probability vectors;
2. idle folding: the idle labels ("No gesture", "Doing other things") are summed into one idle
   score and never fire;
3. the candidate is the best non-idle label; it must beat the idle score and its own threshold
   (`thresholds[label]`, else `threshold`) for `min_frames` consecutive frames;
4. re-arm: after a gesture fires it cannot fire again until its score falls below
   `rearm_ratio` x its threshold (one long gesture = one event);
5. cooldown: after any event, no other gesture fires for `cooldown_s`;
6. opposite suppression: after "Swiping Left" fires, "Swiping Right" cannot fire for
   `opposite_s` (the hand coming back after a swipe looks like the opposite swipe);
7. hold: a static pose (`lcr_edge.labels.can_hold`: Thumb Up/Down, Stop Sign, users' own
   gestures; never a swipe) still above threshold `hold_after_s` after it fired emits "hold"
   events every `hold_repeat_s` until it drops;
8. idle reset: after `idle_reset_s` of continuous idle a "reset" event asks the caller to reset
   the recognizer's recurrent state (a long-running state drifts), then the idle clock restarts.

Where the rules come from: the ones that depend on how a model's probabilities are calibrated
(`MODEL_RULE_KEYS`: window, threshold, per-gesture thresholds, min_frames, rearm_ratio) are the
model's own, from its model.json `events` table (a model trained to stream answers sooner and less
surely than a clip-trained one); a model without one gets `DEFAULT_MODEL_RULES`. A profile's
`[events]` table is laid over them key by key (`rules_for`), so what a user writes always wins.

`EventEngine.why` says in words why the current candidate has not fired (the complaint users have
about other demos: no way to see why a gesture did not trigger).

>>> from lcr_edge.labels import JESTER_LABELS
>>> import numpy as np
>>> eng = EventEngine(JESTER_LABELS, EventConfig(window=1, min_frames=2), frame_rate=12)
>>> p = np.zeros(27, np.float32); p[JESTER_LABELS.index("Thumb Up")] = 0.9; p[25] = 0.1
>>> [e.gesture for _ in range(5) for e in eng.update(p)]
['Thumb Up']
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.labels import IDLE_LABELS, JESTER_FPS, can_hold

# Pairs whose second half is what the hand does when it returns after the first.
_EPS = 1e-6  # time comparisons: frame times are i / frame_rate, not exact in binary

OPPOSITE_PAIRS: tuple[tuple[str, str], ...] = (
    ("Swiping Left", "Swiping Right"),
    ("Swiping Down", "Swiping Up"),
    ("Pushing Hand Away", "Pulling Hand In"),
    ("Sliding Two Fingers Left", "Sliding Two Fingers Right"),
    ("Sliding Two Fingers Down", "Sliding Two Fingers Up"),
    ("Pushing Two Fingers Away", "Pulling Two Fingers In"),
    ("Rolling Hand Forward", "Rolling Hand Backward"),
    ("Turning Hand Clockwise", "Turning Hand Counterclockwise"),
    ("Zooming In With Full Hand", "Zooming Out With Full Hand"),
    ("Zooming In With Two Fingers", "Zooming Out With Two Fingers"),
    ("Thumb Up", "Thumb Down"),
)


@dataclass
class EventConfig:
    """All event rules; a profile's `[events]` table sets any of them (see `from_dict`)."""

    window: int = 3  # frames averaged
    threshold: float = 0.6  # default per-gesture threshold on the smoothed probability
    thresholds: dict[str, float] = field(default_factory=dict)  # per-gesture overrides
    min_frames: int = 2  # consecutive frames above threshold before firing
    rearm_ratio: float = 0.5  # re-arm below rearm_ratio * threshold
    cooldown_s: float = 0.6  # no new event this long after any event
    opposite_s: float = 1.0  # the opposite gesture is suppressed this long
    hold_after_s: float = 1.0  # still held this long after firing -> "hold" events
    hold_repeat_s: float = 0.4  # ... repeated this often
    idle_reset_s: float = 10.0  # continuous idle this long -> "reset" (0 disables)
    idle_labels: tuple[str, ...] = IDLE_LABELS
    opposites: tuple[tuple[str, str], ...] = OPPOSITE_PAIRS

    def threshold_for(self, label: str) -> float:
        return float(self.thresholds.get(label, self.threshold))

    @classmethod
    def from_dict(cls, d: dict, where: str = "[events]") -> EventConfig:
        """Build from a profile table; unknown keys and bad values raise LCRError naming them."""
        known = {f.name: f for f in fields(cls)}
        cfg = cls()
        for key, value in d.items():
            if key not in known:
                raise LCRError(f"{where}: unknown setting {key!r}; valid: {', '.join(known)}")
            try:
                if isinstance(value, bool) and key not in ("idle_labels", "opposites"):
                    raise TypeError("a number, not true/false")
                if key == "thresholds":
                    value = {str(k): float(v) for k, v in dict(value).items()}
                elif key in ("idle_labels",):
                    value = tuple(str(v) for v in value)
                elif key == "opposites":
                    value = tuple((str(a), str(b)) for a, b in value)
                elif key in ("window", "min_frames"):
                    value = int(value)
                else:
                    value = float(value)
            except (TypeError, ValueError) as exc:
                raise LCRError(f"{where}: bad value for {key!r}: {value!r} ({exc})") from None
            setattr(cfg, key, value)
        cfg.check()
        return cfg

    def check(self) -> None:
        if self.window < 1 or self.min_frames < 1:
            raise LCRError("[events]: window and min_frames must be at least 1")
        for name, v in [("threshold", self.threshold), *self.thresholds.items()]:
            if not 0.0 < v <= 1.0:
                raise LCRError(f"[events]: threshold for {name!r} must be in (0, 1], got {v}")
        if not 0.0 <= self.rearm_ratio < 1.0:
            raise LCRError(f"[events]: rearm_ratio must be in [0, 1), got {self.rearm_ratio}")
        for name in ("cooldown_s", "opposite_s", "hold_after_s", "hold_repeat_s", "idle_reset_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= 3600.0):
                raise LCRError(f"[events]: {name} must be a number of seconds in [0, 3600], got {v}")
        if self.hold_repeat_s <= 0:
            raise LCRError(f"[events]: hold_repeat_s must be above 0, got {self.hold_repeat_s}")

    def describe(self) -> str:
        """The detection rules in one line, as `lcr-edge info` prints them."""
        own = "".join(f", {g} {v:g}" for g, v in self.thresholds.items())
        return (f"a {self.window}-frame average above {self.threshold:g}{own} for {self.min_frames} "
                f"frame{'s' if self.min_frames != 1 else ''} in a row")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["idle_labels"] = list(self.idle_labels)
        d["opposites"] = [list(p) for p in self.opposites]
        return d


# The settings a model carries in its model.json `events` table: they follow how its probabilities
# are calibrated. The rest (cooldown, holds, idle reset, ...) are the user's, in the profile.
MODEL_RULE_KEYS = ("window", "threshold", "thresholds", "min_frames", "rearm_ratio")
# For a model whose model.json names no rules: what the clip-trained models, run as two lanes,
# were tuned with (a 3-frame average above 0.6 twice in a row; static poses asked for more).
DEFAULT_MODEL_RULES: dict = {"window": 3, "threshold": 0.6, "min_frames": 2,
                             "thresholds": {"Stop Sign": 0.7, "Shaking Hand": 0.7}}


def check_model_rules(rules, where: str = "events") -> dict:
    """A model.json `events` table, checked: only MODEL_RULE_KEYS, valid values; -> the table."""
    if not isinstance(rules, dict):
        raise LCRError(f"{where}: must be a table of event rules, got {rules!r:.80}")
    extra = [k for k in rules if k not in MODEL_RULE_KEYS]
    if extra:
        raise LCRError(f"{where}: {', '.join(map(repr, extra))} cannot be a model's rule; a model "
                       f"sets only {', '.join(MODEL_RULE_KEYS)} (the rest is the profile's)")
    EventConfig.from_dict(rules, where)
    return rules


def rules_for(model_rules: dict | None, profile_table: dict | None = None,
              where: str = "[events]") -> EventConfig:
    """A model's own rules (None: DEFAULT_MODEL_RULES) under a profile's `[events]` table: the
    profile wins key by key, and per-gesture thresholds gesture by gesture.

    >>> rules_for({"window": 1, "threshold": 0.3}, {"threshold": 0.5}).threshold
    0.5
    >>> rules_for(None, {}).thresholds["Stop Sign"]
    0.7
    """
    model = dict(DEFAULT_MODEL_RULES if model_rules is None else model_rules)
    table = dict(profile_table or {})
    merged = {**model, **table,
              "thresholds": {**model.get("thresholds", {}), **table.get("thresholds", {})}}
    return EventConfig.from_dict(merged, where)


@dataclass(frozen=True)
class Event:
    """kind: "single" (gesture fired), "hold" (still held), "reset" (reset the model state)."""

    kind: str
    gesture: str | None
    t: float
    frame: int
    score: float = 0.0

    def to_dict(self) -> dict:
        return {"type": "event", "kind": self.kind, "gesture": self.gesture,
                "t": round(self.t, 3), "frame": self.frame, "score": round(self.score, 3)}


class EventEngine:
    """Feed `update(probs, t)` once per model step; it returns the events of that frame."""

    def __init__(self, labels, config: EventConfig | None = None, frame_rate: float = JESTER_FPS):
        self.labels = list(labels)
        self.config = config or EventConfig()
        self.config.check()
        self.frame_rate = float(frame_rate)
        idle = [i for i, name in enumerate(self.labels) if name in self.config.idle_labels]
        self._idle_idx = np.array(idle, dtype=np.int64)
        self._gesture_idx = np.array([i for i in range(len(self.labels)) if i not in idle],
                                     dtype=np.int64)
        self._thr = np.array([self.config.threshold_for(n) for n in self.labels], np.float32)
        self._opposite: dict[str, set[str]] = {}
        for a, b in self.config.opposites:
            self._opposite.setdefault(a, set()).add(b)
            self._opposite.setdefault(b, set()).add(a)
        self.reset()

    def reset(self) -> None:
        """Forget everything (new source, new model); the recognizer is reset by the caller."""
        self._history: deque[np.ndarray] = deque(maxlen=self.config.window)
        self._frame = -1
        self._streak_label: int | None = None
        self._streak = 0
        self._disarmed: set[int] = set()
        self._last_fire_t = -1e9
        self._suppressed_until: dict[str, float] = {}
        self._held: int | None = None  # label index of the gesture that fired and is still up
        self._next_hold_t = 0.0
        self._idle_since: float | None = None
        self.smoothed = np.zeros(len(self.labels), np.float32)
        self.idle_score = 0.0
        self.why = ""

    def update(self, probs: np.ndarray, t: float | None = None) -> list[Event]:
        """probs [K] (any non-negative scores summing to about 1) -> events of this frame."""
        cfg = self.config
        probs = np.asarray(probs, np.float32).reshape(-1)
        if probs.shape[0] != len(self.labels):
            raise LCRError(f"expected {len(self.labels)} probabilities, got {probs.shape[0]}")
        self._frame += 1
        t = self._frame / self.frame_rate if t is None else float(t)
        self._history.append(probs)
        self.smoothed = np.mean(self._history, axis=0)  # [K]
        s = self.smoothed
        self.idle_score = float(s[self._idle_idx].sum()) if len(self._idle_idx) else 0.0
        events: list[Event] = []

        # Re-arm every gesture whose score has fallen far enough.
        for i in list(self._disarmed):
            if s[i] < cfg.rearm_ratio * self._thr[i]:
                self._disarmed.discard(i)

        best = int(self._gesture_idx[np.argmax(s[self._gesture_idx])])
        name, score = self.labels[best], float(s[best])
        above = score >= self._thr[best] and score > self.idle_score

        # Holds: the gesture that fired is still the one above threshold.
        if self._held is not None and not (above and best == self._held):
            self._held = None
        if self._held is not None and t >= self._next_hold_t - _EPS:
            events.append(Event("hold", name, t, self._frame, score))
            self._next_hold_t = t + cfg.hold_repeat_s

        if above and best == self._streak_label:
            self._streak += 1
        else:
            self._streak_label, self._streak = (best, 1) if above else (None, 0)

        if not above:
            self.why = f"{name} {score:.2f} < {self._thr[best]:.2f}" if score > self.idle_score \
                else f"idle {self.idle_score:.2f}"
        elif best in self._disarmed:
            self.why = f"{name}: waiting to re-arm (below {cfg.rearm_ratio * self._thr[best]:.2f})"
        elif self._streak < cfg.min_frames:
            self.why = f"{name}: {self._streak}/{cfg.min_frames} frames"
        elif t < self._last_fire_t + cfg.cooldown_s - _EPS:
            self.why = f"{name}: cooldown {self._last_fire_t + cfg.cooldown_s - t:.1f} s"
        elif t < self._suppressed_until.get(name, -1e9) - _EPS:
            self.why = f"{name}: suppressed after its opposite"
            self._disarmed.add(best)  # the returning hand must drop out before it may fire
        else:
            events.append(Event("single", name, t, self._frame, score))
            self.why = f"{name} fired"
            self._disarmed.add(best)
            self._last_fire_t = t
            for other in self._opposite.get(name, ()):
                self._suppressed_until[other] = t + cfg.opposite_s
            if can_hold(name):
                self._held, self._next_hold_t = best, t + cfg.hold_after_s

        # Idle clock: nothing is above threshold and nothing is being held.
        if above or self._held is not None:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = t
        elif cfg.idle_reset_s > 0 and t - self._idle_since >= cfg.idle_reset_s - _EPS:
            events.append(Event("reset", None, t, self._frame, self.idle_score))
            self._idle_since = t
            self._history.clear()
        return events

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The k best labels of the smoothed scores: [(label, score)], best first."""
        order = np.argsort(-self.smoothed)[:k]
        return [(self.labels[i], float(self.smoothed[i])) for i in order]


def fire_events(labels, probs, config: EventConfig | None = None,
                frame_rate: float = JESTER_FPS) -> list[Event]:
    """All events of a whole probability stream [T, K] (offline evaluation, tests).

    >>> import numpy as np
    >>> p = np.tile(np.array([0.9, 0.1], np.float32), (6, 1))
    >>> [e.gesture for e in fire_events(["Thumb Up", "No gesture"], p)]
    ['Thumb Up']
    """
    engine = EventEngine(labels, config, frame_rate)
    return [e for row in probs for e in engine.update(row)]
