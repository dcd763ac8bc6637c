"""`lcr-edge app`: the desktop window (PyQt6). The module is named gui so that it does not shadow
the top-level `app` package it starts."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("app")
    def app_command(
        source: str = typer.Option(None, "--source", "-s",
                                   help="Camera index (0), video file, folder of frames or demo "
                                        "[default: the last one used; at first the first camera, "
                                        "else the bundled demo clip]."),
        model: Path = typer.Option(None, "--model", "-m",
                                   help="Exported model folder [default: the last one used, "
                                        "else $LCR_EDGE_MODEL or the bundled LCR-S INT8]."),
        profile: str = typer.Option(None, "--profile", "-p",
                                    help="Profile name (media, mpris) or .toml path."),
        backend: str = typer.Option(None, help="openvino, onnxruntime or torch."),
        playlist: list[Path] = typer.Option(None, "--play",
                                            help="Media files or folders for the player."),
    ):
        """Open the window: live view, gestures, actions and a gesture-controlled player."""
        import importlib

        from lcr_edge.artifact import check_backend

        if backend is not None:
            check_backend(backend)
        gui = importlib.import_module("lcr_edge.app")
        raise typer.Exit(gui.run_app(source=source, model=str(model) if model else None,
                                     profile=profile, playlist=playlist or None,
                                     backend=backend))
