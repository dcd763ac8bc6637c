"""How to perform each Jester gesture, in a sentence (the gallery shows these beside the mapped
action). The texts live in `lcr_edge.howto`, shared with `lcr-edge record` and the Teach dialog;
directions are as the person performing sees them."""

from lcr_edge.howto import HOW_TO

__all__ = ["HOW_TO"]
