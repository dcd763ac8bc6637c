"""Frame-by-frame recognition from an exported model folder, with the recurrent state kept inside.

>>> rec = Recognizer.open("exports/lcr-s")           # doctest: +SKIP
>>> probs = rec.step(frame_bgr)                      # doctest: +SKIP  (HxWx3 uint8 -> [K] floats)
>>> rec.labels[int(probs.argmax())], rec.timings     # doctest: +SKIP
>>> rec.reset()                                      # doctest: +SKIP  (a new stream)

Backends: "openvino" (stateful IR when present: the state stays in the infer request),
"onnxruntime" (state carried as a numpy array), "torch" (the FP32 checkpoint; the only one that
imports torch). Preprocessing and edges come from the folder's model.json through
`lcr_edge.preprocess.Preprocess`, the project's single definition.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lcr_edge import artifact
from lcr_edge.artifact import INPUTS, LOGITS, STATE_IN, STATE_OUT
from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_FPS
from lcr_edge.preprocess import Preprocess


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def _model_path(folder, meta, backend: str, precision: str, verify: bool, stateful=None) -> Path:
    """The file a backend opens (its row of `artifact.FORMATS`), checked against model.json."""
    f = artifact.find_format(backend, precision, stateful)
    return artifact.model_file(folder, meta, f.group, f.kind, verify)


class _StateCarrier:
    """Stateless graph: state in, new_state out; the state lives here as a numpy array."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.reset()

    def reset(self):
        self.state = np.zeros(self.shape, np.float32)


class OpenVINOBackend:
    """OpenVINO CPU, FP32 or INT8; stateful IR (state in the request) unless stateful=False."""

    name = "openvino"

    def __init__(self, folder, meta, precision, threads=None, stateful=True, verify=True,
                 profile=False):
        from lcr_edge.telemetry import decline_openvino_telemetry

        decline_openvino_telemetry()
        import openvino as ov

        path = _model_path(folder, meta, self.name, precision, verify, stateful)
        config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                  # the CPU plugin runs FP32 layers in bf16 by default where the CPU has it
                  "INFERENCE_PRECISION_HINT": "f32"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        if profile:  # per-layer times in request.profiling_info (lcr-edge bench --profile)
            config["PERF_COUNT"] = True
        try:
            core = ov.Core()
            self.compiled = core.compile_model(core.read_model(path), "CPU", config)
        except RuntimeError as exc:
            raise LCRError(f"{path}: OpenVINO cannot load it ({str(exc).splitlines()[0][:200]})") \
                from None
        _check_ports(path, meta, {p.any_name: list(p.shape) for p in self.compiled.inputs},
                     {p.any_name: list(p.shape) for p in self.compiled.outputs}, stateful)
        self.request = self.compiled.create_infer_request()
        self.stateful, self.path = stateful, path
        # The request reads its inputs from these buffers (bound once, shared memory): a frame
        # costs a copy into them, not the conversion of a dict of arrays on every call.
        shapes = {name: meta["inputs"][name] for name in INPUTS}
        if not stateful:
            shapes[STATE_IN] = meta["state"][0]["shape"]
        self._inputs = {name: np.zeros(shape, np.float32) for name, shape in shapes.items()}
        for name, buf in self._inputs.items():
            self.request.set_tensor(name, ov.Tensor(buf, shared_memory=True))
        self.reset()

    def reset(self):
        if self.stateful:
            self.request.reset_state()
        else:
            self._inputs[STATE_IN][...] = 0.0

    def infer(self, frame: np.ndarray, edge: np.ndarray) -> np.ndarray:
        """frame [1,3,S,S], edge [1,1,S,S] float32 -> logits [K] (a copy)."""
        np.copyto(self._inputs["frame"], frame)
        np.copyto(self._inputs["edge"], edge)
        self.request.infer()
        if not self.stateful:  # the new state is the next call's input
            np.copyto(self._inputs[STATE_IN], self.request.get_tensor(STATE_OUT).data)
        return self.request.get_tensor(LOGITS).data[0].copy()

    def current_state(self) -> np.ndarray:
        if self.stateful:
            return np.array(self.request.query_state()[0].state.data)
        return self._inputs[STATE_IN].copy()


