"""The numbers the chapter quotes, read from the runs (never typed in)."""
from __future__ import annotations

import math

import numpy as np

from ..markup import Html, html_table


CONVERGED_WITHIN = 1e-4  # a run has reached the minimum once its loss is this close to the least-squares one


def converged_step(descent, loss_star: float, tolerance: float = CONVERGED_WITHIN) -> int | None:
    """The first step whose loss is within ``tolerance`` of the least-squares minimum."""
    gap = descent.loss[: descent.recorded_steps] - loss_star
    hits = np.flatnonzero(gap <= tolerance)
    return int(hits[0]) if len(hits) else None


def overshoots(descent, w_star: float) -> int:
    """How many steps jumped across the optimum in w (the sign of w - w* flipped)."""
    side = np.sign(descent.w[: descent.recorded_steps] - w_star)
    side = side[side != 0]
    return int(np.sum(side[1:] != side[:-1]))


def outcome(descent, runs) -> str:
    if descent.diverged_at is not None:
        return f"diverged at step {descent.diverged_at} (loss past {runs.diverge_factor:g}× its start)"
    done = converged_step(descent, runs.loss_star)
    flips = overshoots(descent, runs.w_star)
    crossing = f", crossing the optimum {flips} times" if flips else ""
    if done is None:
        return f"still descending after {runs.steps} steps (loss {descent.final_loss:.4f}){crossing}"
    return f"reached the minimum (within {CONVERGED_WITHIN:g}) at step {done}{crossing}"


def _clean(value: float, digits: int = 5) -> float:
    """Round away float noise such as -2e-16, which would print as "-0.00000"."""
    return round(value, digits) + 0.0


def one_step(runs) -> dict:
    """The run at η = 1/λmax: where its first step landed, against the least-squares minimum."""
    found = [d for d in runs.descents if d.regime == "one step"]
    if not found:
        raise ValueError("no run has η = 1/λmax; the chapter's one-step section needs one")
    d = found[0]
    w1, b1, loss1 = float(d.w[1]), float(d.b[1]), float(d.loss[1])
    return {
        "lr_one_step": d.learning_rate,
        "one_step_w1": w1, "one_step_b1": _clean(b1), "one_step_loss1": loss1,
        "one_step_gap": max(abs(w1 - runs.w_star), abs(b1 - runs.b_star)),
        "one_step_loss0": float(d.loss[0]),
    }


def curvature(runs) -> dict:
    """Condition numbers: standardized (1) against raw income, and what the raw one costs."""
    kappa = runs.raw_lambda_max / runs.raw_lambda_min
    shrink = 1.0 - 1.0 / kappa  # per step, along the flat direction, at η = 1/λmax
    return {
        "condition": runs.lambda_max / runs.lambda_min,
        "lambda_min": runs.lambda_min,
        "raw_mean": runs.raw_mean, "raw_std": runs.raw_std,
        "raw_lambda_max": runs.raw_lambda_max, "raw_lambda_min": runs.raw_lambda_min,
        "raw_condition": kappa, "raw_lr_diverge": 2.0 / runs.raw_lambda_max,
        "raw_flat_factor": shrink,
        "raw_steps_1pct": f"{math.ceil(math.log(0.01) / math.log(shrink)):,}",
    }


def facts(runs) -> dict:
    # the closed-form comparison uses the fastest run that converges without overshooting
    reference = max((d for d in runs.descents if d.regime == "converges"), key=lambda d: d.learning_rate)
    return {
        "n_samples": f"{runs.n_samples:,}",
        "n_runs": len(runs.descents),
        "w_start": runs.w_start,
        "b_start": runs.b_start,
        "lr_reference": reference.learning_rate,
        "corr_rooms": runs.correlations["AveRooms"],
        "corr_income": runs.correlations["MedInc"],
        "lambda_max": runs.lambda_max,
        "lr_overshoot": runs.lr_overshoot,
        "lr_diverge": runs.lr_diverge,
        "w_star": runs.w_star,
        "b_star": _clean(runs.b_star),
        "w_gd": reference.final_w,
        "b_gd": _clean(reference.final_b),
        "max_gap": max(abs(reference.final_w - runs.w_star), abs(reference.final_b - runs.b_star)),
        "run_where": (f"{len(runs.descents)} runs of {runs.steps} steps on {runs.device_name} "
                      f"({runs.device}), torch {runs.torch_version}, "
                      f"{runs.wall_time_s:.2f} s of training in all"),
        "loss_star": runs.loss_star,
        **one_step(runs),
        **curvature(runs),
    }


def runs_table(runs) -> Html:
    return html_table(
        ["learning rate η", "η·λmax", "expected from the Hessian", "what the run did"],
        [(f"{d.learning_rate:g}", f"{d.learning_rate * runs.lambda_max:.2f}", d.regime, outcome(d, runs))
         for d in runs.descents])
