"""How long the language-model chapters' shared stages and the real-model analysis take from scratch, and
what they measure.

    .venv/bin/python benchmarks/real_model.py            # a fresh, empty cache: the full cold build
    .venv/bin/python benchmarks/real_model.py --cached   # the book's cache: a warm rebuild

Prints each stage's time (corpus, model load, activations, SAE training, codes, and the analysis's parts),
tokens/s, the corpus by source, the process's peak memory, and the chapter's headline measures. The load
average is printed too: on a shared machine other jobs slow the wall clock down.
"""
import os
import resource
import sys
import tempfile
import time


def timed_stages(config):
    """Run the shared stages, then the analysis, in order: yields ``(name, seconds, result)`` for each."""
    from explainers.lm import stages
    from explainers.real_model import train

    for name, run in (("activations", lambda: stages.collect(config.activations)), ("SAE", lambda: stages.train(config)),
                      ("codes", lambda: stages.codes(config)), ("analysis", lambda: train.analyse(config))):
        started = time.perf_counter()
        result = run()
        yield name, time.perf_counter() - started, result


def main(cached: bool = False) -> None:
    if not cached:
        os.environ["EXPLAINERS_CACHE"] = tempfile.mkdtemp(prefix="real-model-bench-")
    from explainers.device import describe
    from explainers.lm import stages
    from explainers.real_model.facts import facts

    machine = describe()
    config = stages.book_config()
    print(f"{machine['device']} ({machine['device_name']}), {machine['cpu_count']} cores, torch {machine['torch']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    wall = time.perf_counter()
    stage = {name: (seconds, result) for name, seconds, result in timed_stages(config)}
    wall = time.perf_counter() - wall
    trained, analysis = stage["SAE"][1], stage["analysis"][1]
    collect = trained.meta["collect"]
    from explainers.real_model.runs import RealModelRuns
    from explainers.real_model.train import recorded

    found = facts(RealModelRuns.from_timelines(trained, analysis, recorded()))
    print(f"corpus ({collect['n_items']:,} items)   {collect['corpus_s']:8.1f} s   tokens by source: "
          + ", ".join(f"{k} {v:,}" for k, v in collect["tokens_by_source"].items()))
    print(f"model load                {collect['load_s']:8.1f} s")
    print(f"activations               {stage['activations'][0]:8.1f} s   {collect['tokens_per_s']:10,.0f} tokens/s "
          f"({collect['n_tokens']:,} tokens, {config.activations.layer} of {collect['n_layers']} blocks)")
    print(f"SAE training              {stage['SAE'][0]:8.1f} s   {trained.meta['tokens_per_s']:10,.0f} samples/s "
          f"({trained.meta['steps']} steps, {config.sae.d_sae} latents)")
    print(f"codes                     {stage['codes'][0]:8.1f} s")
    print(f"analysis                  {stage['analysis'][0]:8.1f} s   "
          + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in analysis.meta["times"].items()))
    print(f"chapter compute, total    {wall:8.1f} s   ({'cache' if cached else 'cold, empty cache'})")
    print(f"peak memory (max RSS)     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:8.2f} GB")
    print(f"L0 {found['l0']:.1f}   explained variance {found['explained_variance']:.3f}   "
          f"CE loss recovered {found['ce_loss_recovered']:.3f}   delta CE {found['delta_ce']:.3f} nats")
    print(f"detection, {found['n_concepts']} concepts: features {found['mean_feature_auc']:.3f}, neurons "
          f"{found['mean_neuron_auc']:.3f}; pool-matched ({found['matched_n']} each): features "
          f"{found['matched_feature']:.3f}, neurons {found['matched_neuron']:.3f}")
    print(f"explanation score, median: random features {found['median_random_feature']:.2f}, random neurons "
          f"{found['median_random_neuron']:.2f}, concept features {found['median_concept_feature']:.2f}, "
          f"concept neurons {found['median_concept_neuron']:.2f}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(cached="--cached" in sys.argv[1:])
