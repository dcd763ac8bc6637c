"""A model's own event rules (model.json `events`) under a profile's [events] settings."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from lcr_edge import artifact
from lcr_edge.actions import load_profile, parse_profile
from lcr_edge.cli import app
from lcr_edge.errors import LCRError
from lcr_edge.events import DEFAULT_MODEL_RULES, EventConfig, check_model_rules, rules_for
from lcr_edge.labels import JESTER_LABELS

STREAM_RULES = {"window": 1, "min_frames": 1, "threshold": 0.35, "thresholds": {"Stop Sign": 0.45}}


def with_rules(tiny_fp32, tmp_path, rules) -> str:
    """A copy of the tiny exported model whose model.json carries `rules`."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_fp32, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["events"] = rules
    (folder / "model.json").write_text(json.dumps(meta))
    return str(folder)


def test_the_profile_wins_key_by_key_and_gesture_by_gesture():
    cfg = rules_for(STREAM_RULES, {"threshold": 0.5, "cooldown_s": 2.0,
                                   "thresholds": {"Thumb Up": 0.9}})
    assert (cfg.window, cfg.min_frames, cfg.threshold, cfg.cooldown_s) == (1, 1, 0.5, 2.0)
    assert cfg.thresholds == {"Stop Sign": 0.45, "Thumb Up": 0.9}
    # a key neither sets keeps EventConfig's default
    assert cfg.rearm_ratio == EventConfig().rearm_ratio


def test_a_model_without_rules_fires_as_before():
    """No `events` in model.json: the media profile gives what it always gave (3 frames, 0.6,
    2 in a row, 0.7 for the static poses)."""
    media = load_profile("media").events
    assert (media.window, media.threshold, media.min_frames) == (3, 0.6, 2)
    assert media.thresholds == {"Stop Sign": 0.7, "Shaking Hand": 0.7}
    assert media == rules_for(DEFAULT_MODEL_RULES, {k: getattr(media, k) for k in (
        "cooldown_s", "opposite_s", "hold_after_s", "hold_repeat_s", "idle_reset_s")})


def test_the_media_profile_takes_a_models_rules_and_keeps_its_own():
    prof = load_profile("media", labels=JESTER_LABELS, rules=STREAM_RULES)
    assert (prof.events.window, prof.events.min_frames, prof.events.threshold) == (1, 1, 0.35)
    assert prof.events.threshold_for("Stop Sign") == 0.45
    assert prof.events.threshold_for("Shaking Hand") == 0.35  # the model names no margin for it
    assert prof.events.cooldown_s == 0.6 and prof.events.idle_reset_s == 10.0  # the profile's
    mine = parse_profile('[events]\nthreshold = 0.8\n[gestures]\n"Thumb Up" = "player:next"\n',
                         "mine.toml", JESTER_LABELS, STREAM_RULES)
    assert (mine.events.threshold, mine.events.window) == (0.8, 1)


def test_a_models_threshold_for_a_gesture_it_lacks_is_left_out():
    labels = [g for g in JESTER_LABELS if g != "Stop Sign"]
    prof = load_profile("media", labels=labels, rules=STREAM_RULES)
    assert "Stop Sign" not in prof.events.thresholds


@pytest.mark.parametrize("rules,words", [
    ({"cooldown_s": 1.0}, ["'cooldown_s' cannot be a model's rule", "window, threshold"]),
    ({"threshold": 2.0}, ["threshold", "must be in (0, 1]"]),
    ({"window": "three"}, ["bad value for 'window'"]),
    ([1, 2], ["must be a table of event rules"]),
])
def test_bad_model_rules_are_one_clear_error(rules, words):
    with pytest.raises(LCRError) as err:
        check_model_rules(rules, "m/model.json: events")
    for w in words:
        assert w in str(err.value), str(err.value)


def test_model_json_rules_are_checked_when_the_folder_is_read(tiny_fp32, tmp_path):
    good = with_rules(tiny_fp32, tmp_path / "good", {"window": 1, "threshold": 0.4})
    assert artifact.event_rules(artifact.read_metadata(good)) == {"window": 1, "threshold": 0.4}
    assert artifact.event_rules(artifact.read_metadata(tiny_fp32)) is None
    bad = with_rules(tiny_fp32, tmp_path / "bad", {"thresholds": {"Thumbs Up": 0.5}})
    with pytest.raises(LCRError, match=r"model.json: events.thresholds names 'Thumbs Up'"):
        artifact.read_metadata(bad)
    worse = with_rules(tiny_fp32, tmp_path / "worse", {"hold_after_s": 3})
    with pytest.raises(LCRError, match=r"model.json: events: 'hold_after_s' cannot be"):
        artifact.read_metadata(worse)


def test_info_run_and_eval_use_the_models_own_rules(tiny_fp32, tmp_path, monkeypatch):
    from lcr_edge import headless
    from lcr_edge.actions import profile_for
    from lcr_edge.training.stream_eval import StreamModel

    folder = with_rules(tiny_fp32, tmp_path, {"window": 1, "min_frames": 1, "threshold": 0.3})
    res = CliRunner().invoke(app, ["info", "--json", "--model", folder])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)["model"]
    assert got["event_rules_from"] == "model.json"
    assert (got["event_rules"]["window"], got["event_rules"]["threshold"]) == (1, 0.3)
    text = CliRunner().invoke(app, ["info", "--model", folder]).output
    assert "its own, from model.json" in text and "a 1-frame average above 0.3" in text

    cfg = profile_for(StreamModel(folder)).events  # what `lcr-edge eval --stream` scores with
    assert (cfg.window, cfg.min_frames, cfg.threshold, cfg.cooldown_s) == (1, 1, 0.3, 0.6)

    used = []  # what `lcr-edge run` builds its engine with

    class Stop(Exception):
        pass

    def engine(recognizer, events):
        used.append(events)
        raise Stop

    monkeypatch.setattr(headless, "Engine", engine)
    with pytest.raises(Stop):
        headless.run_headless(headless.HeadlessConfig(source="demo", model=folder, backend="openvino"),
                              lambda line: None)
    assert (used[0].window, used[0].threshold) == (1, 0.3)
