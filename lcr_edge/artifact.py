"""The model artifact folder: what `lcr-edge export` / `quantize` write and `lcr_edge.runtime` reads.

    DIR/model.json                   metadata (below); the only file a reader opens first
    DIR/model_fp32.onnx              streaming step, FP32, inputs frame/edge/state, outputs logits/new_state
    DIR/model_fp32.xml|.bin          OpenVINO IR of the same graph (stateless)
    DIR/model_fp32_stateful.xml|.bin OpenVINO IR with the state inside the infer request
    DIR/model_int8.onnx              INT8 QDQ ONNX (from `quantize`)
    DIR/model_int8.xml|.bin, DIR/model_int8_stateful.xml|.bin   INT8 OpenVINO IR (from `quantize`)
    DIR/checkpoint.pt                the FP32 checkpoint, no optimizer state (torch backend, finetune)

The model files are the rows of `FORMATS`, the one table that export, the runtime, `bench` and
`info` read: which backend opens a file, at which precision, with the state inside or not.

model.json carries everything downstream needs: variant and config, labels in order, the
preprocessing (`Preprocess.to_dict()` keys at top level: input_size, mean, std, colour_order,
edges), frame_rate, input/output/state names and shapes, precisions present, every file with its
sha256, the source checkpoint's sha256, MACs per frame, accuracy measured at export time.
Optional `events`: the model's own event rules (window, thresholds, ...; lcr_edge.events).
No torch here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NamedTuple

from lcr_edge.errors import LCRError
from lcr_edge.io import file_sha256, is_plain_name

FORMAT = "lcr-edge-artifact"
METADATA = "model.json"
CHECKPOINT = "checkpoint.pt"
# state tensor names: the stateless graphs take STATE_IN and return STATE_OUT; the stateful
# OpenVINO IR keeps it in a variable named STATE_VARIABLE (zero initial value).
STATE_IN, STATE_OUT, STATE_VARIABLE = "state", "new_state", "state"
INPUTS, LOGITS = ("frame", "edge"), "logits"


class Format(NamedTuple):
    """One model file of an exported folder: who opens it, and where model.json lists it."""

    backend: str  # the runtime backend that opens it
    precision: str  # "int8" or "fp32"
    stateful: bool  # the recurrent state stays inside the model (OpenVINO variables)
    group: str  # model.json lists it as files[group][kind]
    kind: str
    file: str  # its name in the folder; an OpenVINO .xml has a .bin beside it


# The formats table. Rows in order of preference: INT8 before FP32, and the first row of a
# (backend, precision) is the one the runtime opens (OpenVINO: the stateful IR).
FORMATS = tuple(Format(*row) for row in (
    # backend      precision stateful group    kind                 file
    ("openvino",    "int8", True,  "int8",  "openvino_stateful", "model_int8_stateful.xml"),
    ("openvino",    "int8", False, "int8",  "openvino",          "model_int8.xml"),
    ("onnxruntime", "int8", False, "int8",  "onnx",              "model_int8.onnx"),
    ("openvino",    "fp32", True,  "fp32",  "openvino_stateful", "model_fp32_stateful.xml"),
    ("openvino",    "fp32", False, "fp32",  "openvino",          "model_fp32.xml"),
    ("onnxruntime", "fp32", False, "fp32",  "onnx",              "model_fp32.onnx"),
    ("torch",       "fp32", False, "torch", "checkpoint",        CHECKPOINT),
))
BACKENDS = tuple(dict.fromkeys(f.backend for f in FORMATS))  # openvino, onnxruntime, torch
PRECISIONS = ("int8", "fp32")
FILES = {(f.group, f.kind): f.file for f in FORMATS}  # model.json's (group, kind) -> file name
# `lcr-edge export --format` -> the backends whose FP32 files it writes (torch: the checkpoint)
EXPORT_FORMATS = {"onnx": ("torch", "onnxruntime"), "openvino": ("torch", "openvino"),
                  "all": ("torch", "onnxruntime", "openvino")}
REQUIRED = ("format", "variant", "labels", "input_size", "mean", "std", "colour_order", "edges",
            "frame_rate", "inputs", "outputs", "state", "files")


sha256 = file_sha256


def file_entry(folder: Path, name: str) -> dict:
    """{"path", "sha256", "bytes"} for a file in the folder (and its .bin for an .xml)."""
    entry = {"path": name, "sha256": sha256(folder / name), "bytes": (folder / name).stat().st_size}
    if name.endswith(".xml"):
        bin_name = name[:-4] + ".bin"
        entry["bin"] = {"path": bin_name, "sha256": sha256(folder / bin_name)}
        entry["bytes"] += (folder / bin_name).stat().st_size
    return entry


def read_metadata(folder) -> dict:
    """Load and check DIR/model.json; one LCRError naming the file and the problem."""
    folder = Path(folder)
    path = folder / METADATA
    if not folder.is_dir():
        raise LCRError(f"{folder}: no such model folder (make one with `lcr-edge export`)")
    if not path.is_file():
        raise LCRError(f"{path}: missing; {folder} is not an exported model folder "
                       f"(make one with `lcr-edge export`)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LCRError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LCRError(f"{path}: not an LCR-Edge model metadata file (no '{FORMAT}' format tag)")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise LCRError(f"{path}: incomplete metadata, missing {', '.join(missing)}")
    check_fields(meta, path)
    if len(meta["labels"]) != meta.get("num_classes", len(meta["labels"])):
        raise LCRError(f"{path}: {len(meta['labels'])} labels but num_classes "
                       f"{meta['num_classes']}")
    return meta


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_fields(meta: dict, path: Path) -> None:
    """Types and ranges of model.json's fields; one LCRError naming the key and what is allowed."""
    def bad(key: str, allowed: str) -> None:
        raise LCRError(f"{path}: {key} must be {allowed}, got {meta.get(key)!r:.80}")

    labels = meta["labels"]
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) and x for x in labels)):
        bad("labels", "a list of gesture names")
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise LCRError(f"{path}: labels name {', '.join(map(repr, dupes))} twice")
    size = meta["input_size"]
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and 16 <= v <= 1024
                                                               for v in size)):
        bad("input_size", "[height, width] in pixels")
    for key in ("mean", "std"):
        v = meta[key]
        if not (isinstance(v, list) and len(v) == 3 and all(_number(x) for x in v)) or \
                (key == "std" and min(v) <= 0):
            bad(key, "three numbers" + (" above 0" if key == "std" else ""))
    if meta["colour_order"] not in ("RGB", "BGR"):
        bad("colour_order", '"RGB" or "BGR"')
    if not isinstance(meta["edges"], dict):
        bad("edges", "a table of edge parameters")
    if not (_number(meta["frame_rate"]) and 0 < meta["frame_rate"] <= 240):
        bad("frame_rate", "a rate in (0, 240] frames per second")
    inputs = meta["inputs"]
    if not (isinstance(inputs, dict) and all(isinstance(inputs.get(k), list) for k in INPUTS)):
        bad("inputs", f"a table with the shapes of {' and '.join(INPUTS)}")
    for k in INPUTS:  # the preprocessing makes input_size frames: the graph must take them
        if list(inputs[k][-2:]) != size:
            raise LCRError(f"{path}: input_size {size} does not match inputs.{k} {inputs[k]}: the "
                           f"graph takes frames of another size (re-export the model)")
    if not isinstance(meta["outputs"], dict) or not isinstance(meta["state"], list):
        bad("outputs" if not isinstance(meta["outputs"], dict) else "state",
            "a table (outputs) and a list (state) as `lcr-edge export` writes them")
    files = meta["files"]
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        bad("files", "a table: precision -> kind -> file entry")
    for precision, kinds in files.items():
        for kind, entry in kinds.items():
            where = f"files.{precision}.{kind}"
            for e in (entry, entry.get("bin") if isinstance(entry, dict) else None):
                if e is None and entry is not None:
                    continue
                if not (isinstance(e, dict) and is_plain_name(e.get("path"))):
                    raise LCRError(f"{path}: {where} must name a file inside the model folder "
                                   f"(no folders), got {e!r:.80}")
                if not (isinstance(e.get("sha256"), str) and len(e["sha256"]) == 64):
                    raise LCRError(f"{path}: {where} lists {e['path']!r} without its sha256")
    if "events" in meta:  # optional: the model's own event rules (lcr_edge.events)
        from lcr_edge.events import check_model_rules

        check_model_rules(meta["events"], f"{path}: events")
        unknown = [g for g in meta["events"].get("thresholds", {}) if g not in labels]
        if unknown:
            raise LCRError(f"{path}: events.thresholds names {', '.join(map(repr, unknown))}, "
                           f"not among the model's labels")


