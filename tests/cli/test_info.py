import json

import pytest
from typer.testing import CliRunner

from lcr_edge.cli import app


@pytest.fixture(scope="module")
def info():
    """`lcr-edge info --json`, run once (it builds every variant and counts its MACs)."""
    res = CliRunner().invoke(app, ["info", "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_help_lists_the_verbs():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "info" in res.output


def test_info_json_reports_counts_near_the_paper(info):
    rows = {r["variant"]: r for r in info["variants"]}
    assert set(rows) == {"lcr-s", "lcr", "lcr-l", "lcr-s-paper", "lcr-paper", "lcr-l-paper"}
    for name in ("lcr", "lcr-l", "lcr-paper", "lcr-l-paper"):  # the bar: within 5 % (docs/model.md)
        assert abs(rows[name]["params_vs_paper_pct"]) <= 5.0
    assert rows["lcr"]["macs_per_frame"] > 4 * rows["lcr-s"]["macs_per_frame"]
    # the paper's model: H and C of every unit; the shipped one carries the previous frame too
    assert rows["lcr-s-paper"]["state_bytes_fp32"] == 1 * 2 * 197 * 192 * 4
    assert rows["lcr-s"]["state_bytes_fp32"] == 1 * 3 * 197 * 192 * 4


def test_info_lists_the_recipe_train_builds_and_the_papers(info):
    rows = {r["variant"]: r for r in info["variants"]}
    for size in ("lcr-s", "lcr", "lcr-l"):
        shipped, paper = rows[size], rows[f"{size}-paper"]
        assert shipped["recipe"] == "train" and paper["recipe"] == "paper"
        assert [shipped[k] for k in ("cell", "head", "motion", "stem")] == ["bounded", "max", "diff", "conv"]
        assert [paper[k] for k in ("cell", "head", "motion", "stem")] == ["paper", "cls", "none", "patch"]
        assert (shipped["dim"], shipped["depth"]) == (paper["dim"], paper["depth"])
        assert shipped["paper_params_m"] == paper["paper_params_m"]
        assert shipped["macs_per_frame"] > paper["macs_per_frame"]  # the conv stem costs more


def test_info_lists_the_formats_table(info):
    from lcr_edge.artifact import FORMATS

    assert [tuple(f.values()) for f in info["formats"]] == [tuple(f) for f in FORMATS]
    assert {f["backend"] for f in info["formats"]} == {"openvino", "onnxruntime", "torch"}


def test_info_table_names_both_recipes_and_the_files(monkeypatch):
    from lcr_edge.commands import info as info_command

    rows = [{"variant": v, "recipe": r, "cell": "bounded", "head": "max", "motion": "diff",
             "stem": "conv", "dim": 192, "depth": 1, "heads": 4, "params": 699_000,
             "paper_params_m": 0.82, "params_vs_paper_pct": -14.7, "macs_per_frame": 145_300_000,
             "state_shape": [1, 3, 1, 197, 192], "state_bytes_fp32": 453_888}
            for v, r in (("lcr-s", "train"), ("lcr-s-paper", "paper"))]
    monkeypatch.setattr(info_command, "variant_report", lambda: rows)  # the table, not the counts
    text = CliRunner().invoke(app, ["info"]).output
    lines = text.splitlines()
    assert lines[1].split()[:2] == ["lcr-s", "train"] and lines[2].split()[:2] == ["lcr-s-paper", "paper"]
    assert "model_int8_stateful.xml" in text and "checkpoint.pt" in text
