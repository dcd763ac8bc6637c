import json

from typer.testing import CliRunner

from lcr_edge.cli import app


def test_help_lists_the_verbs():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "info" in res.output


def test_info_json_reports_counts_near_the_paper():
    res = CliRunner().invoke(app, ["info", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["variant"]: r for r in json.loads(res.output)}
    assert set(rows) == {"lcr-s", "lcr", "lcr-l"}
    for name in ("lcr", "lcr-l"):  # the bar: within 5 % of the paper's counts (docs/model.md)
        assert abs(rows[name]["params_vs_paper_pct"]) <= 5.0
    assert rows["lcr"]["macs_per_frame"] > 4 * rows["lcr-s"]["macs_per_frame"]
    assert rows["lcr-s"]["state_bytes_fp32"] == 1 * 2 * 197 * 192 * 4
