"""`lcr-edge`: one command, guessable verbs. Heavy imports (torch, openvino, PyQt6) happen inside
the verb that needs them, so `lcr-edge --help` is instant and the runtime path stays torch-free.

Each verb lives in `lcr_edge/commands/<module>.py` exposing `register(app)`; COMMANDS lists them.
"""

from __future__ import annotations

import errno
import importlib
import sys

import typer

from lcr_edge.errors import LCRError

app = typer.Typer(
    name="lcr-edge",
    help="Real-time hand-gesture recognition with LSTM-CrossRWKV: train, quantize, export, run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[default: ...]" must show, not be markup
)


def _print_version(value: bool) -> None:
    if value:
        from lcr_edge import __version__

        typer.echo(f"lcr-edge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")):
    """Real-time hand-gesture recognition with LSTM-CrossRWKV: train, quantize, export, run."""


COMMANDS = [
    "info",
    "demo",
    "synth",
    "chain",
    "train",
    "run",
    "gui",
    "record",
    "finetune",
    "export",
    "quantize",
    "bench",
]

for _name in COMMANDS:
    importlib.import_module(f"lcr_edge.commands.{_name}").register(app)


# A full disk, a quota, a file-size limit: the machine's trouble, said in one line.
FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def main() -> None:
    """Console entry point: user errors print one line and exit 2, never a traceback."""
    try:
        app()
    except LCRError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:
        if exc.name in ("torch", "onnx", "onnxruntime", "openvino", "nncf", "PyQt6", "matplotlib"):
            extra = {"torch": "train", "matplotlib": "train", "PyQt6": "app"}.get(exc.name, "export")
            typer.secho(f"error: this command needs {exc.name}: pip install 'lcr-edge[{extra}]'",
                        fg=typer.colors.RED, err=True)
            sys.exit(2)
        raise
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in FULL_ERRNOS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        typer.secho(f"error: could not write{where}: {exc.strerror} (free some space or lift the "
                    f"limit, then run it again; what was written before is kept)",
                    fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
