"""The command line's own manners: --version, and help that shows defaults and no type noise."""

import pytest
from typer.testing import CliRunner

from lcr_edge import __version__
from lcr_edge.cli import COMMANDS, app


def test_version_prints_and_exits_zero():
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"lcr-edge {__version__}"


def test_help_shows_the_defaults_written_in_help_texts():
    res = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    assert res.exit_code == 0
    assert "[default: the first camera, else the bundled demo clip]" in res.output
    assert "0 = never [default: the model's training clip length" in res.output
    assert "[default: media]" in res.output  # typer's own default display


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "gui"] + ["app", "eval"])
def test_flags_show_no_bool_metavar(command):
    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "<bool>" not in res.output and "Usage: " in res.output
