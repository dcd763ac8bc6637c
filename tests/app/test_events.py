"""Each event rule, driven by scripted probability streams at 12 frames per second."""

import numpy as np
import pytest
from fakes import probs_for, stream

from lcr_edge.errors import LCRError
from lcr_edge.events import EventConfig, EventEngine
from lcr_edge.labels import JESTER_LABELS

FPS = 12.0


def run(probs, **cfg):
    """-> [(kind, gesture, frame)] of every event in the stream."""
    cfg.setdefault("idle_reset_s", 0)
    eng = EventEngine(JESTER_LABELS, EventConfig(**cfg), frame_rate=FPS)
    return [(e.kind, e.gesture, e.frame) for p in probs for e in eng.update(p)]


def singles(events):
    return [(g, f) for k, g, f in events if k == "single"]


def test_fires_once_and_only_once_for_a_long_gesture():
    ev = run(stream(("idle", 5), ("Swiping Left", 30), ("idle", 5)), window=1, min_frames=2,
             hold_after_s=100)
    assert singles(ev) == [("Swiping Left", 6)]  # second frame above threshold
    assert len(ev) == 1


def test_min_consecutive_frames():
    # Blips of 2 frames never make 3 consecutive; a 3-frame run does.
    probs = stream(("Thumb Up", 2), ("idle", 3), ("Thumb Up", 2), ("idle", 3), ("Thumb Up", 3))
    assert singles(run(probs, window=1, min_frames=3)) == [("Thumb Up", 12)]


def test_smoothing_window_averages_out_one_frame_spikes():
    probs = stream(("idle", 4), ("Thumb Up", 1, 1.0), ("idle", 6))
    assert run(probs, window=1, min_frames=1) == [("single", "Thumb Up", 4)]
    assert run(probs, window=3, min_frames=1) == []  # 1.0 / 3 < 0.6


def test_per_gesture_threshold():
    probs = stream(("idle", 3), ("Thumb Up", 4, 0.7), ("idle", 3), ("Thumb Down", 4, 0.7))
    ev = run(probs, window=1, min_frames=1, thresholds={"Thumb Up": 0.8}, opposite_s=0)
    assert singles(ev) == [("Thumb Down", 10)]


def test_doing_other_things_is_idle_and_never_fires():
    probs = stream(("Doing other things", 20, 0.95))
    assert run(probs, window=1, min_frames=1) == []
    # ...and it counts against gestures: 0.5 on a gesture, 0.5 idle split over both idle labels.
    p = np.zeros(27, np.float32)
    p[JESTER_LABELS.index("Stop Sign")] = 0.48
    p[JESTER_LABELS.index("Doing other things")] = 0.3
    p[JESTER_LABELS.index("No gesture")] = 0.22
    assert run([p] * 5, window=1, min_frames=1, threshold=0.4) == []


def test_rearm_only_below_half_threshold():
    # 0.9 -> 0.35 (above half of 0.6) -> 0.9: still one event. Then 0.25 -> 0.9: a second one.
    probs = stream(("Stop Sign", 3), ("Stop Sign", 3, 0.35), ("Stop Sign", 3),
                   ("Stop Sign", 3, 0.25), ("Stop Sign", 3))
    ev = run(probs, window=1, min_frames=1, cooldown_s=0, hold_after_s=100)
    assert singles(ev) == [("Stop Sign", 0), ("Stop Sign", 12)]


def test_cooldown_blocks_other_gestures_right_after_an_event():
    probs = stream(("Stop Sign", 2), ("idle", 2), ("Thumb Up", 8))
    ev = run(probs, window=1, min_frames=1, cooldown_s=0.5)  # 6 frames
    assert singles(ev) == [("Stop Sign", 0), ("Thumb Up", 6)]
    ev = run(probs, window=1, min_frames=1, cooldown_s=0)
    assert singles(ev) == [("Stop Sign", 0), ("Thumb Up", 4)]


