"""The numbers and sentences the CartPole chapter quotes, read from the Timeline (never typed in).

Episodes are numbered from 1 for the reader (the Timeline indexes them from 0).
"""
from __future__ import annotations

import math

import numpy as np

from ..markup import Html, Markdown, html_table
from .words import episode_end


def policy_probe(run, checkpoint: int, theta_fraction: float, theta_dot: float) -> float:
    """π(right) read off the checkpoint's heat map at the grid point nearest (θ = fraction of the
    limit, θ̇ in rad/s), with the cart at rest in the middle (the heat map's x = ẋ = 0)."""
    theta = theta_fraction * run.theta_threshold_radians
    column = int(np.argmin(np.abs(run.grid_theta - theta)))
    row = int(np.argmin(np.abs(run.grid_theta_dot - theta_dot)))
    return float(run.p_right[checkpoint, row, column])


SURE = 0.1  # a policy is "nearly sure" where π(right) is below this or above 1 − this


def plural(n: int, noun: str, many: str | None = None) -> str:
    """1 step, 2 steps, 0 steps: the number and the noun in the form it takes."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def discount_note(gamma: float) -> Markdown:
    """What the discount does to a reward some steps ahead, true for any γ in [0, 1]."""
    if gamma >= 1:
        return Markdown("no discount at all: a reward counts the same however far ahead it comes.")
    if gamma <= 0:
        return Markdown("only the reward of the step itself counts; everything after it counts nothing.")
    steps = -1 / math.log(gamma)  # γ^steps = e^-1
    if steps < 1:
        return Markdown(f"a reward one step ahead already counts only {gamma:.2g} as much as one now.")
    return Markdown(f"a reward about {plural(round(steps), 'step')} ahead counts $e^{{-1}}$ (about 37%) as "
                    "much as one now.")


def discount_dropped(gamma: float, max_steps: int) -> Markdown:
    """How much the γ^t factor the loss leaves out would have mattered, in the run's own numbers."""
    last = max_steps - 1  # the last action of a full episode is taken at t = max_steps − 1
    if gamma >= 1 or last < 1:
        return Markdown("With this discount and episode length the factor $\\gamma^t$ is 1 at every step, so "
                        "leaving it out changes nothing here.")
    weight = gamma ** last
    return Markdown(f"It weighs every push of an episode alike, where the gradient of $J$ would weigh the last "
                    f"push of a full {max_steps}-step episode, at $t = {last}$, only "
                    f"$\\gamma^{{{last}}} \\approx$ {weight:.2g} times as much as the first.")


def decided_share(run, checkpoint: int, margin: float = SURE) -> float:
    """Share of the heat map where the policy is nearly sure: π(right) below ``margin`` or above 1 − it."""
    p = run.p_right[checkpoint]
    return float(np.mean((p < margin) | (p > 1 - margin)))


def learned_rule(run) -> Markdown:
    """What the last checkpoint's heat map shows, stated only as far as the numbers bear it out."""
    last = len(run.checkpoints) - 1
    top = float(run.grid_theta_dot[-1])
    swing = (policy_probe(run, last, 0.0, -top), policy_probe(run, last, 0.0, top))
    lean = (policy_probe(run, last, -1.0, 0.0), policy_probe(run, last, 1.0, 0.0))
    limit = math.degrees(run.theta_threshold_radians)
    text = (f"Along the map's middle column (pole upright), π(right) runs from {swing[0]:.2f} for a pole "
            f"swinging left at {math.degrees(top):.0f}°/s to {swing[1]:.2f} for one swinging right as fast; "
            f"along its middle row (pole not moving), from {lean[0]:.2f} leaning {limit:.0f}° left to "
            f"{lean[1]:.2f} leaning {limit:.0f}° right.")
    if swing[0] < 0.5 < swing[1] and lean[0] < 0.5 < lean[1]:
        text += (" Both say the same thing: push toward the side the pole is falling to, which moves the "
                 "cart back under it.")
    else:
        text += " That is not yet the simple rule \"push toward the side the pole falls to\"."
    return Markdown(text)


def checkpoint_story(run) -> Markdown:
    """How each checkpoint was picked, from the rules the training run recorded."""
    levels = {1: run.early_level, 2: run.middle_level}
    parts = []
    for c, name in enumerate(run.checkpoints):
        rule = run.checkpoint_rules[c]
        if c == 0:
            parts.append(f"the **{name}** policy")
        elif c in levels and "never reached" not in rule:
            parts.append(f"the first policy whose typical test episode lasted {levels[c]:g} steps (**{name}**)")
        elif c in levels:
            parts.append(f"**{name}**, a policy picked by position because no policy reached {levels[c]:g} steps")
        else:
            parts.append(f"the last one (**{name}**)")
    return Markdown(", ".join(parts[:-1]) + " and " + parts[-1])


