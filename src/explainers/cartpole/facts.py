"""The numbers and sentences the CartPole chapter quotes, read from the Timeline (never typed in).

Episodes are numbered from 1 for the reader (the Timeline indexes them from 0).
"""
from __future__ import annotations

import math

import numpy as np

from ..markup import Html, Markdown, html_table
from .words import episode_end


def policy_probe(timeline, checkpoint: int, theta_fraction: float, theta_dot: float) -> float:
    """π(right) read off the checkpoint's heat map at the grid point nearest (θ = fraction of the
    limit, θ̇ in rad/s), with the cart at rest in the middle (the heat map's x = ẋ = 0)."""
    theta = theta_fraction * timeline.meta["limits"]["theta_threshold_radians"]
    column = int(np.argmin(np.abs(timeline["grid_theta"] - theta)))
    row = int(np.argmin(np.abs(timeline["grid_theta_dot"] - theta_dot)))
    return float(timeline["p_right"][checkpoint, row, column])


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


def decided_share(timeline, checkpoint: int, margin: float = SURE) -> float:
    """Share of the heat map where the policy is nearly sure: π(right) below ``margin`` or above 1 − it."""
    p = timeline["p_right"][checkpoint]
    return float(np.mean((p < margin) | (p > 1 - margin)))


def learned_rule(timeline) -> Markdown:
    """What the last checkpoint's heat map shows, stated only as far as the numbers bear it out."""
    last = len(timeline.meta["checkpoints"]) - 1
    top = timeline.meta["grid"]["theta_dot"][1]
    swing = (policy_probe(timeline, last, 0.0, -top), policy_probe(timeline, last, 0.0, top))
    lean = (policy_probe(timeline, last, -1.0, 0.0), policy_probe(timeline, last, 1.0, 0.0))
    limit = math.degrees(timeline.meta["limits"]["theta_threshold_radians"])
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


def checkpoint_story(timeline) -> Markdown:
    """How each checkpoint was picked, from the rules the training run recorded."""
    meta, config = timeline.meta, timeline.meta["config"]
    levels = {1: config["early_level"], 2: config["middle_level"]}
    parts = []
    for c, name in enumerate(meta["checkpoints"]):
        rule = meta["checkpoint_rules"][c]
        if c == 0:
            parts.append(f"the **{name}** policy")
        elif c in levels and "never reached" not in rule:
            parts.append(f"the first policy whose typical test episode lasted {levels[c]:g} steps (**{name}**)")
        elif c in levels:
            parts.append(f"**{name}**, a policy picked by position because no policy reached {levels[c]:g} steps")
        else:
            parts.append(f"the last one (**{name}**)")
    return Markdown(", ".join(parts[:-1]) + " and " + parts[-1])


def episodes_story(timeline) -> Markdown:
    """The first and last checkpoints' recorded episodes, side by side."""
    meta = timeline.meta
    last = len(meta["checkpoints"]) - 1
    first_n, last_n = int(timeline["eval_length"][0]), int(timeline["eval_length"][last])
    return Markdown(
        f"The {meta['checkpoints'][0]} policy's recorded episode ends after {plural(first_n, 'step')} "
        f"({episode_end(timeline, 0)}); the {meta['checkpoints'][last]} policy's after "
        f"{plural(last_n, 'step')} ({episode_end(timeline, last)}).")


def untrained_map(timeline) -> Markdown:
    low, high = float(timeline["p_right"][0].min()), float(timeline["p_right"][0].max())
    text = f"Untrained, the network answers between {low:.2f} and {high:.2f} everywhere on the map"
    return Markdown(text + (": a coin flip." if high - low < 0.1 else "."))


def run_where(timeline) -> str:
    meta = timeline.meta
    device = meta["device"]
    details = [device["device"]]
    if device.get("cpu_count"):  # os.cpu_count() is None where it cannot tell
        details.append(plural(device["cpu_count"], "core"))
    if device.get("torch_threads"):
        details.append(plural(device["torch_threads"], "torch thread"))
    return (f"{plural(meta['n_episodes'], 'training episode')} in {meta['train_wall_time_s']:.1f} s on "
            f"{device['device_name']} ({', '.join(details)}), "
            f"torch {meta['versions']['torch']}, gymnasium {meta['versions']['gymnasium']}")


