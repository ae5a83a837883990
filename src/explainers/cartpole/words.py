"""What the CartPole chapter says about its episodes, in words: shared by ``charts`` and ``facts``, so
neither imports the other."""
from __future__ import annotations

import math


def episode_end(timeline, checkpoint: int) -> str:
    """Why the checkpoint's recorded episode ended, read from its last state."""
    limits = timeline.meta["limits"]
    n = int(timeline["eval_length"][checkpoint])
    if n >= limits["max_episode_steps"]:
        return f"{limits['max_episode_steps']} steps, the time limit"
    x, theta = float(timeline["eval_x"][checkpoint, n]), float(timeline["eval_theta"][checkpoint, n])
    reasons = []
    if abs(theta) > limits["theta_threshold_radians"]:
        reasons.append(f"the pole fell past {math.degrees(limits['theta_threshold_radians']):.0f}°")
    if abs(x) > limits["x_threshold"]:
        reasons.append("the cart left the track")
    return " and ".join(reasons) or "unknown"  # the training tests guarantee one of the limits was passed
