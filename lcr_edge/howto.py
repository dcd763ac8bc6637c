"""How to perform each Jester gesture, and which way the directional ones go (no torch, no Qt:
`lcr-edge record` prints these, the app's gallery and Teach dialog show them).

Jester names directions as the actor sees them, the person performing: "Swiping Left" is a
sweep to *your* left, "Turning Hand Clockwise" clockwise as *you* look at your hand. The camera
faces you, so in the recorded, unmirrored image (what the model sees and what `record` saves)
"Swiping Left" moves towards larger x and "Turning Hand Clockwise" turns counterclockwise. The
app's live view and the Teach dialog's preview are mirrored for display: on screen the hand moves
the way you move it.

>>> direction_hint("swiping  left")
'Swiping Left: sweep your open hand to YOUR left (on the mirrored preview it moves left)'
>>> gesture_hint("Thumb Up").startswith("Thumb Up: Fist")
True
>>> gesture_hint("Waving Hello")
''
"""

from __future__ import annotations

CONVENTION = ("Left, right, clockwise and counterclockwise are as you, the person performing, "
              "see them (Jester's convention); the live view is a mirror, so on screen your hand "
              "moves the way you move it.")

# One sentence per Jester gesture: the hand shape and the motion (the gallery shows these beside
# the mapped action).
HOW_TO: dict[str, str] = {
    "Swiping Left": "Open hand, palm facing the camera side-on; sweep it across the frame to your "
                    "left.",
    "Swiping Right": "Open hand; sweep it across the frame to your right.",
    "Swiping Down": "Open hand raised; sweep it downwards through the frame.",
    "Swiping Up": "Open hand low; sweep it upwards through the frame.",
    "Pushing Hand Away": "Open palm towards the camera; push it away from you, towards the "
                         "camera.",
    "Pulling Hand In": "Open palm near the camera; pull it back towards your body.",
    "Sliding Two Fingers Left": "Index and middle finger extended together; slide them to your "
                                "left.",
    "Sliding Two Fingers Right": "Index and middle finger extended together; slide them to your "
                                 "right.",
    "Sliding Two Fingers Down": "Two fingers extended; slide them downwards.",
    "Sliding Two Fingers Up": "Two fingers extended; slide them upwards.",
    "Pushing Two Fingers Away": "Two fingers pointing at the camera; push them forward.",
    "Pulling Two Fingers In": "Two fingers pointing at the camera; pull them back.",
    "Rolling Hand Forward": "Loose hand, fingers forward; roll it over and over, away from you.",
    "Rolling Hand Backward": "Loose hand; roll it over and over towards you.",
    "Turning Hand Clockwise": "Hand up, palm to the camera; turn it clockwise as you see it, like "
                              "a dial.",
    "Turning Hand Counterclockwise": "Hand up, palm to the camera; turn it counterclockwise as "
                                     "you see it, like a dial.",
    "Zooming In With Full Hand": "Fingertips bunched together; spread the whole hand open.",
    "Zooming Out With Full Hand": "Open spread hand; bunch the fingertips together.",
    "Zooming In With Two Fingers": "Thumb and index touching; spread them apart.",
    "Zooming Out With Two Fingers": "Thumb and index apart; pinch them together.",
    "Thumb Up": "Fist with the thumb pointing up; hold it still for half a second.",
    "Thumb Down": "Fist with the thumb pointing down; hold it still for half a second.",
    "Shaking Hand": "Open hand up; wave it quickly side to side a few times.",
    "Stop Sign": "Flat open palm facing the camera, fingers up; hold it still.",
    "Drumming Fingers": "Hand flat, fingers drumming one after another as on a table.",
}

# Which way each directional gesture goes, in the actor's view, and how the mirrored preview
# shows it.
DIRECTION: dict[str, str] = {
    "Swiping Left": "sweep your open hand to YOUR left (on the mirrored preview it moves left)",
    "Swiping Right": "sweep your open hand to YOUR right (on the mirrored preview it moves right)",
    "Swiping Down": "sweep your open hand downwards",
    "Swiping Up": "sweep your open hand upwards",
    "Pushing Hand Away": "push your open palm away from you, towards the camera",
    "Pulling Hand In": "pull your open palm back towards you, away from the camera",
    "Sliding Two Fingers Left": "slide two fingers to YOUR left (on the mirrored preview they "
                                "move left)",
    "Sliding Two Fingers Right": "slide two fingers to YOUR right (on the mirrored preview they "
                                 "move right)",
    "Sliding Two Fingers Down": "slide two fingers downwards",
    "Sliding Two Fingers Up": "slide two fingers upwards",
    "Pushing Two Fingers Away": "push two fingers away from you, towards the camera",
    "Pulling Two Fingers In": "pull two fingers back towards you, away from the camera",
    "Rolling Hand Forward": "roll your hand over and over, away from you",
    "Rolling Hand Backward": "roll your hand over and over, towards you",
    "Turning Hand Clockwise": "turn your raised hand clockwise as YOU see it, like a dial (on the "
                              "mirrored preview it turns clockwise too)",
    "Turning Hand Counterclockwise": "turn your raised hand counterclockwise as YOU see it, like "
                                     "a dial (on the mirrored preview it turns counterclockwise "
                                     "too)",
}

_BY_KEY = {k.lower(): k for k in HOW_TO}


def _known(label: str) -> str | None:
    """The Jester name for `label` (whitespace tidied, any case), None for other names."""
    return _BY_KEY.get(" ".join(str(label).split()).lower())


def direction_hint(label: str) -> str:
    """'Swiping Left: sweep your open hand to YOUR left (...)'; '' for a gesture without a
    direction or a name that is not Jester's (its direction is the user's own)."""
    name = _known(label)
    return f"{name}: {DIRECTION[name]}" if name in DIRECTION else ""


def gesture_hint(label: str) -> str:
    """The direction hint where the gesture has one, else the how-to sentence; '' for a new
    name."""
    name = _known(label)
    if name is None:
        return ""
    return direction_hint(name) or f"{name}: {HOW_TO[name]}"
