"""LCR-Edge: real-time hand-gesture recognition with LSTM-CrossRWKV.

The runtime path (edges, preprocess, runtime, events, actions) imports no torch; the model
(`lcr_edge.model`) does, and is imported only where training or export needs it.
"""

from lcr_edge.edges import EdgeParams, edge_map, otsu_threshold
from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_LABELS
from lcr_edge.preprocess import Preprocess

__version__ = "0.1.0"
__all__ = ["EdgeParams", "edge_map", "otsu_threshold", "LCRError", "JESTER_LABELS", "Preprocess"]
