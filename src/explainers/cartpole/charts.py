"""The CartPole charts: the reward curve over training, and the agent at work at four checkpoints.

Only recorded values reach the browser: the recorded episodes are NaN-padded past their end in the
Timeline, so every frame past an episode's end repeats its final state here.
"""
from __future__ import annotations

import math

import contourpy
import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (ColumnDataSource, DataRange1d, Label, LabelSet, LinearColorMapper, Range1d,
                          Span)
from bokeh.palettes import PuOr11

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Choice, Player
from .words import episode_end

PAGE = "learning-from-reward"
REWARDS_ID = "cartpole-rewards"
AGENT_ID = "cartpole-agent"
CHARTS = {
    REWARDS_ID: "Learning from reward: CartPole reward per training episode",
    AGENT_ID: "Learning from reward: the agent at work at four checkpoints of training",
}

# The drawing's proportions follow gymnasium's own CartPole renderer: the pole is drawn 2 × its
# half-length of 0.5 long, the cart 0.5 wide and 0.3 high, in the units of the cart position x.
POLE = 1.0
CART_W, CART_H = 0.5, 0.3
PIVOT_Y = CART_H
# π(right) from 0 (always left: orange) to 1 (always right: purple), white at 0.5 (undecided)
POLICY_COLOURS = tuple(reversed(PuOr11))


def legend_below(fig) -> None:
    """A compact, one-row legend under a small plot, not over its data."""
    legend = fig.legend[0]
    fig.add_layout(legend, "below")
    legend.orientation = "horizontal"
    legend.label_text_font_size = "10px"
    legend.padding = 2
    legend.spacing = 8
    legend.margin = 0


# --- the reward curve ----------------------------------------------------------------------------

def reward_curve(run, chart_id: str = REWARDS_ID) -> Chart:
    threshold = run.reward_threshold
    top = run.max_episode_steps * 1.12
    episode = (run.episode + 1).astype(np.int32)  # the reader counts episodes from 1
    n = len(episode)
    curve = ColumnDataSource({"episode": episode, "reward": run.reward.astype(np.float32),
                              "average": run.moving_average.astype(np.float32),
                              "update": run.update.astype(np.int32)})

    window = run.solve_window
    fig = book_figure(f"Reward per training episode: each dot one episode, the line their {window}-episode average",
                      320, x_range=Range1d(0, n * 1.02 + 1), y_range=Range1d(0, top),
                      x_axis_label="training episode", y_axis_label="reward (steps balanced)")
    fig.add_layout(Span(location=threshold, dimension="width", line_dash="dashed", line_color=palette.OPTIMUM,
                        line_width=2))
    fig.add_layout(Label(x=0, y=threshold, x_offset=4, y_offset=3, text=f"solved: {window}-episode average ≥ {threshold:g}",
                         text_font_size="11px", text_color=palette.OPTIMUM))
    names_at = {}  # checkpoints that share an episode (a run that never reached a level) share a mark
    for name, e in zip(run.checkpoints, run.checkpoint_episodes):
        names_at.setdefault(e + 1, []).append(name)
    starts = list(names_at)
    right = [e > 0.85 * n for e in starts]  # labels near the right edge sit left of their line
    # a label close to the one before it (on a phone, closer than its own width) drops below the
    # "solved" line, so the two never print over each other
    lower = [i % 2 == 1 and starts[i] - starts[i - 1] < 0.2 * n for i in range(len(starts))]
    marks = ColumnDataSource({"episode": starts, "y": [threshold if low else top * 0.97 for low in lower],
                              "dy": [-4 if low else 0 for low in lower],
                              "name": [" = ".join(names) for names in names_at.values()],
                              "align": ["right" if r else "left" for r in right],
                              "offset": [-3 if r else 3 for r in right]})
    fig.segment(x0="episode", y0=0, x1="episode", y1=top, source=marks, line_color=palette.MUTED,
                line_dash="dotted", line_width=1.5)
    fig.add_layout(LabelSet(x="episode", y="y", text="name", source=marks, x_offset="offset", y_offset="dy",
                            text_align="align", text_baseline="top",
                            text_font_size="11px", tags=["ink"]))
    fig.scatter("episode", "reward", source=curve, size=4, color=palette.DATA, alpha=0.55,
                legend_label="reward of one episode")
    fig.line("episode", "average", source=curve, color=palette.PATH_EDGE, line_width=5)
    fig.line("episode", "average", source=curve, color=palette.PATH, line_width=3,
             legend_label=f"average of the last {window}")
    if run.solved:
        solved = run.episodes_to_solve
        fig.scatter([solved], [float(run.moving_average[solved - 1])], marker="star", size=16,
                    color=palette.OPTIMUM, line_color="#14501a", legend_label=f"solved at episode {solved}")

    current = ColumnDataSource({"episode": [], "reward": [], "average": []})
    fig.segment(x0="episode", y0=0, x1="episode", y1=top, source=current, line_color=palette.CURRENT,
                line_width=1.5, alpha=0.7, level="overlay")
    fig.scatter("episode", "reward", source=current, marker="diamond", size=15, color=palette.CURRENT,
                line_color="#5c0f10", level="overlay", legend_label="current episode")
    fig.scatter("episode", "average", source=current, marker="circle", size=9, fill_color=None,
                line_color=palette.CURRENT, line_width=2, level="overlay")
    fig.legend.location = "center_left"
    fig.legend.label_text_font_size = "11px"

    player = Player(chart_id, episode, step_label="Episode", duration_s=8.0)
    ready = player.bind(
        "cartpole/rewards.js", curve=curve, current=current,
        solved_episode=run.episodes_to_solve, solve_window=window,
        checkpoint_updates=list(run.checkpoint_updates), checkpoint_names=list(run.checkpoints),
    )
    layout = column(fig, player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])