def test_opposite_gesture_is_suppressed_for_about_a_second():
    # Swipe left, the hand comes back (looks like a right swipe) 4 frames later: suppressed.
    probs = stream(("Swiping Left", 4), ("Swiping Right", 4), ("idle", 20), ("Swiping Right", 4))
    ev = run(probs, window=1, min_frames=1, cooldown_s=0, opposite_s=1.0)
    assert singles(ev) == [("Swiping Left", 0), ("Swiping Right", 28)]
    # A returning hand that outlasts the suppression still does not fire: it must drop first.
    probs = stream(("Swiping Left", 4), ("Swiping Right", 20))
    assert singles(run(probs, window=1, min_frames=1, cooldown_s=0)) == [("Swiping Left", 0)]
    # Without suppression the return fires.
    probs = stream(("Swiping Left", 4), ("Swiping Right", 4))
    assert singles(run(probs, window=1, min_frames=1, cooldown_s=0, opposite_s=0)) == [
        ("Swiping Left", 0), ("Swiping Right", 4)]


def test_hold_events_repeat_while_held():
    probs = stream(("Thumb Up", 24), ("idle", 12))
    ev = run(probs, window=1, min_frames=1, hold_after_s=1.0, hold_repeat_s=0.5)
    assert ev[0] == ("single", "Thumb Up", 0)
    holds = [f for k, _, f in ev if k == "hold"]
    assert holds == [12, 18]  # 1.0 s after firing, then every 0.5 s, until it drops at frame 24


@pytest.mark.parametrize("gesture", ["Swiping Left", "Turning Hand Clockwise", "Shaking Hand"])
def test_movements_are_never_held(gesture):
    """A swipe that stays on top for two seconds is one swipe: one event, no `hold`."""
    ev = run(stream((gesture, 24), ("idle", 12)), window=1, min_frames=1, hold_after_s=1.0,
             hold_repeat_s=0.5)
    assert ev == [("single", gesture, 0)]


def test_reset_after_long_idle():
    probs = stream(("idle", 5), ("Thumb Up", 3), ("idle", 30))
    ev = run(probs, window=1, min_frames=1, idle_reset_s=1.0)
    kinds = [(k, f) for k, _, f in ev]
    # idle from frame 0: reset at 12 would need 13 idle frames before the gesture (only 5);
    # after the gesture (frames 5-7) idle starts at 8: resets at 20 and 32.
    assert kinds == [("single", 5), ("reset", 20), ("reset", 32)]


def test_no_double_trigger_on_a_noisy_gesture():
    rng = np.random.default_rng(0)
    probs = [probs_for("Pushing Hand Away", float(p)) for p in rng.uniform(0.4, 1.0, 40)]
    probs = stream(("idle", 6)) + probs + stream(("idle", 6))
    ev = run(probs, window=3, min_frames=2, hold_after_s=100)
    assert [g for g, _ in singles(ev)] == ["Pushing Hand Away"]


def test_why_explains_a_gesture_that_did_not_fire():
    eng = EventEngine(JESTER_LABELS, EventConfig(window=1, min_frames=3), FPS)
    eng.update(probs_for("Thumb Up", 0.55))
    assert "Thumb Up 0.55 < 0.60" in eng.why
    eng.update(probs_for("Thumb Up", 0.9))
    assert "1/3 frames" in eng.why
    assert eng.top(2)[0][0] == "Thumb Up"


def test_config_from_dict_rejects_unknown_and_bad_values():
    cfg = EventConfig.from_dict({"window": 4, "thresholds": {"Thumb Up": 0.7}})
    assert cfg.window == 4 and cfg.threshold_for("Thumb Up") == 0.7
    with pytest.raises(LCRError, match="unknown setting 'windw'.*window"):
        EventConfig.from_dict({"windw": 4})
    with pytest.raises(LCRError, match="threshold"):
        EventConfig.from_dict({"threshold": 1.5})
    with pytest.raises(LCRError, match="expected 27"):
        EventEngine(JESTER_LABELS).update(np.zeros(5))
