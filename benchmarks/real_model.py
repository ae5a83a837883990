"""How long the real-model chapter takes to compute from scratch, and what it measures.

    .venv/bin/python benchmarks/real_model.py            # a fresh, empty cache: the full cold build
    .venv/bin/python benchmarks/real_model.py --cached   # the book's cache: a warm rebuild

Prints tokens/s for activation collection and SAE training, the chapter's total compute time, the
process's peak memory, and the SAE's final L0, explained variance and CE loss recovered. The load average
is printed too: on a shared machine other jobs slow the wall clock down.
"""
import os
import resource
import sys
import tempfile
import time


def main(cached: bool = False) -> None:
    if not cached:
        os.environ["EXPLAINERS_CACHE"] = tempfile.mkdtemp(prefix="real-model-bench-")
    from explainers.device import describe
    from explainers.lm.analysis import book_run
    from explainers.lm.train import book_config

    machine = describe()
    config = book_config()
    print(f"{machine['device']} ({machine['device_name']}), {machine['cpu_count']} cores, torch {machine['torch']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"config: {config.activations.general_tokens:,} general-text tokens, SAE {config.sae.d_sae} latents, "
          f"k={config.sae.k}, {config.sae.training_tokens:,} training samples")
    wall, cpu = time.perf_counter(), time.process_time()
    trained, analysis = book_run(config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    collect, metrics = trained.meta["collect"], analysis.meta["metrics"]
    print(f"model load                {collect['load_s']:8.1f} s")
    print(f"activation collection     {collect['collect_s']:8.1f} s   {collect['tokens_per_s']:10,.0f} tokens/s "
          f"({trained.meta['n_tokens']:,} tokens, {config.activations.layer} of {collect['n_layers']} blocks)")
    print(f"SAE training              {trained.meta['train_s']:8.1f} s   {trained.meta['tokens_per_s']:10,.0f} tokens/s "
          f"({trained.meta['steps']} steps)")
    print(f"analysis (incl. reload)   {analysis.meta['analysis_s']:8.1f} s   spliced loss {analysis.meta['loss_s']:.1f} s")
    print(f"chapter compute, total    {wall:8.1f} s   cpu {cpu:.1f} s   ({'cache' if cached else 'cold, empty cache'})")
    print(f"peak memory (max RSS)     {peak_gb:8.2f} GB")
    print(f"L0 {metrics['l0']:.1f}   explained variance {metrics['explained_variance']:.3f}   "
          f"CE loss recovered {metrics['ce_loss_recovered']:.3f}   dead {metrics['dead_fraction']:.1%}   "
          f"dense {metrics['dense_fraction']:.1%}")
    table = analysis.meta["table"]
    wins = sum(r["feature_auc"] > r["neuron_auc"] for r in table)
    print(f"held-out AUC, mean over {len(table)} concepts: neurons "
          f"{sum(r['neuron_auc'] for r in table) / len(table):.3f}, features "
          f"{sum(r['feature_auc'] for r in table) / len(table):.3f}; feature better on {wins}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(cached="--cached" in sys.argv[1:])