# --- the agent at work ---------------------------------------------------------------------------

def recorded_episodes(run) -> dict[str, np.ndarray]:
    """Each checkpoint's recorded episode as columns over t = 0 .. the longest episode's end.

    x, θ and θ̇ past an episode's end repeat its end state; the action is -1 and π(right) 0 from the end
    on (the chart never shows them there). Nothing here is NaN.
    """
    lengths = run.eval_length.astype(int)
    frames = int(lengths.max()) + 1
    columns = {"t": np.arange(frames, dtype=np.int32)}
    for c, n in enumerate(lengths):
        index = np.minimum(np.arange(frames), n)  # the state at t, or the end state once past it
        columns[f"x{c}"] = run.eval_x[c, index].astype(np.float32)
        columns[f"theta{c}"] = run.eval_theta[c, index].astype(np.float32)
        columns[f"theta_dot{c}"] = run.eval_theta_dot[c, index].astype(np.float32)
        acting = np.arange(frames) < n
        safe = np.minimum(np.arange(frames), n - 1)
        columns[f"action{c}"] = np.where(acting, run.eval_action[c, safe], -1).astype(np.int8)
        columns[f"p{c}"] = np.where(acting, run.eval_p_right[c, safe], 0).astype(np.float32)
    return columns


def decision_boundaries(run) -> list[dict[str, list]]:
    """Per checkpoint, the π(right) = 0.5 line on the heat map (degrees, degrees per second)."""
    theta, theta_dot = np.degrees(run.grid_theta), np.degrees(run.grid_theta_dot)
    out = []
    for p in run.p_right:
        lines = contourpy.contour_generator(theta, theta_dot, p, line_type="Separate").lines(0.5)
        out.append({"xs": [line[:, 0].astype(np.float32) for line in lines],
                    "ys": [line[:, 1].astype(np.float32) for line in lines]})
    return out


def checkpoint_choice(run) -> Choice:
    labels = tuple(f"{name} · {int(run.eval_length[c])} steps"
                   for c, name in enumerate(run.checkpoints))
    return Choice("checkpoint", "Checkpoint of training (each plays the same start state and random draws)",
                  tuple(run.checkpoints), labels, 0)