def episodes_story(run) -> Markdown:
    """The first and last checkpoints' recorded episodes, side by side."""
    last = len(run.checkpoints) - 1
    first_n, last_n = int(run.eval_length[0]), int(run.eval_length[last])
    return Markdown(
        f"The {run.checkpoints[0]} policy's recorded episode ends after {plural(first_n, 'step')} "
        f"({episode_end(run, 0)}); the {run.checkpoints[last]} policy's after "
        f"{plural(last_n, 'step')} ({episode_end(run, last)}).")


def untrained_map(run) -> Markdown:
    low, high = float(run.p_right[0].min()), float(run.p_right[0].max())
    text = f"Untrained, the network answers between {low:.2f} and {high:.2f} everywhere on the map"
    return Markdown(text + (": a coin flip." if high - low < 0.1 else "."))


def run_where(run) -> str:
    details = [run.device]
    if run.cpu_count:  # os.cpu_count() is None where it cannot tell
        details.append(plural(run.cpu_count, "core"))
    if run.torch_threads:
        details.append(plural(run.torch_threads, "torch thread"))
    return (f"{plural(run.n_episodes, 'training episode')} in {run.train_wall_time_s:.1f} s on "
            f"{run.device_name} ({', '.join(details)}), "
            f"torch {run.torch_version}, gymnasium {run.gymnasium_version}")


def outcome(run) -> Markdown:
    """What the run achieved, in a sentence that holds whether or not it solved the task."""
    rule = f"an average reward of {run.reward_threshold:g} over {run.solve_window} consecutive episodes"
    if run.solved:
        end = run.episodes_to_solve
        return Markdown(
            f"This run **solved** CartPole-v1 at episode {end}: episodes {end - run.solve_window + 1} "
            f"to {end} averaged at least {run.reward_threshold:g}. It took "
            f"{plural(run.n_updates, 'gradient update')} and {run.train_wall_time_s:.1f} s of training.")
    last = min(run.solve_window, run.n_episodes)
    scored = f"its last {plural(last, 'episode')} averaged" if last > 1 else "its only episode scored"
    return Markdown(
        f"This run did **not** solve CartPole-v1: after {plural(run.n_episodes, 'episode')} (the limit set "
        f"for the build) {scored} {run.final_average:.1f}, short of {rule}. The curve below is the real one.")


def facts(run) -> dict:
    last = len(run.checkpoints) - 1
    return {
        "theta_limit_deg": math.degrees(run.theta_threshold_radians),
        "x_limit": run.x_threshold,
        "max_steps": run.max_episode_steps,
        "solve_threshold": run.reward_threshold,
        "solve_window": run.solve_window,
        "algorithm": run.algorithm,
        "hidden": " × ".join(str(h) for h in run.hidden_layers),
        "activation": run.activation,
        "optimizer": run.optimizer,
        "lr": run.lr,
        "gamma": run.gamma,
        "horizon": 1 / (1 - run.gamma) if run.gamma < 1 else math.inf,
        "discount_note": discount_note(run.gamma),
        "discount_dropped": discount_dropped(run.gamma, run.max_episode_steps),
        "episodes_per_update": run.episodes_per_update,
        "seed": run.seed,
        "max_episodes": run.max_episodes,
        "eval_episodes": run.eval_episodes,
        "outcome": outcome(run),
        "n_episodes": run.n_episodes,
        "train_seconds": run.train_wall_time_s,
        "last_checkpoint": run.checkpoints[last],
        "untrained_map": untrained_map(run),
        "sure_below": SURE,
        "sure_above": 1 - SURE,
        "last_decided": decided_share(run, last),
        "checkpoint_story": checkpoint_story(run),
        "episodes_story": episodes_story(run),
        "learned_rule": learned_rule(run),
        "step_seconds": run.seconds_per_step,
        "episode_seconds": run.seconds_per_step * run.max_episode_steps,
        "run_where": run_where(run),
    }


def checkpoint_table(run) -> Html:
    """The four checkpoints: when their weights played, and how their test episodes went."""
    return html_table(
        ["checkpoint", "updates before it", "first training episode",
         f"its {run.eval_episodes} test episodes: steps", "recorded (median): steps", "how it ended"],
        [(name, run.checkpoint_updates[c], run.checkpoint_episodes[c] + 1,
          f"{run.eval_lengths[c].min()} – {run.eval_lengths[c].max()}",
          int(run.eval_length[c]), episode_end(run, c)) for c, name in enumerate(run.checkpoints)])