def event_rules(meta: dict) -> dict | None:
    """The model's own event rules (model.json `events`), or None for the defaults."""
    return meta.get("events") if isinstance(meta, dict) else None


def check_backend(name: str) -> str:
    """The backend name if it is one of BACKENDS, else the one error every command gives."""
    if name not in BACKENDS:
        raise LCRError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name


def find_format(backend: str, precision: str, stateful: bool | None = None) -> Format:
    """The row of a backend and precision: the first (the one the runtime opens), or the stateful
    or the stateless one when `stateful` says which."""
    rows = [f for f in FORMATS if f.backend == check_backend(backend)]
    if precision not in {f.precision for f in rows}:
        runs = " and ".join(p.upper() for p in PRECISIONS if p in {f.precision for f in rows})
        raise LCRError(f"the {backend} backend runs {runs} only, not {precision}")
    for f in rows:
        if f.precision == precision and stateful in (None, f.stateful):
            return f
    raise LCRError(f"the {backend} backend has no {'stateful' if stateful else 'stateless'} "
                   f"{precision} model")


def is_listed(meta: dict, f: Format) -> bool:
    """Whether model.json lists the row's file (`model_file` then checks it is there)."""
    return f.kind in (meta["files"].get(f.group) or {})


def runnable(meta: dict, backend: str) -> list[Format]:
    """The files the runtime opens for `backend` that model.json lists, one per precision, best
    first: what `bench` runs and the default precision is chosen from."""
    runs = {f.precision for f in FORMATS if f.backend == check_backend(backend)}
    opened = [find_format(backend, p) for p in PRECISIONS if p in runs]  # its first row of each
    return [f for f in opened if is_listed(meta, f)]


def precisions(meta: dict) -> list[str]:
    """Precisions with at least one model file listed, best (fastest) first."""
    return [p for p in PRECISIONS if meta["files"].get(p)]


def model_file(folder, meta: dict, group: str, kind: str, verify: bool = True) -> Path:
    """The path of the file model.json lists as files[group][kind] (a `Format` row's), checked:
    listed, present (with its .bin), hash as recorded."""
    folder = Path(folder)
    entry = meta["files"].get(group, {}).get(kind)
    if entry is None:
        have = [f"{p}/{k}" for p, ks in meta["files"].items() for k in ks]
        raise LCRError(f"{folder / METADATA}: no {group} {kind} model in this folder "
                       f"(has: {', '.join(have) or 'none'})")
    for e in (entry, entry.get("bin")):
        if e is None:
            continue
        f = folder / e["path"]
        if not f.is_file():
            raise LCRError(f"{f}: missing (listed in {folder / METADATA}); the export is partial, "
                           f"run `lcr-edge export` again")
        if verify and e.get("sha256") and sha256(f) != e["sha256"]:
            raise LCRError(f"{f}: does not match {folder / METADATA} (sha256 differs); the folder "
                           f"mixes files from different exports")
    return folder / entry["path"]