def outcome(timeline) -> Markdown:
    """What the run achieved, in a sentence that holds whether or not it solved the task."""
    meta = timeline.meta
    rule = f"an average reward of {meta['limits']['reward_threshold']:g} over {meta['solve_window']} consecutive episodes"
    if meta["solved"]:
        end = meta["episodes_to_solve"]
        return Markdown(
            f"This run **solved** CartPole-v1 at episode {end}: episodes {end - meta['solve_window'] + 1} "
            f"to {end} averaged at least {meta['limits']['reward_threshold']:g}. It took "
            f"{plural(meta['n_updates'], 'gradient update')} and {meta['train_wall_time_s']:.1f} s of training.")
    last = min(meta["solve_window"], meta["n_episodes"])
    scored = f"its last {plural(last, 'episode')} averaged" if last > 1 else "its only episode scored"
    return Markdown(
        f"This run did **not** solve CartPole-v1: after {plural(meta['n_episodes'], 'episode')} (the limit set "
        f"for the build) {scored} {meta['final_average']:.1f}, short of {rule}. The curve below is the real one.")


def facts(timeline) -> dict:
    meta, limits, hyper = timeline.meta, timeline.meta["limits"], timeline.meta["hyperparameters"]
    last = len(meta["checkpoints"]) - 1
    config = meta["config"]
    return {
        "theta_limit_deg": math.degrees(limits["theta_threshold_radians"]),
        "x_limit": limits["x_threshold"],
        "max_steps": limits["max_episode_steps"],
        "solve_threshold": limits["reward_threshold"],
        "solve_window": meta["solve_window"],
        "algorithm": meta["algorithm"],
        "hidden": " × ".join(str(h) for h in hyper["hidden_layers"]),
        "activation": hyper["activation"],
        "optimizer": hyper["optimizer"],
        "lr": hyper["lr"],
        "gamma": hyper["gamma"],
        "horizon": 1 / (1 - hyper["gamma"]) if hyper["gamma"] < 1 else math.inf,
        "discount_note": discount_note(hyper["gamma"]),
        "discount_dropped": discount_dropped(hyper["gamma"], limits["max_episode_steps"]),
        "episodes_per_update": hyper["episodes_per_update"],
        "seed": config["seed"],
        "max_episodes": config["max_episodes"],
        "eval_episodes": meta["eval"]["episodes"],
        "outcome": outcome(timeline),
        "n_episodes": meta["n_episodes"],
        "train_seconds": meta["train_wall_time_s"],
        "last_checkpoint": meta["checkpoints"][last],
        "untrained_map": untrained_map(timeline),
        "sure_below": SURE,
        "sure_above": 1 - SURE,
        "last_decided": decided_share(timeline, last),
        "checkpoint_story": checkpoint_story(timeline),
        "episodes_story": episodes_story(timeline),
        "learned_rule": learned_rule(timeline),
        "step_seconds": meta["seconds_per_step"],
        "episode_seconds": meta["seconds_per_step"] * limits["max_episode_steps"],
        "run_where": run_where(timeline),
    }


def checkpoint_table(timeline) -> Html:
    """The four checkpoints: when their weights played, and how their test episodes went."""
    meta = timeline.meta
    return html_table(
        ["checkpoint", "updates before it", "first training episode",
         f"its {meta['eval']['episodes']} test episodes: steps", "recorded (median): steps", "how it ended"],
        [(name, meta["checkpoint_updates"][c], meta["checkpoint_episodes"][c] + 1,
          f"{timeline['eval_lengths'][c].min()} – {timeline['eval_lengths'][c].max()}",
          int(timeline["eval_length"][c]), episode_end(timeline, c)) for c, name in enumerate(meta["checkpoints"])])
