"""Sentences the CartPole and CPU vs GPU chapters build from numbers: a zero, a missing value or another
CPU vendor must still give a true sentence. Made-up inputs only (no training, no timing): seconds."""
import math
from dataclasses import replace

import numpy as np
import pytest

from explainers.cartpole import facts as cartpole
from explainers.cartpole.runs import CartPoleRuns
from explainers.hardware import facts as hardware
from explainers.hardware import words as hardware_words
from explainers.hardware.runs import CPU, Bench
from explainers.timeline import Timeline

# --- CPU vs GPU: the CPU a peak is computed for ----------------------------------------------------

# FLOP/cycle reasons as explainers.hardware.peak writes them into a peak's source
AVX512 = "AVX-512: 16 fp32 lanes × 2 (FMA) × 2 FMA units (some Xeons have 1 unit: half)"
ZEN4 = "AVX-512 on AMD Zen 4: 512-bit ops run on 256-bit units, same as AVX2+FMA"
AVX2 = "AVX2+FMA: 8 fp32 lanes × 2 (FMA) × 2 FMA units (Intel Haswell+, AMD Zen 2+)"
SSE = "SSE: one 4-lane add and one 4-lane multiply per cycle"


def source(reason: str) -> str:
    return f"2 cores × 2.000 GHz × 64 float32 FLOP/cycle/core = 256.0 GFLOP/s. Clock: x. FLOP/cycle: {reason}."


def test_the_xeon_caveat_is_said_of_intel_cpus_only():
    intel = hardware.flops_reason(source(AVX512), "Intel(R) Xeon(R) Processor")
    assert "Xeons have only one such unit" in intel and intel.startswith("AVX-512: 16 fp32 lanes")
    for model in ("AMD EPYC 9555 64-Core Processor", "AMD EPYC", "unknown CPU", ""):
        reason = hardware.flops_reason(source(AVX512), model)
        assert "Xeon" not in reason and reason == "AVX-512: 16 fp32 lanes × 2 (FMA) × 2 FMA units"
    assert hardware.flops_reason(source(ZEN4), "AMD EPYC") == ZEN4
    fp64 = f"... = 32.0 GFLOP/s. Clock: x. FLOP/cycle: {AVX2}; fp64 has half the lanes."
    assert hardware.flops_reason(fp64, "AMD EPYC") == AVX2


@pytest.mark.parametrize("reason, name, lanes", [(AVX512, "AVX-512", 16), (ZEN4, "AVX-512", 16),
                                                 (AVX2, "AVX2", 8), (SSE, "SSE", 4)])
def test_the_register_width_is_read_from_the_peak_reason(reason, name, lanes):
    assert hardware.vector_set(reason) == {"name": name, "bits": 32 * lanes, "lanes": lanes}


def test_the_schedule_names_the_register_of_the_cpu_that_was_measured():
    avx512, avx2 = hardware.vector_set(AVX512), hardware.vector_set(AVX2)
    wide = hardware.schedule_label(8, 64, avx512)  # the animation's 8 lanes on a 16-lane CPU
    assert "this CPU's AVX-512 registers hold 16" in wide and "AVX2" not in wide
    assert hardware.schedule_label(8, 64, avx2) == ("8 at a time, as one 256-bit AVX2 register of this CPU "
                                                    "holds 8 float32")
    assert "AVX" not in hardware.schedule_label(8, 64, None)  # a reason that names no instruction set
    assert hardware.schedule_label(1, 64, avx512).startswith("serial")
    assert hardware.schedule_label(64, 64, avx512).startswith("all cells")


def test_counts_and_articles_agree_with_their_number():
    assert hardware_words.count_text(1, "core") == "1 core" and hardware_words.count_text(0, "core") == "0 cores"
    assert hardware_words.count_text(2, "step") == "2 steps"
    assert hardware_words.article("AMD EPYC") == "an" and hardware_words.article("Intel(R) Xeon(R)") == "an"
    assert hardware_words.article("Neoverse-N1") == "a"
    assert hardware_words.bytes_text(3 * 16384**2 * 2) == "1.61 GB" and hardware_words.bytes_text(0) == "0 bytes"
    assert hardware_words.cores_of(1, "Neoverse-N1") == "1 core of a Neoverse-N1"
    assert hardware_words.cores_of(16, "Intel(R) Xeon(R) Processor") == "16 cores of an Intel(R) Xeon(R) Processor"


def bench(cores: int, single: list[float], many: list[float]) -> Timeline:
    n = np.array([8, 16, 32])
    frames = {"n": n}
    for name, seconds in (("numpy_1thread", single), ("numpy_all_cores", many)):
        frames |= {f"{name}.measured": np.ones(3, bool), f"{name}.seconds": np.array(seconds),
                   f"{name}.gflops": 2.0 * n**3 / np.array(seconds) / 1e9, f"{name}.peak_fraction": np.zeros(3)}
    return Bench(Timeline(frames=frames), cpu=CPU(cores=cores))


