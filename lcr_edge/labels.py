"""The 27 Jester classes in the order of 20BN's `jester-v1-labels.csv`, their mirror pairs, and
Jester's frame rate and the paper's clip length, which the whole project builds on.

Jester names directions as the actor sees them: in the unmirrored camera image "Swiping Left"
moves towards larger x, and "Turning Hand Clockwise" turns counterclockwise. A horizontally
flipped clip therefore shows the other gesture of its pair in `MIRRORED`.

>>> mirrored_label("Swiping Left"), mirrored_label("Thumb Up")
('Swiping Right', 'Thumb Up')
"""

JESTER_LABELS: tuple[str, ...] = (
    "Swiping Left",
    "Swiping Right",
    "Swiping Down",
    "Swiping Up",
    "Pushing Hand Away",
    "Pulling Hand In",
    "Sliding Two Fingers Left",
    "Sliding Two Fingers Right",
    "Sliding Two Fingers Down",
    "Sliding Two Fingers Up",
    "Pushing Two Fingers Away",
    "Pulling Two Fingers In",
    "Rolling Hand Forward",
    "Rolling Hand Backward",
    "Turning Hand Clockwise",
    "Turning Hand Counterclockwise",
    "Zooming In With Full Hand",
    "Zooming Out With Full Hand",
    "Zooming In With Two Fingers",
    "Zooming Out With Two Fingers",
    "Thumb Up",
    "Thumb Down",
    "Shaking Hand",
    "Stop Sign",
    "Drumming Fingers",
    "No gesture",
    "Doing other things",
)

IDLE_LABELS: tuple[str, ...] = ("No gesture", "Doing other things")

# Jester's recording rate: the Jester reader assumes it, the recorder and the synthetic renderer
# record at it, models' strides and the paper's scoring window build on it.
JESTER_FPS = 12.0
# Frames a training clip (the paper's 32): what a checkpoint that does not say was trained on.
CLIP_FRAMES = 32

# Static poses: the only Jester gestures that can be held (and so repeat a `hold` action). A swipe
# or a turn that stays on top for a moment is still one movement, never a hold.
HOLDABLE_LABELS: tuple[str, ...] = ("Thumb Up", "Thumb Down", "Stop Sign")


def can_hold(label: str) -> bool:
    """Whether a gesture is a pose one can hold: Jester's static poses, and any gesture that is not
    Jester's (a user's own, whose nature we do not know)."""
    return label in HOLDABLE_LABELS or label not in JESTER_LABELS


def close_names(name: str, names, cutoff: float = 0.8, n: int = 2) -> list[str]:
    """The names `name` is probably a typo of, ignoring case: 'Thumbs Up' -> ['Thumb Up'].

    >>> close_names("thumbs up", JESTER_LABELS)
    ['Thumb Up']
    """
    import difflib

    lower = {x.lower(): x for x in names}
    return [lower[c] for c in difflib.get_close_matches(str(name).lower(), list(lower), n, cutoff)]


# Gestures that a horizontal flip turns into each other (both directions listed).
_PAIRS = (("Swiping Left", "Swiping Right"),
          ("Sliding Two Fingers Left", "Sliding Two Fingers Right"),
          ("Turning Hand Clockwise", "Turning Hand Counterclockwise"))
MIRRORED: dict[str, str] = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}


def mirrored_label(label: str) -> str:
    """The label a horizontally flipped clip of `label` shows (itself for symmetric gestures)."""
    return MIRRORED.get(label, label)


def mirror_index(labels) -> list[int]:
    """For a label list, the index each class maps to under a horizontal flip; -1 where a flip
    cannot be labelled: the mirror class is not in the list, or the class is not a Jester one
    (a user's own gesture may have a direction we do not know).

    >>> mirror_index(["Swiping Left", "Thumb Up", "Swiping Right", "Turning Hand Clockwise", "Wave"])
    [2, 1, 0, -1, -1]
    """
    labels = list(labels)
    pos = {lb: i for i, lb in enumerate(labels)}
    return [pos.get(mirrored_label(lb), -1) if lb in JESTER_LABELS else -1 for lb in labels]
