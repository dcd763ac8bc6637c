"""benchmarks/tune_events.py: the grid it scores, and the profile it writes."""

import re

from tests.scripts import load_script

tune_events = load_script("benchmarks/tune_events.py")


def test_the_written_profile_is_the_media_profile_with_the_chosen_rules():
    from lcr_edge.actions import load_profile, parse_profile, resolve_profile_path

    media = resolve_profile_path("media").read_text(encoding="utf-8")
    text = tune_events.profile_text(media, 2, 1, 0.45, 0.1, "chosen for a test")
    got, want = parse_profile(text), load_profile("media")
    assert (got.events.window, got.events.min_frames, got.events.threshold) == (2, 1, 0.45)
    assert got.events.thresholds == {"Stop Sign": 0.55, "Shaking Hand": 0.55}
    assert got.bindings == want.bindings and got.events.cooldown_s == want.events.cooldown_s
    assert text.startswith("# chosen for a test\n")


def test_it_ranks_the_grid_and_writes_the_best_rules(tmp_path, capsys):
    from lcr_edge.actions import load_profile
    from tests.tiny_models import tiny_checkpoint

    ckpt = tiny_checkpoint(tmp_path / "tiny.pt", dim=32)
    out = tmp_path / "rules.toml"
    assert tune_events.main(["--model", str(ckpt), "--streams", "1", "--gestures", "2",
                             "--styles", "default", "--long-idle", "0", "--windows", "1", "3",
                             "--min-frames", "1", "2", "--thresholds", "0.3", "0.6",
                             "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = [ln for ln in printed.splitlines() if re.match(r"^\s+\d+\s+\d+\s+0\.\d+ \|", ln)]
    assert len(rows) == 8 and "(media profile)" in printed  # 2 x 2 x 2, media's (3, 2, 0.6) among them
    best = rows[0].split()
    w, mf, th = int(best[0]), int(best[1]), float(best[2])
    assert f"wrote {out}: window {w}, min_frames {mf}, threshold {th:g}" in printed
    events = load_profile(str(out)).events
    assert (events.window, events.min_frames, events.threshold) == (w, mf, th)
