"""The numbers the chapter quotes, read from the runs (never typed in)."""
from __future__ import annotations

import math

import numpy as np

from ..markup import Html, html_table


def converged_step(timeline, tolerance: float = 1e-4) -> int | None:
    """The first step whose loss is within ``tolerance`` of the least-squares minimum."""
    gap = timeline["loss"][: timeline.meta["recorded_steps"]] - timeline.meta["loss_star"]
    hits = np.flatnonzero(gap <= tolerance)
    return int(hits[0]) if len(hits) else None


def overshoots(timeline) -> int:
    """How many steps jumped across the optimum in w (the sign of w - w* flipped)."""
    side = np.sign(timeline["w"][: timeline.meta["recorded_steps"]] - timeline.meta["w_star"])
    side = side[side != 0]
    return int(np.sum(side[1:] != side[:-1]))


def outcome(timeline) -> str:
    meta = timeline.meta
    if meta["diverged_at"] is not None:
        return f"diverged at step {meta['diverged_at']} (loss past {meta['config']['diverge_factor']:g}× its start)"
    done = converged_step(timeline)
    flips = overshoots(timeline)
    crossing = f", crossing the optimum {flips} times" if flips else ""
    if done is None:
        return f"still descending after {meta['config']['steps']} steps (loss {meta['final']['loss']:.4f}){crossing}"
    return f"reached the minimum (within 1e-4) at step {done}{crossing}"


def _clean(value: float, digits: int = 5) -> float:
    """Round away float noise such as -2e-16, which would print as "-0.00000"."""
    return round(value, digits) + 0.0


def one_step(runs) -> dict:
    """The run at η = 1/λmax: where its first step landed, against the least-squares minimum."""
    found = [t for t in runs if t.meta["regime"] == "one step"]
    if not found:
        raise ValueError("no run has η = 1/λmax; the chapter's one-step section needs one")
    t, meta = found[0], found[0].meta
    w1, b1, loss1 = float(t["w"][1]), float(t["b"][1]), float(t["loss"][1])
    return {
        "lr_one_step": meta["config"]["learning_rate"],
        "one_step_w1": w1, "one_step_b1": _clean(b1), "one_step_loss1": loss1,
        "one_step_gap": max(abs(w1 - meta["w_star"]), abs(b1 - meta["b_star"])),
        "one_step_loss0": float(t["loss"][0]),
    }


def curvature(meta) -> dict:
    """Condition numbers: standardized (1) against raw income, and what the raw one costs."""
    raw = meta["raw"]
    kappa = raw["lambda_max"] / raw["lambda_min"]
    shrink = 1.0 - 1.0 / kappa  # per step, along the flat direction, at η = 1/λmax
    return {
        "condition": meta["lambda_max"] / meta["lambda_min"],
        "lambda_min": meta["lambda_min"],
        "raw_mean": raw["mean"], "raw_std": raw["std"],
        "raw_lambda_max": raw["lambda_max"], "raw_lambda_min": raw["lambda_min"],
        "raw_condition": kappa, "raw_lr_diverge": 2.0 / raw["lambda_max"],
        "raw_flat_factor": shrink,
        "raw_steps_1pct": f"{math.ceil(math.log(0.01) / math.log(shrink)):,}",
    }


def facts(runs) -> dict:
    meta = runs[0].meta
    # the closed-form comparison uses the fastest run that converges without overshooting
    reference = max((t for t in runs if t.meta["regime"] == "converges"),
                    key=lambda t: t.meta["config"]["learning_rate"])
    run = meta["run"]
    return {
        "n_samples": f"{meta['n_samples']:,}",
        "n_runs": len(runs),
        "w_start": meta["config"]["w_start"],
        "b_start": meta["config"]["b_start"],
        "lr_reference": reference.meta["config"]["learning_rate"],
        "corr_rooms": meta["correlations"]["AveRooms"],
        "corr_income": meta["correlations"]["MedInc"],
        "lambda_max": meta["lambda_max"],
        "lr_overshoot": meta["lr_overshoot"],
        "lr_diverge": meta["lr_diverge"],
        "w_star": meta["w_star"],
        "b_star": _clean(meta["b_star"]),
        "w_gd": reference.meta["final"]["w"],
        "b_gd": _clean(reference.meta["final"]["b"]),
        "max_gap": max(abs(reference.meta["final"]["w"] - meta["w_star"]),
                       abs(reference.meta["final"]["b"] - meta["b_star"])),
        "run_where": (f"{len(runs)} runs of {meta['config']['steps']} steps on {run['device_name']} "
                      f"({run['device']}), torch {run['torch']}, "
                      f"{sum(t.meta.get('wall_time_s', 0.0) for t in runs):.2f} s of training in all"),
        "loss_star": meta["loss_star"],
        **one_step(runs),
        **curvature(meta),
    }


def runs_table(runs) -> Html:
    lambda_max = runs[0].meta["lambda_max"]
    return html_table(
        ["learning rate η", "η·λmax", "expected from the Hessian", "what the run did"],
        [(f"{t.meta['config']['learning_rate']:g}", f"{t.meta['config']['learning_rate'] * lambda_max:.2f}",
          t.meta["regime"], outcome(t)) for t in runs])
