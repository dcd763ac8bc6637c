"""BGR uint8 frame of any size -> the model's input: RGB float CxSxS and its 0/1 edge map 1xSxS.

With `lcr_edge.edges`, the only definition of preprocessing in the project. The parameters travel
in every model artifact's metadata (`Preprocess.to_dict`), so nothing downstream hard-codes them.
No torch here.

>>> import numpy as np
>>> x, e = Preprocess()(np.full((100, 176, 3), 128, np.uint8))
>>> x.shape, x.dtype, e.shape, float(e.sum())
((3, 112, 112), dtype('float32'), (1, 112, 112), 0.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from lcr_edge.edges import EdgeParams, check_frame, edge_map_grey
from lcr_edge.errors import LCRError


@dataclass(frozen=True)
class Preprocess:
    """Resize to size x size (no crop: the paper resizes Jester frames as they are), RGB order,
    (x/255 - mean) / std; edges are computed on the resized grey frame so they align with patches."""

    size: int = 112
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    colour_order: str = "RGB"
    edges: EdgeParams = field(default_factory=EdgeParams)

    def __call__(self, frame_bgr: np.ndarray,
                 timings: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """HxWx3 BGR uint8 -> (3xSxS float32 normalised, 1xSxS float32 of 0/1).

        With `timings`, writes the milliseconds of its two stages there ("preprocess": resize and
        normalise, "edges": Otsu-Canny)."""
        check_frame(frame_bgr)
        t0 = time.perf_counter()
        small = self.resize(frame_bgr)
        x = self.normalise(small)
        t1 = time.perf_counter()
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        edge = edge_map_grey(grey, self.edges).astype(np.float32)[None]
        if timings is not None:
            timings["preprocess"] = (t1 - t0) * 1e3
            timings["edges"] = (time.perf_counter() - t1) * 1e3
        return x, edge

    def resize(self, frame_bgr: np.ndarray) -> np.ndarray:
        if frame_bgr.shape[:2] == (self.size, self.size):
            return frame_bgr
        return cv2.resize(frame_bgr, (self.size, self.size), interpolation=cv2.INTER_AREA)

    def normalise(self, small_bgr: np.ndarray) -> np.ndarray:
        rgb = small_bgr[:, :, ::-1] if self.colour_order == "RGB" else small_bgr
        x = rgb.astype(np.float32) * (1.0 / 255.0)
        x -= np.asarray(self.mean, np.float32)
        x *= 1.0 / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    def to_dict(self) -> dict:
        return {"input_size": [self.size, self.size], "mean": list(self.mean), "std": list(self.std),
                "colour_order": self.colour_order, "edges": self.edges.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Preprocess:
        try:
            size = d["input_size"]
            size = int(size[0] if isinstance(size, (list, tuple)) else size)
            order = str(d.get("colour_order", "RGB")).upper()
            if order not in ("RGB", "BGR"):
                raise LCRError(f"colour_order must be RGB or BGR, got {order!r}")
            return cls(size, tuple(map(float, d["mean"])), tuple(map(float, d["std"])), order,
                       EdgeParams.from_dict(d.get("edges", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise LCRError(f"preprocessing metadata is incomplete or malformed: {exc!r}") from None


def preprocess_frame(frame_bgr: np.ndarray, pre: Preprocess = Preprocess()):
    """Function form of `Preprocess.__call__`."""
    return pre(frame_bgr)
