"""Learning from reward: REINFORCE with a learned baseline balances a pole on a cart.

The policy is a small network that gives, for a state s = (x, ẋ, θ, θ̇), the probability of pushing the
cart right: π(right | s) = σ(f(s)). We let it play whole episodes, then make every action more likely in
proportion to how much better than expected it turned out:

    G_t = r_t + γ r_{t+1} + γ² r_{t+2} + ...          return from step t (reward 1 per step balanced)
    A_t = G_t − V(s_t)                                 advantage: better or worse than the baseline V
    policy loss = −mean_t  A_t · log π(a_t | s_t)      gradient ascent on expected return
    value loss  =  mean_t (V(s_t) − G_t)²              V learns to predict the return

CartPole-v1 counts as solved when the average reward over 100 consecutive episodes reaches 475.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..cache import cached
from ..device import describe, pick, torch_threads
from ..progress import bar
from ..timeline import Timeline


@dataclass
class CartPoleConfig:
    seed: int = 0
    env_id: str = "CartPole-v1"
    hidden: int = 64                 # width of the two hidden layers (policy and baseline alike)
    lr: float = 1e-2                 # Adam, for policy and baseline
    gamma: float = 0.99              # discount: a reward 100 steps away counts e^-1 as much
    episodes_per_update: int = 8     # episodes played in parallel (one vector env) per gradient step
    max_episodes: int = 2000         # give up here if not solved
    grid_size: int = 41              # policy heatmap: grid_size x grid_size over (θ, θ̇)
    grid_theta_dot: float = 2.0      # heatmap's angular-velocity range: ±this, in rad/s
    early_level: float = 50.0        # checkpoint "early": first policy whose typical episode lasts this long
    middle_level: float = 200.0      # checkpoint "middle": ... this long
    eval_episodes: int = 9           # each checkpoint plays this many; the median-length one is recorded
    eval_seed: int = 2024            # ... from the same start states and random draws for every checkpoint
    torch_threads: int = 1           # tiny matrices: a 2nd thread only adds waiting (see benchmark)


SOLVE_WINDOW = 100  # CartPole-v1 is solved by an average over 100 consecutive episodes


# --- the solved criterion (pure functions, so the chapter and the tests can check them) -------------

def moving_average(rewards, window: int = SOLVE_WINDOW) -> np.ndarray:
    """Average of the last ``window`` rewards at each episode (fewer at the start, where fewer exist)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], rewards]))
    ends = np.arange(1, len(rewards) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def solved_episode(rewards, threshold: float = 475.0, window: int = SOLVE_WINDOW) -> int | None:
    """Index of the first episode that completes ``window`` consecutive episodes averaging ≥ threshold."""
    rewards = np.asarray(rewards, dtype=np.float64)
    if len(rewards) < window:
        return None
    full = np.convolve(rewards, np.ones(window), mode="valid") / window  # full windows only
    hits = np.flatnonzero(full >= threshold)
    return int(hits[0]) + window - 1 if len(hits) else None


def returns_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + γ G_{t+1}, along the first (time) axis."""
    returns = np.zeros_like(rewards)
    following = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        following = rewards[t] + gamma * following
        returns[t] = following
    return returns


# --- the two networks ----------------------------------------------------------------------------

def mlp(hidden: int) -> nn.Module:
    """State (4 numbers) -> one number: the policy's logit of pushing right, or the baseline's V(s)."""
    return nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 1), nn.Flatten(0))


def p_right(policy: nn.Module, states, device) -> np.ndarray:
    """π(right | s) for a batch of states."""
    with torch.no_grad():
        logits = policy(torch.as_tensor(np.asarray(states), dtype=torch.float32, device=device))
    return torch.sigmoid(logits).cpu().numpy()


# --- playing and learning ------------------------------------------------------------------------

def play_episodes(env, policy, rng, device):
    """One episode in each copy of a vector env, actions sampled from π.

    Returns states (T+1, N, 4), actions (T, N) and alive (T, N): 1 while episode n was still running at
    step t. The reward is 1 for each of those steps, so an episode's reward is its column of ``alive``;
    an episode of length L acted from states[:L] and ended in states[L].
    """
    obs, _ = env.reset()
    done = np.zeros(env.num_envs, dtype=bool)
    states, actions, alive = [], [], []
    while not done.all():
        action = (rng.random(env.num_envs) < p_right(policy, obs, device)).astype(np.int64)
        states.append(obs)
        actions.append(action)
        alive.append(~done)
        # a finished copy restarts by itself; its later steps are masked out by `alive`
        obs, _, terminated, truncated, _ = env.step(action)
        done |= terminated | truncated
    states.append(obs)  # a copy's restart comes one step after its end, so states[L] is its end state
    return np.stack(states), np.stack(actions), np.stack(alive).astype(np.float32)


def reinforce_step(policy, baseline, optimizer, states, actions, alive, gamma, device):
    """One gradient step of REINFORCE with a baseline on a batch of finished episodes."""
    # Episodes cut at the 500-step limit are treated as ended: only their last ~100 steps (the horizon
    # 1/(1−γ)) see a return shortened by the cut.
    G = torch.as_tensor(returns_to_go(alive, gamma), device=device)
    s = torch.as_tensor(states, device=device)
    a = torch.as_tensor(actions, dtype=torch.float32, device=device)
    m = torch.as_tensor(alive, device=device)
    n = m.sum()

    value = baseline(s.reshape(-1, 4)).reshape(m.shape)
    advantage = (G - value).detach()
    # Normalised over the batch, so the step size does not depend on how long the episodes were.
    mean = (advantage * m).sum() / n
    std = (((advantage - mean) ** 2 * m).sum() / n).sqrt()
    advantage = (advantage - mean) / (std + 1e-8)

    logit = policy(s.reshape(-1, 4)).reshape(m.shape)
    log_prob = -F.binary_cross_entropy_with_logits(logit, a, reduction="none")  # log π(a_t | s_t)
    policy_loss = -(log_prob * advantage * m).sum() / n
    value_loss = ((value - G) ** 2 * m).sum() / n

    optimizer.zero_grad()
    (policy_loss + value_loss).backward()
    optimizer.step()


def typical_episode(env_id, policy, n_episodes, seed, device):
    """The median-length one of ``n_episodes`` sampled episodes, all from fixed seeds so that every
    checkpoint meets the same start states and the same random draws.

    Returns its states (L+1, 4) (the last is where it ended), actions (L,), π(right) at each step (L,),
    and the lengths of all ``n_episodes``.
    """
    env = gym.make_vec(env_id, num_envs=n_episodes, vectorization_mode="vector_entry_point")
    env.reset(seed=seed)
    states, actions, alive = play_episodes(env, policy, np.random.default_rng(seed), device)
    env.close()
    lengths = alive.sum(axis=0).astype(int)
    n = np.argsort(lengths, kind="stable")[len(lengths) // 2]
    path = states[: lengths[n] + 1, n]
    return path, actions[: lengths[n], n], p_right(policy, path[:-1], device), lengths


def choose_checkpoints(score, n_updates: int, levels) -> list[tuple[int, str]]:
    """For each level, in order: the first update (from the previous pick on) with score(update) ≥ level.

    ``score`` is called lazily, in order, and only as far as needed. A level never reached falls back to
    an even spread through training, and its rule says so. Returns (update, rule) pairs.
    """
    chosen, earliest = [], 0
    for i, level in enumerate(levels):
        hit = next((u for u in range(earliest, n_updates) if score(u) >= level), None)
        if hit is not None:
            chosen.append((hit, f"first update whose typical evaluation episode lasted >= {level:g} steps"))
        else:
            spread = max(earliest, round((i + 1) * (n_updates - 1) / (len(levels) + 1)))
            chosen.append((spread, f"{level:g} steps never reached: the update {i + 1}/{len(levels) + 1}"
                                   " of the way through training"))
        earliest = chosen[-1][0]
    return chosen


@cached
def train(config: CartPoleConfig) -> Timeline:
    """Train until solved (or ``max_episodes``); record the curve, four checkpoints and their policies."""
    if min(config.episodes_per_update, config.max_episodes, config.eval_episodes, config.torch_threads) < 1:
        raise ValueError("episodes_per_update, max_episodes, eval_episodes, torch_threads must be >= 1")
    with torch_threads(config.torch_threads):
        return _train(config)


@dataclass
class Training:
    """What the training loop leaves: every episode's reward and the update whose weights played it, the
    weights before each update, and the episode on which the run was solved (None: never)."""
    rewards: list
    update_of_episode: list
    weights: list
    solved_at: int | None
    seconds: float


def run_reinforce(config: CartPoleConfig, env, policy, baseline, optimizer, rng, device) -> Training:
    """Play a batch, update, repeat: until solved or ``max_episodes`` episodes were played."""
    threshold = float(env.spec.reward_threshold)
    rewards, update_of_episode, weights = [], [], []
    solved_at = None
    progress = bar(total=config.max_episodes, desc=f"CartPole REINFORCE ({device.type})")
    started = time.perf_counter()
    while solved_at is None and len(rewards) < config.max_episodes:
        weights.append({k: v.detach().clone() for k, v in policy.state_dict().items()})
        states, actions, alive = play_episodes(env, policy, rng, device)
        lengths = alive.sum(axis=0)[: config.max_episodes - len(rewards)]
        rewards += lengths.astype(int).tolist()
        update_of_episode += [len(weights) - 1] * len(lengths)
        solved_at = solved_episode(rewards, threshold)
        progress.update(len(lengths))
        progress.set_postfix(avg100=f"{moving_average(rewards)[-1]:.0f}", refresh=False)
        if solved_at is None and len(rewards) < config.max_episodes:  # no update after the last batch
            reinforce_step(policy, baseline, optimizer, states[:-1], actions, alive, config.gamma, device)
    train_time = time.perf_counter() - started
    progress.close()
    return Training(rewards, update_of_episode, weights, solved_at, train_time)


def pick_checkpoints(config: CartPoleConfig, training: Training, evaluate) -> list[tuple[int, str]]:
    """The weights that played episode 0; the first weights whose typical (median of eval_episodes)
    episode lasts 50, then 200 steps (judged on fresh episodes, since one training batch of 8 is too
    noisy); and the final weights, which played the last batch (no update follows). (update, rule) pairs."""
    last = len(training.weights) - 1
    picks = [(0, "initial weights (before any update)")]
    picks += choose_checkpoints(lambda u: len(evaluate(u)[1]), len(training.weights),
                                [config.early_level, config.middle_level])
    return picks + [(last, "final weights (played the last batch; no update after it)")]


def env_limits(env, threshold: float) -> dict:
    """Where gymnasium ends an episode, and the average reward that counts as solved."""
    return {"theta_threshold_radians": float(env.unwrapped.theta_threshold_radians),
            "x_threshold": float(env.unwrapped.x_threshold),
            "max_episode_steps": int(env.spec.max_episode_steps),
            "reward_threshold": threshold}


def record_checkpoints(config: CartPoleConfig, picks, evaluate, policy, weights, limits: dict, device) -> dict:
    """Each checkpoint's recorded episode (NaN-padded past its end) and its policy over a (θ, θ̇) grid."""
    theta = np.linspace(-limits["theta_threshold_radians"], limits["theta_threshold_radians"],
                        config.grid_size)
    theta_dot = np.linspace(-config.grid_theta_dot, config.grid_theta_dot, config.grid_size)
    grid = np.zeros((config.grid_size, config.grid_size, 4), dtype=np.float32)  # x = ẋ = 0
    grid[..., 2], grid[..., 3] = theta[None, :], theta_dot[:, None]  # rows θ̇, columns θ

    T = limits["max_episode_steps"]
    eval_x = np.full((4, T + 1), np.nan, dtype=np.float32)
    eval_theta = np.full((4, T + 1), np.nan, dtype=np.float32)
    eval_theta_dot = np.full((4, T + 1), np.nan, dtype=np.float32)
    eval_action = np.full((4, T), -1, dtype=np.int8)
    eval_p_right = np.full((4, T), np.nan, dtype=np.float32)
    eval_length = np.zeros(4, dtype=np.int32)
    eval_lengths = np.zeros((4, config.eval_episodes), dtype=np.int32)
    heatmaps = np.zeros((4, config.grid_size, config.grid_size), dtype=np.float32)
    for c, (update, _) in enumerate(picks):
        path, actions, probs, eval_lengths[c] = evaluate(update)
        policy.load_state_dict(weights[update])
        n = len(actions)
        eval_x[c, : n + 1], eval_theta[c, : n + 1], eval_theta_dot[c, : n + 1] = path[:, 0], path[:, 2], path[:, 3]
        eval_action[c, :n], eval_p_right[c, :n], eval_length[c] = actions, probs, n
        heatmaps[c] = p_right(policy, grid.reshape(-1, 4), device).reshape(grid.shape[:2])
    return {"eval_length": eval_length, "eval_lengths": eval_lengths,
            "eval_x": eval_x, "eval_theta": eval_theta, "eval_theta_dot": eval_theta_dot,
            "eval_action": eval_action,
            "eval_p_right": eval_p_right, "grid_theta": theta.astype(np.float32),
            "grid_theta_dot": theta_dot.astype(np.float32), "p_right": heatmaps}


def run_meta(config: CartPoleConfig, training: Training, picks, names, checkpoint_episode, limits: dict,
             seconds_per_step: float, device) -> dict:
    rewards, solved_at, threshold = np.array(training.rewards), training.solved_at, limits["reward_threshold"]
    return {
        "config": dataclasses.asdict(config),
        "env_id": config.env_id,
        "seconds_per_step": seconds_per_step,
        "algorithm": "REINFORCE with a learned baseline",
        "hyperparameters": {"optimizer": "Adam", "lr": config.lr, "gamma": config.gamma,
                            "hidden_layers": [config.hidden, config.hidden], "activation": "tanh",
                            "episodes_per_update": config.episodes_per_update,
                            "advantage": "G_t - V(s_t), normalised per batch"},
        "solved": solved_at is not None,
        "solved_at_episode": solved_at,
        "episodes_to_solve": None if solved_at is None else solved_at + 1,
        "solve_rule": f"average reward >= {threshold:g} over {SOLVE_WINDOW} consecutive episodes",
        "solve_window": SOLVE_WINDOW,
        "n_episodes": int(len(rewards)),
        "n_updates": int(len(training.weights) - 1),
        "final_average": float(moving_average(rewards)[-1]),
        "train_wall_time_s": round(training.seconds, 3),
        "device": describe(device),
        "versions": {"gymnasium": gym.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "checkpoints": names,
        "checkpoint_episodes": checkpoint_episode.tolist(),
        "checkpoint_updates": [update for update, _ in picks],
        "checkpoint_rules": [rule for _, rule in picks],
        "checkpoint_note": "a checkpoint's episode is the first training episode its weights played",
        "eval": {"policy": "actions sampled from pi", "episodes": config.eval_episodes,
                 "recorded": "the median-length episode of those (eval_lengths has them all)",
                 "seed": config.eval_seed, "same_for_every_checkpoint": True,
                 "padding": "x and theta NaN after the end state, action -1 and p_right NaN after the end"},
        "grid": {"theta": [float(-limits["theta_threshold_radians"]), float(limits["theta_threshold_radians"]),
                           config.grid_size],
                 "theta_dot": [float(-config.grid_theta_dot), float(config.grid_theta_dot), config.grid_size],
                 "others": "x = x_dot = 0", "layout": "p_right[checkpoint, theta_dot row, theta column]"},
        "limits": limits,
    }


def _train(config: CartPoleConfig) -> Timeline:
    device = pick()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)  # action sampling
    env = gym.make_vec(config.env_id, num_envs=config.episodes_per_update,
                       vectorization_mode="vector_entry_point")
    env.reset(seed=config.seed)  # later resets draw their start states from this seeded stream
    policy, baseline = mlp(config.hidden).to(device), mlp(config.hidden).to(device)
    optimizer = torch.optim.Adam([*policy.parameters(), *baseline.parameters()], lr=config.lr)
    training = run_reinforce(config, env, policy, baseline, optimizer, rng, device)

    evaluated = {}  # update -> its typical episode: each checkpoint candidate is played once

    def evaluate(update):
        if update not in evaluated:
            policy.load_state_dict(training.weights[update])
            evaluated[update] = typical_episode(config.env_id, policy, config.eval_episodes,
                                                config.eval_seed, device)
        return evaluated[update]

    picks = pick_checkpoints(config, training, evaluate)
    names = ["untrained", "early", "middle", "solved" if training.solved_at is not None else "final"]
    first_episode = {}
    for episode, update in enumerate(training.update_of_episode):
        first_episode.setdefault(update, episode)
    limits = env_limits(env, float(env.spec.reward_threshold))
    seconds_per_step = float(env.unwrapped.tau)  # gymnasium's time step: how long one step stands for
    env.close()

    recorded = record_checkpoints(config, picks, evaluate, policy, training.weights, limits, device)
    rewards = np.array(training.rewards)
    checkpoint_episode = np.array([first_episode[update] for update, _ in picks], dtype=np.int32)
    return Timeline(
        frames={"episode": np.arange(len(rewards)), "reward": rewards.astype(np.int32),
                "moving_average": moving_average(rewards).astype(np.float32),
                "update": np.array(training.update_of_episode)},
        fixed={"checkpoint_episode": checkpoint_episode, **recorded},
        meta=run_meta(config, training, picks, names, checkpoint_episode, limits, seconds_per_step, device),
    )


def tiny_config() -> CartPoleConfig:
    """Three updates, unsolved on purpose, for tests (about a second)."""
    return CartPoleConfig(max_episodes=24)

