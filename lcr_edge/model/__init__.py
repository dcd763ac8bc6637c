"""The LCR model (needs torch): config, registry of the paper's variants, the network, Bi-WKV."""

from lcr_edge.model.lcr import (
    LCR,
    PAPER_PARAMS_M,
    VARIANTS,
    LCRConfig,
    count_macs,
    create_model,
    tube_mask,
)
from lcr_edge.model.wkv import bi_wkv, bi_wkv_reference, force_reference

__all__ = ["LCR", "LCRConfig", "VARIANTS", "PAPER_PARAMS_M", "create_model", "count_macs",
           "tube_mask", "bi_wkv", "bi_wkv_reference", "force_reference"]