def test_contention_note_is_true_for_one_core_two_cores_and_no_slowdown():
    assert "one core" in hardware.contention_note(bench(1, [1, 1, 1], [3, 3, 3]))
    calm = hardware.contention_note(bench(2, [1, 1, 1], [1, 1, 1]))
    assert calm == "NumPy on both cores was never much slower than on one thread here."
    busy = hardware.contention_note(bench(4, [1, 1, 1], [1, 2, 1]))
    assert busy.startswith("At 1 of the 3 sizes (n = 16) NumPy on all 4 cores took more than 1.5 times")


# --- CPU vs GPU: the recorded GPU run -------------------------------------------------------------

def gpu_run(bf16_copy_s: float = 0.65, fp32: bool = True, n_last: int = 16384) -> Timeline:
    """A made-up record: bf16 (and fp32) products timed alone and with copies, at two sizes."""
    n = np.array([1024, n_last])
    frames, series = {"n": n, "flops": 2.0 * n**3}, []
    times = {"torch_cuda_bf16": [1e-3, 0.0115], "torch_cuda_bf16_transfer": [5e-3, 0.0115 + bf16_copy_s]}
    if fp32:
        times |= {"torch_cuda_fp32": [2e-3, 0.163], "torch_cuda_fp32_transfer": [9e-3, 1.185]}
    for name, seconds in times.items():
        seconds = np.array(seconds)
        frames |= {f"{name}.measured": np.ones(2, bool), f"{name}.seconds": seconds,
                   f"{name}.gflops": 2.0 * n**3 / seconds / 1e9, f"{name}.peak_fraction": np.zeros(2)}
        series.append({"name": name, "label": name, "device": "cuda",
                       "dtype": "bfloat16" if "bf16" in name else "float32", "threads": None,
                       "peak_gflops": None})
    return Bench(Timeline(frames=frames), series=tuple(series), gpu_name="NVIDIA H200", recorded=True,
                 provenance={"date": "2026-11-26T00:00:00+00:00"}, measured_on="2026-11-26")


def test_copy_story_gives_the_bytes_moved_and_their_rate():
    story = hardware.copy_story(gpu_run())
    assert "1.61 GB (two inputs to the card, one result back) in 650 ms, an effective **2.5 GB/s**" in story
    assert "In fp32" in story and "copying was 86% of the time at that size" in story


def test_copy_story_without_copy_time_or_fp32_claims_neither():
    story = hardware.copy_story(gpu_run(bf16_copy_s=0.0, fp32=False))
    assert "no time that these timings can resolve" in story
    assert "%" not in story and "GB/s" not in story and "fp32" not in story
    assert "fp32" not in hardware.copy_story(gpu_run(fp32=False))
    assert hardware.copy_story(Bench(Timeline())).startswith("The recorded GPU run holds no")


def trainers(*pairs) -> Bench:
    """A made-up record holding the given (label, CPU seconds, GPU seconds) trainer timings."""
    runs = [{"name": label, "label": label, "cpu": {"median_s": cpu}, "cuda": {"median_s": gpu}}
            for label, cpu, gpu in pairs]
    runs.append({"name": "skipped", "label": "Skipped: needs gymnasium", "skipped": "needs gymnasium"})
    return Bench(Timeline(), gpu_name="Test GPU", trainers={"runs": runs})


def test_trainer_story_counts_both_ways_and_names_shared_chapters_apart():
    story = hardware.trainer_story(trainers(("Toy: the phase diagram", 3.0, 1.0), ("Toy: the star", 2.0, 1.0),
                                            ("Pole: an agent", 1.0, 2.0)))
    assert "faster than the CPU for **2 of the 3** trainers" in story and "by up to 3× (toy, the phase diagram)" in story
    assert "slower for 1." in story and "The worst case, pole, took 2 s on the GPU against 1 s" in story
    assert "skipped" not in story.lower()


def test_trainer_story_when_the_gpu_always_or_never_wins_or_ties():
    all_faster = hardware.trainer_story(trainers(("A: a", 2.0, 1.0), ("B: b", 4.0, 1.0)))
    assert "faster than the CPU for **all 2** trainers" in all_faster and "slower" not in all_faster
    all_slower = hardware.trainer_story(trainers(("A: a", 1.0, 2.0), ("B: b", 1.0, 4.0)))
    assert "slower than the CPU for **all 2** trainers" in all_slower and "faster" not in all_slower
    assert "The worst case, b, took 4 s" in all_slower
    tie = hardware.trainer_story(trainers(("A: a", 1.0, 1.0)))
    assert "exactly as fast as the CPU for the 1 trainer" in tie and "0 of" not in tie
    mixed = hardware.trainer_story(trainers(("A: a", 1.0, 1.0), ("B: b", 2.0, 1.0)))
    assert "1 trainer took the same time on both" in mixed
    assert "No recorded GPU run holds" in hardware.trainer_story(trainers())
    assert "No recorded GPU run holds" in hardware.trainer_story(None)


