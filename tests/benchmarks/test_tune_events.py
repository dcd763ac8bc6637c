"""benchmarks/tune_events.py: the grid it scores, and the rules it stores in model.json."""

import re
import shutil

import pytest

from lcr_edge import artifact
from lcr_edge.errors import LCRError
from tests.scripts import load_script

tune_events = load_script("benchmarks/tune_events.py")

GRID = ["--streams", "1", "--gestures", "2", "--styles", "default", "--long-idle", "0",
        "--windows", "1", "3", "--min-frames", "1", "2", "--thresholds", "0.3", "0.6"]


def test_the_stored_table_holds_the_chosen_rules_and_the_static_margin():
    from lcr_edge.events import check_model_rules

    table = tune_events.model_table(2, 1, 0.45, 0.1)
    assert check_model_rules(table) == {"window": 2, "min_frames": 1, "threshold": 0.45,
                                        "thresholds": {"Stop Sign": 0.55, "Shaking Hand": 0.55}}
    # a model without Stop Sign gets no threshold for it (model.json would be refused)
    assert tune_events.model_table(2, 1, 0.45, 0.1, ["Shaking Hand"])["thresholds"] == \
        {"Shaking Hand": 0.55}


def test_it_ranks_the_grid_and_writes_the_best_rules_into_model_json(tiny_fp32, tmp_path, capsys):
    from lcr_edge.actions import load_profile

    folder = tmp_path / "model"
    shutil.copytree(tiny_fp32, folder)
    assert tune_events.main(["--model", str(folder), *GRID, "--write"]) == 0
    printed = capsys.readouterr().out
    rows = [ln for ln in printed.splitlines() if re.match(r"^\s+\d+\s+\d+\s+0\.\d+ \|", ln)]
    assert len(rows) == 8 and "(its rules now)" in printed  # 2 x 2 x 2, the defaults among them
    best = rows[0].split()
    w, mf, th = int(best[0]), int(best[1]), float(best[2])
    assert f"events window {w}, min_frames {mf}, threshold {th:g}" in printed
    meta = artifact.read_metadata(folder)
    assert (meta["events"]["window"], meta["events"]["min_frames"], meta["events"]["threshold"]) \
        == (w, mf, th)
    assert meta["events_tuned"]["seed"] == 3000 and "--write" in meta["events_tuned"]["command"]
    events = load_profile("media", labels=meta["labels"], rules=artifact.event_rules(meta)).events
    assert (events.window, events.min_frames, events.threshold) == (w, mf, th)
    # the model files are untouched: the folder still verifies and runs
    from lcr_edge.runtime import Recognizer

    assert Recognizer.open(folder).labels == meta["labels"]


def test_write_needs_an_exported_folder(tmp_path):
    from tests.tiny_models import tiny_checkpoint

    ckpt = tiny_checkpoint(tmp_path / "tiny.pt", dim=32)
    with pytest.raises(LCRError, match="export the checkpoint first"):
        tune_events.main(["--model", str(ckpt), *GRID, "--write"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pt"]  # nothing written
