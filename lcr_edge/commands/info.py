"""`lcr-edge info`: every registered variant (parameters beside the paper's, multiply-accumulates per
frame, state size, recipe), the model files an exported folder holds, and the model `run` and `app`
use (or `--model DIR`): its classes, frame rate, precisions and event rules."""

from __future__ import annotations

import json

import typer

RECIPE_FIELDS = ("cell", "head", "motion", "stem")


def variant_report() -> list[dict]:
    import torch

    from lcr_edge.model import PAPER_PARAMS_M, PAPER_RECIPE, VARIANTS, count_macs, create_model

    rows = []
    for name in VARIANTS:
        with torch.device("meta"):  # shapes only: no weights drawn, no arithmetic (40x faster)
            model = create_model(name)
            macs = count_macs(model)
        cfg = model.config
        params = model.num_params()
        paper_m = PAPER_PARAMS_M[name.removesuffix("-paper")]  # the paper's figure for its size
        state_elems = 1
        for d in cfg.state_shape:
            state_elems *= d
        recipe = {k: getattr(cfg, k) for k in RECIPE_FIELDS}
        rows.append({
            "variant": name, "recipe": "paper" if recipe == PAPER_RECIPE else "train",
            **recipe, "dim": cfg.dim, "depth": cfg.depth, "heads": cfg.heads,
            "params": params, "paper_params_m": paper_m,
            "params_vs_paper_pct": round((params / 1e6 / paper_m - 1) * 100, 1),
            "macs_per_frame": macs, "state_shape": list(cfg.state_shape),
            "state_bytes_fp32": state_elems * 4,
        })
    return rows


def formats_report() -> list[dict]:
    """The formats table (`lcr_edge.artifact.FORMATS`): one row per model file of an export."""
    from lcr_edge.artifact import FORMATS

    return [f._asdict() for f in FORMATS]


def model_report(folder) -> dict:
    """What a user of this model folder needs first: its size, rate, files and event rules."""
    from lcr_edge import artifact
    from lcr_edge.actions import load_profile
    from lcr_edge.events import MODEL_RULE_KEYS
    from lcr_edge.paths import default_model_dir

    folder = folder or default_model_dir()
    meta = artifact.read_metadata(folder)
    own = artifact.event_rules(meta)
    rules = load_profile("media", labels=meta["labels"], rules=own).events
    return {"path": str(folder), "variant": meta["variant"], "classes": len(meta["labels"]),
            "frame_rate": meta["frame_rate"], "precisions": artifact.precisions(meta),
            "event_rules": {k: getattr(rules, k) for k in MODEL_RULE_KEYS},
            "event_rules_from": "model.json" if own is not None else "defaults",
            "event_rules_text": rules.describe()}


def register(app: typer.Typer) -> None:
    @app.command()
    def info(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
             model: str = typer.Option(None, "--model", "-m", metavar="DIR",
                                       help="Exported model folder to describe [the default "
                                            "model: $LCR_EDGE_MODEL, else the bundled one].")):
        """Per variant: recipe, parameters (beside the paper's), MACs per frame (counted), state
        size; the model files an exported folder holds and the backend that opens each; then the
        model `run` and `app` use: classes, frame rate, precisions, and the event rules it fires
        with under the media profile."""
        rows, formats, mod = variant_report(), formats_report(), model_report(model)
        if as_json:
            typer.echo(json.dumps({"variants": rows, "formats": formats, "model": mod}, indent=2))
            return
        typer.echo(f"{'variant':<12} {'recipe':<6} {'cell':<7} {'head':<4} {'motion':<6} {'stem':<5} "
                   f"{'C':>4} {'depth':>5} {'params':>10} {'paper':>7} {'diff':>7} "
                   f"{'MACs/frame':>11} {'state':>9}")
        for r in rows:
            typer.echo(f"{r['variant']:<12} {r['recipe']:<6} {r['cell']:<7} {r['head']:<4} "
                       f"{r['motion']:<6} {r['stem']:<5} {r['dim']:>4} {r['depth']:>5} "
                       f"{r['params'] / 1e6:>9.3f}M {r['paper_params_m']:>6.2f}M "
                       f"{r['params_vs_paper_pct']:>+6.1f}% {r['macs_per_frame'] / 1e6:>10.1f}M "
                       f"{r['state_bytes_fp32'] / 1024:>7.0f}KiB")
        typer.echo("recipe train: what `lcr-edge train` builds by default (the bundled model's); "
                   "paper: the paper's\nequations as written (docs/model.md has the departures). "
                   "MACs: one streaming step at batch 1,\ncounted with torch's FLOP counter "
                   "(Bi-WKV's in-block products included); state: H and C of every unit,\nfp32 "
                   "(motion=\"diff\" adds the previous frame's patches).")
        typer.echo("")
        typer.echo(f"{'backend':<12} {'precision':<9} {'stateful':<8} {'model.json files.':<29} file")
        for f in formats:
            where = f"{f['group']}.{f['kind']}"
            typer.echo(f"{f['backend']:<12} {f['precision']:<9} {'yes' if f['stateful'] else 'no':<8} "
                       f"{where:<29} {f['file']}")
        typer.echo("INT8 files come from `lcr-edge quantize`. The runtime opens a backend's first row "
                   "of a precision,\nINT8 where the folder has it.")
        typer.echo("")
        typer.echo(f"model {mod['path']}: {mod['variant']}, {mod['classes']} classes at "
                   f"{mod['frame_rate']:g} fps, {' and '.join(mod['precisions'])}")
        whose = ("its own, from model.json" if mod["event_rules_from"] == "model.json"
                 else "the defaults: its model.json names none")
        typer.echo(f"event rules ({whose}; a profile's [events] overrides them):\n  "
                   f"{mod['event_rules_text']}")