def test_tensor_story_says_faster_only_when_it_was():
    run = replace(gpu_run(), peaks={"cuda": {"float32": {"gflops": None}, "bfloat16": {"gflops": None}}})
    assert "faster** on the same chip" in hardware.tensor_story(run)
    run.timeline.frames["torch_cuda_bf16.gflops"] = run.timeline.frames["torch_cuda_fp32.gflops"] / 2
    slower = hardware.tensor_story(run)
    assert "faster**" not in slower and "no faster here (0.5× the fp32 rate)" in slower


# --- CartPole ------------------------------------------------------------------------------------

def cartpole_run(**meta) -> Timeline:
    """A made-up CartPole Timeline with everything ``facts`` reads; ``meta`` overrides its entries."""
    limit, grid = 0.2094, 5
    eval_theta = np.zeros((4, 501), np.float32)
    eval_theta[:, 1] = 0.3  # every recorded episode ends after 1 step, the pole past the limit
    base = {
        "limits": {"theta_threshold_radians": limit, "x_threshold": 2.4, "max_episode_steps": 500,
                   "reward_threshold": 475.0},
        "hyperparameters": {"optimizer": "Adam", "lr": 0.01, "gamma": 0.99, "hidden_layers": [64, 64],
                            "activation": "tanh", "episodes_per_update": 8},
        "config": {"seed": 0, "max_episodes": 1, "early_level": 50.0, "middle_level": 200.0},
        "checkpoints": ["untrained", "early", "middle", "final"],
        "checkpoint_rules": ["initial weights", "50 steps never reached", "200 steps never reached", "final"],
        "checkpoint_episodes": [0, 0, 0, 0], "checkpoint_updates": [0, 0, 0, 0],
        "solve_window": 100, "solved": False, "episodes_to_solve": None, "n_episodes": 1, "n_updates": 0,
        "final_average": 9.0, "train_wall_time_s": 0.1, "seconds_per_step": 0.02,
        "algorithm": "REINFORCE with a learned baseline", "eval": {"episodes": 1},
        "device": {"device": "cpu", "device_name": "Some CPU", "cpu_count": None, "torch_threads": 1},
        "versions": {"torch": "0", "gymnasium": "0"}, "grid": {"theta_dot": [-2.0, 2.0, grid]},
    }
    for key, value in meta.items():
        base[key] = base[key] | value if isinstance(value, dict) else value
    fixed = {"grid_theta": np.linspace(-limit, limit, grid), "grid_theta_dot": np.linspace(-2, 2, grid),
             "p_right": np.full((4, grid, grid), 0.5), "eval_length": np.ones(4, np.int32),
             "eval_x": np.zeros((4, 501), np.float32), "eval_theta": eval_theta,
             "eval_theta_dot": np.zeros((4, 501), np.float32), "eval_action": np.zeros((4, 500), np.int8),
             "eval_p_right": np.full((4, 500), 0.5, np.float32), "eval_lengths": np.ones((4, 1), np.int32)}
    frames = {"episode": np.arange(1), "reward": np.array([9]), "moving_average": np.array([9.0]),
              "update": np.zeros(1, np.int32)}
    return CartPoleRuns.from_timeline(Timeline(frames=frames, fixed=fixed, meta=base))


def text_of(numbers: dict) -> str:
    return " ".join(str(v) for v in numbers.values())


def test_one_episode_one_step_and_an_unknown_core_count_read_as_written():
    numbers = cartpole.facts(cartpole_run())
    text = text_of(numbers)
    assert "None" not in text and " 1 steps" not in text and "1 episodes" not in text
    assert "after 1 step (the pole fell past 12°)" in numbers["episodes_story"]
    assert "after 1 episode (the limit set for the build) its only episode scored 9.0" in numbers["outcome"]
    assert numbers["run_where"].startswith("1 training episode in 0.1 s on Some CPU (cpu, 1 torch thread)")


def test_a_solved_run_after_one_update_says_update():
    run = cartpole_run(solved=True, episodes_to_solve=100, n_episodes=100, n_updates=1)
    assert "It took 1 gradient update and" in cartpole.outcome(run)


@pytest.mark.parametrize("gamma, note", [
    (0.99, "a reward about 99 steps ahead counts $e^{-1}$"),
    (0.3, "a reward one step ahead already counts only 0.3 as much"),
    (0.0, "only the reward of the step itself counts"),
    (1.0, "no discount at all"),
])
def test_the_discount_sentence_is_true_for_any_gamma(gamma, note):
    numbers = cartpole.facts(cartpole_run(hyperparameters={"gamma": gamma}))
    assert note in numbers["discount_note"]
    dropped = numbers["discount_dropped"]
    if gamma < 1:
        assert f"$\\gamma^{{499}} \\approx$ {gamma ** 499:.2g} times as much" in dropped
        assert math.isfinite(numbers["horizon"])
    else:
        assert "changes nothing here" in dropped and numbers["horizon"] == math.inf
