"""How to perform each Jester gesture, in a sentence (the gallery shows these beside the mapped
action). Left and right are those of the recorded, unmirrored camera image (DESIGN.md)."""

HOW_TO: dict[str, str] = {
    "Swiping Left": "Open hand, palm facing the camera side-on; sweep it across the frame to the "
                    "left (of the camera image).",
    "Swiping Right": "Open hand; sweep it across the frame to the right (of the camera image).",
    "Swiping Down": "Open hand raised; sweep it downwards through the frame.",
    "Swiping Up": "Open hand low; sweep it upwards through the frame.",
    "Pushing Hand Away": "Open palm towards the camera; push it away from you, towards the "
                         "camera.",
    "Pulling Hand In": "Open palm near the camera; pull it back towards your body.",
    "Sliding Two Fingers Left": "Index and middle finger extended together; slide them to the "
                                "left.",
    "Sliding Two Fingers Right": "Index and middle finger extended together; slide them to the "
                                 "right.",
    "Sliding Two Fingers Down": "Two fingers extended; slide them downwards.",
    "Sliding Two Fingers Up": "Two fingers extended; slide them upwards.",
    "Pushing Two Fingers Away": "Two fingers pointing at the camera; push them forward.",
    "Pulling Two Fingers In": "Two fingers pointing at the camera; pull them back.",
    "Rolling Hand Forward": "Loose hand, fingers forward; roll it over and over, away from you.",
    "Rolling Hand Backward": "Loose hand; roll it over and over towards you.",
    "Turning Hand Clockwise": "Hand up, palm to the camera; turn it clockwise like a dial.",
    "Turning Hand Counterclockwise": "Hand up, palm to the camera; turn it anticlockwise like a "
                                     "dial.",
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
