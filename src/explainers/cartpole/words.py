"""What the CartPole chapter says about its episodes, in words: shared by ``charts`` and ``facts``, so
neither imports the other."""
from __future__ import annotations

import math


def episode_end(run, checkpoint: int) -> str:
    """Why the checkpoint's recorded episode ended, read from its last state."""
    n = int(run.eval_length[checkpoint])
    if n >= run.max_episode_steps:
        return f"{run.max_episode_steps} steps, the time limit"
    x, theta = float(run.eval_x[checkpoint, n]), float(run.eval_theta[checkpoint, n])
    reasons = []
    if abs(theta) > run.theta_threshold_radians:
        reasons.append(f"the pole fell past {math.degrees(run.theta_threshold_radians):.0f}°")
    if abs(x) > run.x_threshold:
        reasons.append("the cart left the track")
    return " and ".join(reasons) or "unknown"  # the training tests guarantee one of the limits was passed