def cart_view(run):
    x_limit, angle = run.x_threshold, run.theta_threshold_radians
    reach = x_limit + CART_W
    # a static frame sets the ranges; match_aspect keeps the pole's angle true at any column width
    frame = ColumnDataSource({"x": [-reach, reach], "y": [-0.55, PIVOT_Y + POLE * 1.2]})
    fig = book_figure("The recorded episode: the cart (box) pushes left or right (arrow) to keep the pole up",
                      250, x_range=DataRange1d(), y_range=DataRange1d(), match_aspect=True,
                      x_axis_label="cart position x")
    box = fig.scatter("x", "y", source=frame, alpha=0, size=1)
    fig.x_range.renderers = fig.y_range.renderers = [box]
    fig.yaxis.visible = False
    fig.ygrid.visible = False
    fig.xgrid.visible = False
    fig.line([-x_limit, x_limit], [0, 0], line_color=palette.MUTED, line_width=3)
    fig.segment([-x_limit, x_limit], [-0.15, -0.15], [-x_limit, x_limit], [0.5, 0.5], line_color=palette.MUTED,
                line_width=5)
    for side in (-1, 1):
        fig.add_layout(Label(x=side * x_limit, y=-0.15, y_offset=-2, text=f"track end {side * x_limit:+g}".replace("-", "−"),
                             text_font_size="10px", text_align="center", text_baseline="top", tags=["ink"]))
    cart = ColumnDataSource({"x": [0.0], "y": [CART_H / 2], "pivot_y": [PIVOT_Y], "tip_x": [0.0],
                             "tip_y": [PIVOT_Y + POLE]})
    wedge = ColumnDataSource({"x0": [0.0, 0.0], "y0": [PIVOT_Y] * 2, "x1": [0.0, 0.0], "y1": [0.0, 0.0]})
    fig.segment("x0", "y0", "x1", "y1", source=wedge, line_color=palette.MUTED, line_dash="dashed",
                line_width=1.5, alpha=0.8, level="overlay",
                legend_label=f"angle limit ±{math.degrees(angle):.0f}°")
    fig.rect("x", "y", width=CART_W, height=CART_H, source=cart, fill_color=palette.DATA, fill_alpha=0.85,
             line_color="#0d3d66", line_width=2, level="overlay")
    fig.segment("x", "pivot_y", "tip_x", "tip_y", source=cart, line_color=palette.PATH_EDGE, line_width=11,
                line_cap="round", level="overlay")
    fig.segment("x", "pivot_y", "tip_x", "tip_y", source=cart, line_color=palette.PATH, line_width=7,
                line_cap="round", level="overlay", legend_label="pole")
    fig.scatter("x", "pivot_y", source=cart, size=7, color="#f5f5f5", line_color="#333333", level="overlay")
    push = ColumnDataSource({"x": [], "y": [], "angle": []})
    fig.scatter("x", "y", angle="angle", source=push, marker="triangle", size=16, color=palette.CURRENT,
                line_color="#5c0f10", level="overlay", legend_label="push (this step's action)")
    status = Label(x=0, y=-0.12, text="", text_baseline="top", text_align="center",  # under the track
                   text_font_size="12px", text_font_style="bold", text_color=palette.CURRENT, level="overlay")
    fig.add_layout(status)
    fig.legend.location = "top_right"
    fig.legend.label_text_font_size = "10px"
    fig.legend.padding = 3
    fig.legend.spacing = 0
    return fig, cart, wedge, push, status


TRAIL_STEPS = 20  # the policy map's trail: this many of the episode's latest steps


def policy_view(run):
    theta, theta_dot = np.degrees(run.grid_theta), np.degrees(run.grid_theta_dot)
    cell_x, cell_y = theta[1] - theta[0], theta_dot[1] - theta_dot[0]
    limit = math.degrees(run.theta_threshold_radians)
    fig = book_figure("What the policy does: π(right) at x = ẋ = 0", 330,
                      x_range=Range1d(-limit * 1.15, limit * 1.15),
                      y_range=Range1d(float(theta_dot[0] - cell_y / 2), float(theta_dot[-1] + cell_y / 2)),
                      x_axis_label="pole angle θ (°, + leans right)",
                      y_axis_label="angular velocity θ̇ (°/s)")
    fig.xgrid.visible = fig.ygrid.visible = False
    mapper = LinearColorMapper(palette=POLICY_COLOURS, low=0, high=255)  # π(right) sent as a byte
    image = ColumnDataSource({"image": []})  # the chosen checkpoint's map, set by the player
    fig.image("image", source=image, x=float(theta[0] - cell_x / 2), y=float(theta_dot[0] - cell_y / 2),
              dw=float(theta[-1] - theta[0] + cell_x), dh=float(theta_dot[-1] - theta_dot[0] + cell_y),
              color_mapper=mapper)
    boundary = ColumnDataSource({"xs": [], "ys": []})
    fig.multi_line("xs", "ys", source=boundary, line_color="#222222", line_width=2, line_dash="dashed",
                   legend_label="π = 0.5: undecided")
    for side in (-limit, limit):
        fig.add_layout(Span(location=side, dimension="height", line_color=palette.MUTED, line_width=1))
    # the episode's last moments and its current state (θ, θ̇); marks on the overlay layer are not clipped,
    # so agent.js holds them inside the map's box
    state = ColumnDataSource({"theta": [], "theta_dot": []})
    trail = ColumnDataSource({"theta": [], "theta_dot": []})
    fig.line("theta", "theta_dot", source=trail, line_color=palette.PATH_EDGE, line_width=4, level="overlay")
    fig.line("theta", "theta_dot", source=trail, line_color=palette.PATH, line_width=2, level="overlay")
    fig.scatter("theta", "theta_dot", source=state, marker="circle", size=13, color=palette.CURRENT,
                line_color="#5c0f10", level="overlay", legend_label=f"current (θ, θ̇), last {TRAIL_STEPS} steps")
    legend_below(fig)
    box = [float(fig.x_range.start), float(fig.x_range.end), float(fig.y_range.start), float(fig.y_range.end)]
    return column(fig, colour_key(mapper), sizing_mode="stretch_width"), image, boundary, state, trail, box


