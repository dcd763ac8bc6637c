"""`lcr-edge info`: parameters, multiply-accumulates per frame and state size of every variant."""

from __future__ import annotations

import json

import typer


def variant_report() -> list[dict]:
    from lcr_edge.model import PAPER_PARAMS_M, VARIANTS, count_macs, create_model

    rows = []
    for name in VARIANTS:
        model = create_model(name)
        cfg = model.config
        params = model.num_params()
        state_elems = 1
        for d in cfg.state_shape:
            state_elems *= d
        rows.append({
            "variant": name, "dim": cfg.dim, "depth": cfg.depth, "heads": cfg.heads,
            "params": params, "paper_params_m": PAPER_PARAMS_M[name],
            "params_vs_paper_pct": round((params / 1e6 / PAPER_PARAMS_M[name] - 1) * 100, 1),
            "macs_per_frame": count_macs(model), "state_shape": list(cfg.state_shape),
            "state_bytes_fp32": state_elems * 4,
        })
    return rows


def register(app: typer.Typer) -> None:
    @app.command()
    def info(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
        """Per variant: parameters (beside the paper's), MACs per frame (counted), state size."""
        rows = variant_report()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        typer.echo(f"{'variant':<8} {'C':>4} {'depth':>5} {'params':>10} {'paper':>7} {'diff':>7} "
                   f"{'MACs/frame':>11} {'state':>9}")
        for r in rows:
            typer.echo(f"{r['variant']:<8} {r['dim']:>4} {r['depth']:>5} {r['params'] / 1e6:>9.3f}M "
                       f"{r['paper_params_m']:>6.2f}M {r['params_vs_paper_pct']:>+6.1f}% "
                       f"{r['macs_per_frame'] / 1e6:>10.1f}M {r['state_bytes_fp32'] / 1024:>7.0f}KiB")
        typer.echo("MACs: one streaming step at batch 1, counted with torch's FLOP counter "
                   "(Bi-WKV's in-block products included); state: H and C of every unit, fp32 "
                   "(motion=\"diff\" adds the previous frame's patches).")