class OnnxRuntimeBackend:
    """ONNX Runtime CPU, FP32 or INT8 (QDQ); state carried as a numpy array."""

    name = "onnxruntime"

    def __init__(self, folder, meta, precision, threads=None, verify=True):
        from lcr_edge.telemetry import decline_onnxruntime_telemetry

        decline_onnxruntime_telemetry()
        import onnxruntime as ort

        path = _model_path(folder, meta, self.name, precision, verify)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.inter_op_num_threads = 1
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise LCRError(f"{path}: ONNX Runtime cannot load it "
                           f"({str(exc).splitlines()[0][:200]})") from None
        _check_ports(path, meta, {i.name: i.shape for i in self.session.get_inputs()},
                     {o.name: o.shape for o in self.session.get_outputs()}, stateful=False)
        self.path = path
        self.carrier = _StateCarrier(meta["state"][0]["shape"])

    def reset(self):
        self.carrier.reset()

    def infer(self, frame, edge):
        logits, self.carrier.state = self.session.run(
            [LOGITS, STATE_OUT], {"frame": frame, "edge": edge, STATE_IN: self.carrier.state})
        return logits[0]

    def current_state(self) -> np.ndarray:
        return self.carrier.state.copy()


class TorchBackend:
    """PyTorch FP32 from the checkpoint copied into the folder (or a checkpoint file)."""

    name = "torch"

    def __init__(self, folder, meta, precision, threads=None, verify=True, checkpoint=None):
        import torch

        from lcr_edge.model.checkpoint import load_checkpoint

        artifact.find_format(self.name, precision)  # FP32 only
        if checkpoint is None:
            checkpoint = _model_path(folder, meta, self.name, precision, verify)
        # One frame of a small model: a second OpenMP thread costs more than it brings, and beside
        # any other busy process it waits on a descheduled core (bench, 2-core box, same run:
        # 10.9 ms a frame on one thread, 17.3 ms on two, p90 ten times worse under load).
        torch.set_num_threads(int(threads) if threads else 1)
        self.torch = torch
        self.model, _ = load_checkpoint(checkpoint)
        self.path = Path(checkpoint)
        self.reset()

    def reset(self):
        self.state = self.model.initial_state(1)

    def infer(self, frame, edge):
        with self.torch.inference_mode():
            logits, self.state = self.model.step(self.torch.from_numpy(frame),
                                                 self.torch.from_numpy(edge), self.state)
        return logits[0].numpy()

    def current_state(self) -> np.ndarray:
        return self.state.numpy().copy()


def _check_ports(path, meta, inputs: dict, outputs: dict, stateful: bool):
    """The graph's inputs/outputs must be the ones model.json describes (a mismatched folder)."""
    want_in = {k: meta["inputs"][k] for k in INPUTS}
    want_out = {LOGITS: meta["outputs"][LOGITS]}
    if not stateful:
        want_in[STATE_IN] = want_out[STATE_OUT] = meta["state"][0]["shape"]
    for kind, want, got in (("inputs", want_in, inputs), ("outputs", want_out, outputs)):
        got = {k: [d if isinstance(d, str) else int(d) for d in v] for k, v in got.items()}
        if got != {k: list(v) for k, v in want.items()}:
            raise LCRError(f"{path}: model {kind} {got} do not match model.json {want}; "
                           f"the folder mixes files from different exports")


def open_backend(folder, backend: str, precision: str, threads=None, verify=True, **kw):
    """One backend object with `infer(frame, edge) -> logits [K]` and `reset()`."""
    cls = {"openvino": OpenVINOBackend, "onnxruntime": OnnxRuntimeBackend,
           "torch": TorchBackend}[artifact.check_backend(backend)]
    meta = artifact.read_metadata(folder)
    return cls(Path(folder), meta, precision, threads=threads, verify=verify, **kw)


def default_precision(meta: dict, backend: str) -> str:
    """INT8 where the folder has the INT8 file that backend opens, else FP32."""
    have = artifact.runnable(meta, backend)
    return have[0].precision if have else "fp32"


def _trained_horizon(meta: dict) -> int:
    """0 (one state for ever) for a model trained to stream (`sampling.mode` "stream") or of
    unknown training; for a clip-trained model the clip length it saw (`sampling.frames`)."""
    sampling = meta.get("sampling") or {}
    if sampling.get("mode") == "stream":
        return 0
    return int(sampling.get("frames") or 0)


