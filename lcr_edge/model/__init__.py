"""The LCR model (needs torch): config, the registry of variants (each paper size with the recipe
that ships and with the paper's), the network, Bi-WKV."""

from lcr_edge.model.lcr import (
    LCR,
    PAPER_PARAMS_M,
    PAPER_RECIPE,
    SIZES,
    VARIANTS,
    LCRConfig,
    count_macs,
    create_model,
    tube_mask,
)
from lcr_edge.model.wkv import bi_wkv, bi_wkv_reference, force_reference

__all__ = ["LCR", "LCRConfig", "VARIANTS", "SIZES", "PAPER_RECIPE", "PAPER_PARAMS_M", "create_model",
           "count_macs", "tube_mask", "bi_wkv", "bi_wkv_reference", "force_reference"]