def colour_key(mapper):
    """The heat map's colours against π(right) from 0 to 1, on an axis (a figure, so the theme inks it)."""
    colours = mapper.palette
    step = 1 / len(colours)
    key = book_figure("", 62, x_range=Range1d(0, 1), y_range=Range1d(0, 1),
                      x_axis_label="π(right): 0 = push left, 1 = push right")
    key.quad(left=[i * step for i in range(len(colours))], right=[(i + 1) * step for i in range(len(colours))],
             bottom=0, top=1, fill_color=list(colours), line_color=None)
    key.yaxis.visible = False
    key.grid.visible = False
    key.xaxis.ticker = [0, 0.25, 0.5, 0.75, 1]
    key.min_border_top = 0
    key.title.visible = False
    return key


def limits_view(run, frames: int):
    fig = book_figure("The episode so far, against the limits (±1)", 392,
                      x_range=Range1d(0, frames - 1), y_range=Range1d(-1.2, 1.2), x_axis_label="timestep t",
                      y_axis_label="share of the limit")
    for side in (-1, 1):
        fig.add_layout(Span(location=side, dimension="width", line_color=palette.MUTED, line_dash="dashed",
                            line_width=1.5))
    trace = ColumnDataSource({"t": [], "theta": [], "x": []})
    fig.line("t", "theta", source=trace, color=palette.PATH_EDGE, line_width=4)
    fig.line("t", "theta", source=trace, color=palette.PATH, line_width=2,
             legend_label=f"pole angle θ / {math.degrees(run.theta_threshold_radians):.0f}°")
    fig.line("t", "x", source=trace, color=palette.DATA, line_width=2, line_dash="dashed",
             legend_label=f"cart position x / {run.x_threshold:g}")
    # the current step: a line across the plot and a mark on each curve (θ a diamond, x a square), as one
    # annotation and one renderer: each renderer a frame updates costs its own data pass
    now_line = Span(location=None, dimension="height", line_color=palette.CURRENT, line_width=1.5,
                    line_alpha=0.7, level="overlay")
    fig.add_layout(now_line)
    now = ColumnDataSource({"t": [], "value": [], "marker": [], "size": []})
    fig.scatter("t", "value", source=now, marker="marker", size="size", color=palette.CURRENT,
                line_color="#5c0f10", level="overlay")
    legend_below(fig)
    return fig, trace, now, now_line


def agent_at_work(run, chart_id: str = AGENT_ID) -> Chart:
    """The player plays episodes at the simulation's own pace (the run's ``seconds_per_step``)."""
    columns = recorded_episodes(run)
    frames = len(columns["t"])
    episodes = ColumnDataSource(columns, name=f"{chart_id}-episodes")
    lengths = run.eval_length.astype(int).tolist()

    cart_fig, cart, wedge, push, status = cart_view(run)
    cart.name = f"{chart_id}-cart"
    policy_fig, image, boundary, state, trail, map_box = policy_view(run)
    limits_fig, trace, now, now_line = limits_view(run, frames)
    # a byte per cell (π steps of 1/255, finer than the 11 colours) ships a quarter of float32's bytes
    policies = ColumnDataSource({"image": list(np.round(run.p_right * 255).astype(np.uint8))})

    duration = (frames - 1) * run.seconds_per_step
    player = Player(chart_id, columns["t"], choices=(checkpoint_choice(run),), step_label="t",
                    duration_s=duration)
    ready = player.bind(
        "cartpole/agent.js", episodes=episodes, lengths=lengths,
        ends=[episode_end(run, c) for c in range(len(lengths))],
        cart=cart, wedge=wedge, push=push, status=status, image=image, policies=policies, boundary=boundary,
        boundaries=decision_boundaries(run), state=state, trail=trail, map_box=map_box, trace=trace, now=now,
        now_line=now_line,
        limits_range=limits_fig.x_range, trail_steps=TRAIL_STEPS,
        pole=POLE, pivot_y=PIVOT_Y, cart_w=CART_W, cart_y=CART_H / 2,
        theta_limit=run.theta_threshold_radians, x_limit=run.x_threshold,
    )
    layout = column(cart_fig, row(policy_fig, limits_fig, sizing_mode="stretch_width"), player.layout,
                    sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[chart_id], layout, [ready])


def chart(chart_id: str, run) -> Chart:
    """One of the chapter's charts, from ``runs.runs()``."""
    if chart_id == REWARDS_ID:
        return reward_curve(run)
    if chart_id == AGENT_ID:
        return agent_at_work(run)
    raise KeyError(f"no chart {chart_id!r} here; the {PAGE} page has {list(CHARTS)}")