class Recognizer:
    """Streaming gesture recognizer over one exported model; see the module docstring.

    horizon: 0 carries one state for ever. H > 0 runs two lanes of the model (two states, twice
    the inference) restarted every H frames, half a period apart, and answers from the lane with
    the longer history: every answer then comes from a fresh state that has seen the last H/2+1
    to H frames, which is what a model trained on H-frame clips knows (run on and on, its state
    drifts into inputs it never saw in training; docs/bundled.md measures it)."""

    def __init__(self, backend, metadata: dict, precision: str, horizon: int = 0, second=None):
        if horizon and (horizon < 2 or second is None):
            raise LCRError(f"horizon must be 0 or >= 2 with a second lane, got {horizon}")
        self._backend = backend
        self._lanes = [backend] if not horizon else [backend, second]
        self.horizon = int(horizon)
        self._n = 0  # frames since reset
        self.metadata = metadata
        self.precision = precision
        self.backend = backend.name
        self.labels: list[str] = list(metadata["labels"])
        self.frame_rate = float(metadata["frame_rate"])
        self.preprocess = Preprocess.from_dict(metadata)
        self.timings: dict[str, float] = {"preprocess": 0.0, "edges": 0.0, "inference": 0.0}

    @classmethod
    def open(cls, artifact_dir, backend: str = "openvino", threads: int | None = None,
             precision: str | None = None, verify: bool = True,
             horizon: int | None = None) -> Recognizer:
        """Open an exported folder. precision None: INT8 where the backend has it, else FP32.
        For backend="torch", artifact_dir may also be a checkpoint (.pt) file. horizon None: the
        clip length the model was trained on (model.json `sampling.frames`), else 0."""
        path = Path(artifact_dir)
        if artifact.check_backend(backend) == "torch" and path.is_file():
            return cls._from_checkpoint(path, threads, horizon)
        meta = artifact.read_metadata(path)
        if precision not in (None, *artifact.PRECISIONS):
            raise LCRError(f"precision must be {', '.join(artifact.PRECISIONS)} or None, "
                           f"got {precision!r}")
        if precision is None:
            precision = default_precision(meta, backend)
        if horizon is None:
            horizon = _trained_horizon(meta)
        first = open_backend(path, backend, precision, threads, verify)
        second = open_backend(path, backend, precision, threads, False) if horizon else None
        return cls(first, meta, precision, horizon, second)

    @classmethod
    def _from_checkpoint(cls, path: Path, threads, horizon: int | None = None):
        import copy

        from lcr_edge.model.checkpoint import read_checkpoint

        ckpt = read_checkpoint(path)
        sampling = ckpt.get("sampling") or {}
        meta = {"labels": ckpt["labels"],
                "frame_rate": sampling.get("frame_rate") or ckpt.get("frame_rate", JESTER_FPS),
                "variant": ckpt["config"].get("variant"), "sampling": sampling,
                **ckpt.get("preprocess", {})}
        if "input_size" not in meta:
            meta.update(Preprocess().to_dict())
        if horizon is None:  # as for an exported folder
            horizon = _trained_horizon(meta)
        first = TorchBackend(path.parent, meta, "fp32", threads, checkpoint=path)
        second = None
        if horizon:
            second = copy.copy(first)  # the same weights, a state of its own
            second.reset()
        return cls(first, meta, "fp32", horizon, second)

    def reset(self) -> None:
        """Start a new stream: the recurrent state back to zeros."""
        for lane in self._lanes:
            lane.reset()
        self._n = 0

    def prepare(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BGR uint8 HxWx3 -> (frame [1,3,S,S], edge [1,1,S,S]) float32, timing both stages
        (the one `lcr_edge.preprocess`, from the model's metadata)."""
        x, e = self.preprocess(frame_bgr, timings=self.timings)
        return x[None], e[None]

    def step(self, frame_bgr: np.ndarray) -> np.ndarray:
        """One frame (HxWx3 BGR uint8, any size) -> class probabilities [K] (float32)."""
        x, e = self.prepare(frame_bgr)
        return self.step_prepared(x, e)

    def step_prepared(self, frame: np.ndarray, edge: np.ndarray) -> np.ndarray:
        """Model inputs already made (frame [1,3,S,S], edge [1,1,S,S]) -> probabilities [K]."""
        t0 = time.perf_counter()
        if not self.horizon:
            logits = self._backend.infer(frame, edge)
        else:  # lane 0 restarts at frames H, 2H, ...; lane 1 at H/2, 3H/2, ... (class doc)
            n, H, half = self._n, self.horizon, self.horizon // 2
            if n and n % H == 0:
                self._lanes[0].reset()
            if n >= half and (n - half) % H == 0:
                self._lanes[1].reset()
            logits = self._lanes[0].infer(frame, edge)
            if n >= half:
                other = self._lanes[1].infer(frame, edge)
                if (n - half) % H > n % H:  # lane 1 has the longer history
                    logits = other
        self._n += 1
        self.timings["inference"] = (time.perf_counter() - t0) * 1e3
        return softmax(np.asarray(logits, np.float32))

    def current_state(self) -> np.ndarray:
        """The recurrent state now (model.json `state` layout), of the first lane: for health
        checks and debugging (benchmarks/long_stream.py)."""
        return self._lanes[0].current_state()

    def logits_prepared(self, frame: np.ndarray, edge: np.ndarray) -> np.ndarray:
        """Like `step_prepared` but the raw logits [K], from the first lane without restarts
        (parity and long-stream checks)."""
        return np.asarray(self._backend.infer(frame, edge), np.float32)

    def __repr__(self) -> str:
        return (f"Recognizer({self.metadata.get('variant')}, backend={self.backend}, "
                f"precision={self.precision}, classes={len(self.labels)})")
