"""The steering chapter's numbers and HTML pieces, read from the steering run and the recorded search."""
from __future__ import annotations

import html
import math
import re

from ..feature_browser.render import feature_link
from ..lm.shading import lm_html
from ..markup import Html, Markdown
from .words import (HELD_OUT, METHOD_NAMES, METHODS, MIN_MENTION, REPETITION_MARGIN, RETIRED_PROMPTS, STRENGTH_PROMPTS,
                    TRAINING, clearly_fluent, fluent, highlighted, reproduce_command, works)

NO_STRENGTH = ("no strength made an answer mention it while staying clearly fluent on the prompts the strength "
               "is chosen on, so none was chosen")
VARIANT_OF = {"feature": "combined", "direction": "combined direction"}  # a method's variant in a search record
RULE_NAMES = {"detection": "the best detector", "logit_lens": "the detector that writes the words (logit lens)",
              "output": "the largest output score, by intervention"}
EDIT_NAMES = {"clamp": "clamped inside the SAE, error kept", "add": "its decoder direction added"}
POSITION_NAMES = {"all": "every position", "answer": "the prompt's last position and the answer"}


def keyed(settings) -> dict:
    """Settings by (concept, method, strength)."""
    return {(s["concept"], s["method"], s["strength"]): s for s in settings}


def settings_by(runs) -> dict:
    return keyed(runs.settings)


def headline(runs, concept: str, method: str) -> dict | None:
    """The setting at the strength chosen before the held-out run, ``runs.chosen`` (None if none was)."""
    chosen = {(c, m): s for c, m, s in runs.chosen}
    strength = chosen.get((concept, method))
    return None if strength is None else settings_by(runs)[(concept, method, float(strength))]


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else "no answer"


def _range(pair, digits: int = 2, percent: bool = False) -> str:
    if percent:
        return f"{pair[0]:.0%}–{pair[1]:.0%}"
    return f"{_fmt(pair[0], digits)}–{_fmt(pair[1], digits)}"


def describe(s: dict, human: dict) -> str:
    """One setting's three measures with their 95 % intervals over prompts, and the verdict."""
    n = len(s["mentions"])
    verdict = "works" if works(s, human) else "does not work"
    return (f"{sum(s['mentions'])} of {n} answers mention it ({_range(s['mention_interval'], percent=True)}), "
            f"loss {_fmt(s['loss'])} ({_range(s['loss_interval'])}), repetition {_fmt(s['repetition'])} "
            f"({_range(s['repetition_interval'])}): by the rule it {verdict}")


def failed_bars(s: dict, human: dict) -> str:
    """Which of the rule's bars a setting missed, in words."""
    missed = []
    if s["mention_fraction"] < MIN_MENTION:
        missed.append(f"fewer than {MIN_MENTION:.0%} mention it")
    if not (math.isfinite(s["loss"]) and s["loss"] <= human["loss"]):
        missed.append(f"loss {_fmt(s['loss'])} above the human answers' {_fmt(human['loss'])}")
    if s["repetition"] > human["repetition"] + REPETITION_MARGIN:
        missed.append(f"repetition {_fmt(s['repetition'])} above the bar of {_fmt(human['repetition'] + REPETITION_MARGIN)}")
    return " (" + "; ".join(missed) + ")"


def verdict(runs, method: str) -> str:
    """What one method did on the held-out prompts, concept by concept, at the strengths the search chose."""
    human = runs.human
    parts = []
    for c in runs.concepts:
        s = headline(runs, c, method)
        name = runs.concept_names[c]
        if s is None:
            parts.append(f"for {name} {NO_STRENGTH}")
            continue
        said = f"{sum(s['mentions'])} of {len(s['mentions'])} held-out answers mentioned {name} at {s['strength']:g}×"
        if works(s, human):
            parts.append(f"for {name} it worked ({said})")
        else:
            parts.append(f"for {name} it did not ({said}{'; ' + failed_bars(s, human)[2:-1]})")
    return "; ".join(parts)


def example(runs) -> dict:
    """The answer to reproduce: the first headline setting that works (feature first), its first answer
    that mentions the concept; else the feature's headline setting for the first concept."""
    human = runs.human
    candidates = [headline(runs, c, m) for m in METHODS for c in runs.concepts]
    candidates = [s for s in candidates if s is not None]
    s = next((s for s in candidates if works(s, human)), None) or (candidates[0] if candidates else
                                                                    runs.settings[0])
    i = next((i for i, m in enumerate(s["mentions"]) if m), 0)
    return {"setting": s, "index": i, "prompt": runs.prompts[i][0], "text": s["texts"][i],
            "works": works(s, human)}


def recipe_text(recipe: dict) -> str:
    penalty = ("plain greedy decoding" if recipe["repetition_penalty"] == 1 else
               f"greedy decoding with a repetition penalty of {recipe['repetition_penalty']:g}")
    return (f"the feature chosen as {RULE_NAMES[recipe['rule']]}, {EDIT_NAMES[recipe['edit']]}, at "
            f"{POSITION_NAMES[recipe['positions']]}, {penalty}")


def example_block(runs, concepts: dict) -> Html:
    ex = example(runs)
    s = ex["setting"]
    feature = runs.features[s["concept"]]["feature"]
    what = (f"feature #{feature}, {EDIT_NAMES[runs.recipe['edit']]}, at {s['strength']:g} × its largest "
            f"activation" if s["method"] == "feature" else
            f"the mean-difference direction for {concepts[s['concept']]}, {s['strength']:g} × as long as the feature's step")
    command = reproduce_command(s["concept"], s["method"], s["strength"])
    rows = [("prompt (held out)", html.escape(ex["prompt"])),
            ("steering", html.escape(f"{what}, after block {runs.layer}")),
            ("decoding", html.escape(f"greedy, repetition penalty {runs.recipe['repetition_penalty']:g}, "
                                     f"at most {runs.max_new_tokens} new tokens")),
            ("answer", highlighted(s["concept"], ex["text"])),
            ("command", f"<code>{html.escape(command)}</code>")]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return lm_html(f"<table class='table lm-table'><tbody>{body}</tbody></table>")


def results_table(runs) -> Html:
    """Each concept and method at its headline strength, on the held-out prompts, against the rule."""
    human = runs.human
    rows = []
    for c in runs.concepts:
        for m in METHODS:
            s = headline(runs, c, m)
            if s is None:
                rows.append(f"<tr><td>{html.escape(runs.concept_names[c])}</td><td>{METHOD_NAMES[m]}</td>"
                            f"<td colspan='5'>{NO_STRENGTH}</td></tr>")
                continue
            cells = [f"{s['strength']:g}×",
                     f"{sum(s['mentions'])} of {len(s['mentions'])} ({_range(s['mention_interval'], percent=True)})",
                     f"{_fmt(s['loss'])} ({_range(s['loss_interval'])})",
                     f"{_fmt(s['repetition'])} ({_range(s['repetition_interval'])})",
                     "<strong>works</strong>" if works(s, human) else "fails"]
            rows.append(f"<tr><td>{html.escape(runs.concept_names[c])}</td><td>{METHOD_NAMES[m]}</td>"
                        + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    base = settings_by(runs)[(runs.concepts[0], "feature", 0.0)]
    for name, s in (("unsteered answers", base), ("human answers", human)):
        rows.append(f"<tr><td colspan='2'>{name}</td><td></td><td></td>"
                    f"<td>{_fmt(s['loss'])} ({_range(s['loss_interval'])})</td>"
                    f"<td>{_fmt(s['repetition'])} ({_range(s['repetition_interval'])})</td><td></td></tr>")
    head = ("<thead><tr><th>concept</th><th>method</th><th>strength (chosen on other prompts)</th>"
            "<th>answers that mention it (95 % interval)</th><th>loss, nats per token</th>"
            "<th>repetition</th><th>rule</th></tr></thead>")
    return lm_html(f"<div class='lm-scroll'><table class='table lm-table'>{head}<tbody>{''.join(rows)}</tbody></table></div>")


def search_table(record: dict) -> Html:
    """The recorded search: each variant's best fluent mention share per concept, and where it works."""
    concepts = list(next(iter(record["variants"].values()))["concepts"])
    rows = []
    for name, v in record["variants"].items():
        cells = []
        for c in concepts:
            r = v["concepts"][c]
            works_at = ", ".join(f"{s:g}×" for s in r["working_strengths"]) or "none"
            cells.append(f"#{r['feature']['feature']}" if v["method"] == "feature" else "—")
            cells.append(f"{r['score']:.0%}; works at {works_at}")
        rows.append(f"<tr><td>{html.escape(variant_name(name))}</td>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    p = record["provenance"]
    caption = (f"<p class='lm-meta'>Recorded on {html.escape(p['device_name'])} ({html.escape(p['device'])}), torch "
               f"{html.escape(p['torch'])}, transformers {html.escape(p['transformers'])}, {html.escape(p['date'][:10])}, "
               f"in {record['seconds'] / 60:.0f} minutes, {len(record['prompts'])} training prompts, strengths "
               f"{', '.join(f'{s:g}' for s in record['strengths'])}.</p>")
    head = "".join(f"<th>{c}: feature</th><th>{c}: most mentions while fluent</th>" for c in concepts)
    return lm_html(caption + f"<div class='lm-scroll'><table class='table lm-table'><thead><tr><th>variant</th>{head}"
                 f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


LEVEL_NAMES = {"rule": RULE_NAMES, "edit": {"clamp": "clamp", "add": "add the decoder direction"},
               "positions": {"all": "every position", "answer": "the answer's positions only"}}


def variant_name(name: str) -> str:
    """A search variant's name in words: ``rule = output`` -> ``feature rule: the largest output score ...``."""
    if " = " not in name:
        return {"start": "start (block 12, logit lens, clamp, every position, plain greedy)"}.get(name, name)
    factor, level = name.split(" = ")
    if factor == "repetition_penalty":
        return f"repetition penalty {level}"
    return f"{ {'rule': 'feature rule', 'edit': 'edit', 'positions': 'positions'}[factor]}: {LEVEL_NAMES[factor][level]}"


def search_summary(record: dict, names: dict | None = None) -> str:
    """Which single change moved the search's score, in words, from the record's numbers."""
    v = record["variants"]
    start = v["start"]["score"]
    changes = {name: r["score"] - start for name, r in v.items()
               if name not in ("start", "combined", "combined direction") and r["method"] == "feature"}
    ranked = sorted(changes.items(), key=lambda kv: -kv[1])
    names = names or {}
    parts = [f"{variant_name(name)} {'+' if d >= 0 else '−'}{abs(d) * 100:.0f}" for name, d in ranked]
    gain = ranked[0][1]
    tops = [variant_name(name) for name, d in ranked if d == gain]
    each = ", each on its own," if len(tops) > 1 else ","
    lead = (f"The {'changes' if len(tops) > 1 else 'change'} that mattered most: {' and '.join(tops)}{each} "
            f"{gain * 100:+.0f} points of fluent mentions (summed over the two concepts) against the starting "
            f"recipe's {start * 100:.0f}."
            if gain > 0 else f"No single change beat the starting recipe's {start * 100:.0f} points.")
    working = "; ".join(f"{names.get(c, c)} at {', '.join(f'{s:g}×' for s in r['working_strengths']) or 'no strength'}"
                        for c, r in v["combined"]["concepts"].items())
    combined = v["combined"]["score"]
    below = (f" (below the best single change, {(start + gain) * 100:.0f}: the two changes do not add up)"
             if combined < start + gain else "")
    return (f"{lead} Each change against the start: {'; '.join(parts)}. The combined recipe scored "
            f"{combined * 100:.0f}{below} and works for {working}; the mean-difference direction, at the "
            f"same layer and decoding, scored {v['combined direction']['score'] * 100:.0f}.")


def dose_table(record: dict) -> Html:
    """Each dose of bridge text: how much of the SAE's text it made, the feature the recipe picked, and
    how that feature steered on the held-out prompts at the strength chosen on the training prompts."""
    rows = []
    for r in record["runs"]:
        bridge = r["feature"]["training_tokens"] + r["extra_tokens"]
        h = r["held_out"]
        steer = (NO_STRENGTH if h is None else
                 f"{h['strength']:g}×: {sum(h['mentions'])} of {len(h['mentions'])} mention it, loss {_fmt(h['loss'])}, "
                 f"repetition {_fmt(h['repetition'])}")
        verdict = "—" if h is None else ("<strong>works</strong>" if h["works"] else "fails")
        rows.append(f"<tr><td>{r['extra_tokens']:,}</td><td>1 in {r['pool_tokens'] / bridge:,.0f}</td>"
                    f"<td>1 in {r['alive_features']:,}</td><td>#{r['feature']['feature']} (AUC "
                    f"{r['feature']['train_auc']:.2f})</td><td>{steer}</td><td>{verdict}</td></tr>")
    p = record["provenance"]
    caption = (f"<p class='lm-meta'>Recorded on {html.escape(p['device_name'])} ({html.escape(p['device'])}), torch "
               f"{html.escape(p['torch'])}, transformers {html.escape(p['transformers'])}, {html.escape(p['date'][:10])}, "
               f"in {record['seconds'] / 60:.0f} minutes.</p>")
    head = ("<thead><tr><th>extra bridge tokens</th><th>bridge tokens in the SAE's text</th>"
            "<th>1 / alive features</th><th>feature picked</th><th>held out, at the strength chosen on training prompts</th>"
            "<th>rule</th></tr></thead>")
    return lm_html(caption + f"<div class='lm-scroll'><table class='table lm-table'>{head}<tbody>{''.join(rows)}"
                 "</tbody></table></div>")


def dose_summary(record: dict) -> str:
    """What the doses did, from the record's numbers."""
    runs = record["runs"]
    base = runs[0]

    def one_in(r):
        return r["pool_tokens"] / (r["feature"]["training_tokens"] + r["extra_tokens"])

    frequency = (f"Without a dose, the written sentences about the bridge are 1 token in {one_in(base):,.0f} of the "
                 f"SAE's training text, and the dictionary has {base['alive_features']:,} live features: by that "
                 f"rule of thumb, a concept that frequent should already be likely to have a feature, and it has "
                 f"a detector (the chosen feature's training AUC is {base['feature']['train_auc']:.2f}).")
    first = next((r for r in runs if r["held_out"] and r["held_out"]["works"]), None)
    if first:
        return (f"{frequency} The first dose at which the recipe's feature worked on the held-out prompts was "
                f"{first['extra_tokens']:,} extra tokens (1 token in {one_in(first):,.0f}).")
    most = max(s["mention_fraction"] for r in runs for s in r["training"] if s["strength"] > 0)
    top = max(s["strength"] for s in runs[0]["training"])
    said = ("none of the training answers mentioned the bridge" if most == 0 else
            f"at most {most:.0%} of the training answers mentioned the bridge")
    aucs = [r["feature"]["train_auc"] for r in runs]
    detectors = (f" The chosen features' training AUCs across the doses, {', '.join(f'{a:.2f}' for a in aucs)}: "
                 f"detectors all, none a lever.")
    return (f"{frequency} But none of the doses, up to {runs[-1]['extra_tokens']:,} extra tokens (1 token in "
            f"{one_in(runs[-1]):,.0f} about the bridge), gave a feature that works by the rule: at every dose and "
            f"every strength up to {top:g}×, {said}.{detectors}")


def bridge_layers(record: dict, name: str) -> str:
    """How the bridge's mean-difference direction fared at the search's two layers (training prompts)."""
    v = record["variants"]
    early, late = v["mean-difference direction"], v["combined direction"]

    def said(variant):
        r = variant["concepts"]["golden_gate"]
        works_at = ", ".join(f"{s:g}×" for s in r["working_strengths"])
        return f"{r['score']:.0%} of answers mentioning it while fluent" + (f", working at {works_at}" if works_at else "")

    return (f"The layer matters for the bridge too, the other way round. On the training prompts, the "
            f"mean-difference direction toward {name} reached {said(early)} at block {early['layer']} with plain "
            f"greedy decoding; at block {late['layer']} with the book's decoding, {said(late)}. The search chose its "
            f"layer by the two concepts' sum, and the dog feature decided it.")


def bridge_result(runs) -> str:
    human = runs.human
    f = runs.features["golden_gate"]
    text = (f"The recipe's feature for the bridge is #{f['feature']} (training AUC {f['train_auc']:.2f}; its decoder "
            f"raises the bridge's words by {f['raises']:.1f} standard deviations of the vocabulary's logits; the most "
            f"any of the {runs.d_sae:,} features raises them, detector or not, is "
            f"{f['raises_most']:.1f}). The SAE read {f['training_tokens']:,} "
            f"tokens of written sentences about the bridge. ")
    bridge = headline(runs, "golden_gate", "feature")
    if bridge is not None:
        return text + (f"At {bridge['strength']:g}× it {'worked' if works(bridge, human) else 'did not work'} on the "
                       f"held-out prompts: {describe(bridge, human)}.")
    grid = [s for s in runs.settings if s["concept"] == "golden_gate" and s["method"] == "feature" and s["strength"] > 0]
    most = max(grid, key=lambda s: (s["mention_fraction"], -s["strength"]))
    held = (f"at most {sum(most['mentions'])} of {len(most['mentions'])} answers mention the bridge at any strength "
            f"on the chart (at {most['strength']:g}×, loss {_fmt(most['loss'])})" if most["mention_fraction"] else
            f"none of the {len(most['mentions'])} answers mentions the bridge at any strength on the chart")
    any_bridge = max(grid, key=lambda s: (_bridges(s), -s["strength"]))
    return text + (f"{NO_STRENGTH[0].upper()}{NO_STRENGTH[1:]}. On the held-out prompts, {held}. Counting any "
                   f"bridge, not only this one: at most {_bridges(any_bridge)} of {len(any_bridge['texts'])} answers "
                   f"say \"bridge\" (at {any_bridge['strength']:g}×). The real-model page tests this feature on "
                   f"sentences about other famous bridges.")


def _bridges(setting) -> int:
    """How many of a setting's answers name a bridge, any bridge."""
    return sum(bool(re.search(r"\bbridges?\b", t, re.IGNORECASE)) for t in setting["texts"])


def _curve(record: dict, concept: str, method: str) -> dict:
    """A search's or strength curves' settings for one concept and method of the combined recipe, by strength."""
    settings = record["variants"][VARIANT_OF[method]]["concepts"].get(concept, {}).get("settings", [])
    return {float(x["strength"]): x for x in settings}


def strength_table(runs) -> Html:
    """The strength curves the headline strengths are chosen on: per strength, each concept's and method's
    mentions and loss; the chosen strength in bold, a loss whose interval reaches into the people's in italics."""
    curves, names = runs.curves, runs.concept_names
    human, n = curves["human"], len(curves["prompts"])
    cols = [(c, m) for m in METHODS for c in curves["variants"][VARIANT_OF[m]]["concepts"]]
    chosen = {(c, m): s for c, m, s in runs.chosen}
    rows = []
    for x in curves["strengths"]:
        cells = []
        for c, m in cols:
            s = _curve(curves, c, m)[float(x)]
            text = f"{round(s['mention_fraction'] * n)} of {n} · {_fmt(s['loss'])}"
            text = text if clearly_fluent(s, human) else f"<em>{text}</em>"
            cells.append(f"<strong>{text}</strong>" if chosen.get((c, m)) == float(x) else text)
        rows.append(f"<tr><td>{x:g}×</td>" + "".join(f"<td>{t}</td>" for t in cells) + "</tr>")
    p = curves["provenance"]
    caption = (f"<p class='lm-meta'>Recorded on {html.escape(p['device_name'])} ({html.escape(p['device'])}), torch "
               f"{html.escape(p['torch'])}, transformers {html.escape(p['transformers'])}, {html.escape(p['date'][:10])}, "
               f"in {curves['seconds'] / 60:.0f} minutes, on {n} prompts. Each cell: the answers that mention the "
               f"concept · their loss in nats per token (the people's answers: {_fmt(human['loss'])}, "
               f"{_range(human['loss_interval'])}). Bold: the strength chosen; italics: a loss whose 95 % interval "
               f"reaches into the people's.</p>")
    head = "".join(f"<th>{html.escape(names.get(c, c))}: {METHOD_NAMES[m]}</th>" for c, m in cols)
    return lm_html(caption + f"<div class='lm-scroll'><table class='table lm-table'><thead><tr><th>strength</th>{head}"
                 f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


# The strength rule each retired held-out set tested, in the order of ``runs.RETIRED``, all on the 16
# training prompts.
RETIRED_RULES = ("the weakest strength that works on the training prompts",
                 "the most mentions among the strengths whose mean loss on the training prompts is at or below "
                 "the people's",
                 "the most mentions among the strengths whose loss interval on the training prompts lies wholly "
                 "at or below the people's")
ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _outcomes(run: dict, names: dict) -> str:
    """What a held-out run's chosen settings did: 'SAE feature toward dogs at 3×: 8 of 24, fails; …'."""
    by = keyed(run["settings"])
    parts = []
    for c, m, strength in run["config"]["chosen"]:
        s = by[(c, m, float(strength))]
        parts.append(f"{METHOD_NAMES[m]} toward {names.get(c, c)} at {strength:g}×: {sum(s['mentions'])} of "
                     f"{len(s['mentions'])}, {'works' if works(s, run['human']) else 'fails'}")
    return "; ".join(parts)


def _failed(run: dict, search: dict):
    """The retired run's chosen (concept, method, strength) that failed held out, with the search's
    training setting at that strength."""
    by = keyed(run["settings"])
    for c, m, strength in run["config"]["chosen"]:
        trained = _curve(search, c, m).get(float(strength))
        if trained is not None and not works(by[(c, m, float(strength))], run["human"]):
            yield c, m, float(strength), trained


def _coin_tosses(run: dict, search: dict, names: dict) -> list[str]:
    """Chosen settings that failed held out after passing the training bar with their loss's interval
    reaching into the people's: why the third rule asks for clear fluency."""
    human = search["human"]
    return [f"the {METHOD_NAMES[m]} toward {names.get(c, c)} had been chosen at {x:g}×, whose loss on the training "
            f"prompts, {_fmt(t['loss'])} ({_range(t['loss_interval'])}), was under the people's {_fmt(human['loss'])} "
            f"({_range(human['loss_interval'])}) with the two intervals overlapping (a coin toss on "
            f"{len(search['prompts'])} prompts)"
            for c, m, x, t in _failed(run, search) if fluent(t, human) and not clearly_fluent(t, human)]


def _ties(run: dict, search: dict, names: dict) -> list[str]:
    """Chosen settings that failed held out after a tie on the training prompts: why the strength is now
    chosen on more prompts."""
    human, n, out = search["human"], len(search["prompts"]), []
    for c, m, x, t in _failed(run, search):
        tied = [s for s, y in sorted(_curve(search, c, m).items())
                if s > 0 and clearly_fluent(y, human) and y["mention_fraction"] == t["mention_fraction"]]
        if len(tied) > 1:
            out.append(f"the {METHOD_NAMES[m]} toward {names.get(c, c)} mentioned it in "
                       f"{round(t['mention_fraction'] * n)} of {n} training answers at each of "
                       f"{', '.join(f'{s:g}×' for s in tied)}, and the tie went to the weakest, {x:g}× (too few "
                       f"answers to tell the strengths apart)")
    return out


WHY = {1: _coin_tosses, 2: _ties}  # what a retired set's failures showed, by its place in ``RETIRED_RULES``


def _earlier_sets(runs) -> str:
    """Said beside a verdict that a feature works: how many held-out sets came before, and what they gave."""
    earlier = runs.earlier_held_out

    def feature_passed(run) -> bool:
        by = keyed(run["settings"])
        return any(works(by[(c, m, float(x))], run["human"]) for c, m, x in run["config"]["chosen"] if m == "feature")

    if not earlier:
        return ""
    passed = sum(map(feature_passed, earlier))
    said = ("on none of the earlier ones did a feature pass at its chosen strength" if passed == 0 else
            f"a feature passed at its chosen strength on {passed} of the {len(earlier)} earlier ones")
    return (f" Read it with the history below: these are the {ORDINALS[len(earlier)]} held-out prompts the chapter "
            f"has been measured on, and {said}.")


def held_out_history(earlier: tuple, names: dict, search: dict | None = None) -> str:
    """How the strength rule came to be: what each retired rule did on its own held-out set (records)."""
    if not earlier:
        return ""
    parts = []
    for i, (rule, run) in enumerate(zip(RETIRED_RULES, earlier)):
        parts.append(f"The {ORDINALS[i]} set tested {rule} and gave: {_outcomes(run, names)}.")
        why = WHY[i](run, search, names) if search and i in WHY else []
        if why:
            parts.append(f"There {'; '.join(why)}.")
    files = ", ".join(f"{run['provenance']['date'][:10]}-…-{run['kind']}.json" for run in earlier)
    return (f"These are the {ORDINALS[len(earlier)]} held-out prompts. Each earlier set was written before any run "
            f"with it, used once and retired. {' '.join(parts)} So the strength is now chosen by the last rule on "
            f"the {len(TRAINING)} training prompts and the {len(RETIRED_PROMPTS)} retired ones together ({len(STRENGTH_PROMPTS)} "
            f"prompts, the table above), and these {len(HELD_OUT)} prompts were written before any run with them. "
            f"The earlier sets' answers are kept in the records {files}.")


def steer_source(provenance: dict | None) -> str:
    """Where the page's run comes from: a record this build matched, or this build."""
    if provenance is None:
        return ("The run is cached: a rebuild with nothing changed reads it back, and a change to its code or "
                "settings runs it again.")
    return (f"The run is the record {provenance['file']} ({provenance['date'][:10]}, `{provenance['command']}`). "
            "The build reads it because it was made from exactly this build's SAE and codes, the run's code and "
            "settings and the same torch and transformers (their fingerprint is in the record); a build that "
            "differs in any of them runs it again.")


def missed_strengths(runs) -> str:
    """Looked at afterwards, never a verdict: the held-out strengths at which a feature that failed at its
    chosen strength passes the rule, with what the training prompts measured at those strengths."""
    human, by, parts = runs.human, settings_by(runs), []
    search = runs.curves or runs.search
    for c in runs.concepts:
        chosen = headline(runs, c, "feature")
        if chosen is None or works(chosen, human):
            continue
        passing = [by[(c, "feature", float(x))] for x in runs.strengths
                   if x > 0 and works(by[(c, "feature", float(x))], human)]
        if not passing:
            continue
        name = runs.concept_names[c]
        held = ", ".join(f"{s['strength']:g}× ({sum(s['mentions'])} of {len(s['mentions'])}, loss {_fmt(s['loss'])})"
                         for s in passing)
        text = f"the feature toward {name} passes on the held-out prompts at {held}"
        at = _curve(search, c, "feature") if search else {}
        shown = [x for x in [*(float(s["strength"]) for s in passing), float(chosen["strength"])] if x in at]
        if len(shown) == len(passing) + 1:
            text += (f"; on the {len(search['prompts'])} prompts the strength was chosen on, those strengths had "
                     + ", ".join(f"{at[x]['mention_fraction']:.0%} mentions at loss {_fmt(at[x]['loss'])}" for x in shown[:-1])
                     + f", and the chosen {shown[-1]:g}× had {at[shown[-1]]['mention_fraction']:.0%} at loss "
                     f"{_fmt(at[shown[-1]]['loss'])}, against the people's {_fmt(search['human']['loss'])}")
        parts.append(text)
    if not parts:
        return ""
    return (" Looked at afterwards, which changes no verdict: " + "; ".join(parts) + ". The rule takes the "
            "strength from other prompts than these, and there the choice turned on a few answers.")


def facts(runs) -> dict:
    """The chapter's numbers and sentences, from its runs (``runs.SteeringRuns``; the records are optional)."""
    record, dose = runs.search, runs.dose
    concepts = runs.concept_names
    human = runs.human
    by = settings_by(runs)
    steered = runs.concepts
    base = by[(steered[0], "feature", 0.0)]
    out = {
        "n_prompts": len(runs.prompts), "max_new_tokens": runs.max_new_tokens,
        "strengths": ", ".join(f"{s:g}" for s in runs.strengths), "top_strength": f"{max(runs.strengths):g}",
        "layer": runs.layer, "n_layers": runs.n_layers, "depth": f"{runs.layer / runs.n_layers:.0%}",
        "n_generations": f"{runs.n_generations:,}",
        "feature_links": Markdown(", ".join(feature_link(f["feature"], f"feature {f['feature']} ({concepts[c]})")
                                            for c, f in runs.features.items())),
        "generation_s": f"{runs.generation_s:.0f}", "steer_total_s": f"{runs.total_s:.0f}",
        "d_sae": f"{runs.d_sae:,}", "median_norm": f"{runs.median_norm:.0f}",
        "recipe": recipe_text(runs.recipe),
        "baseline_loss": _fmt(base["loss"]), "baseline_loss_range": _range(base["loss_interval"]),
        "baseline_repetition": _fmt(base["repetition"]),
        "human_loss": _fmt(human["loss"]), "human_loss_range": _range(human["loss_interval"]),
        "human_repetition": _fmt(human["repetition"]), "repetition_bar": _fmt(human["repetition"] + REPETITION_MARGIN),
        "min_mention": f"{MIN_MENTION:.0%}", "repetition_margin": f"{REPETITION_MARGIN:g}",
        "steer_where": (f"{runs.device_name} ({runs.device}), torch {runs.torch_version}, "
                        f"transformers {runs.transformers_version}"),
        "steer_source": Markdown(steer_source(runs.recorded)),
    }
    for c in steered:
        f = runs.features[c]
        out |= {f"{c}_feature": f"#{f['feature']}", f"{c}_auc": f"{f['train_auc']:.3f}",
                f"{c}_raises": f"{f['raises']:.1f}", f"{c}_raises_most": f"{f['raises_most']:.1f}",
                f"{c}_training_tokens": f"{f['training_tokens']:,}", f"{c}_max": f"{f['max_activation']:.2f}",
                f"{c}_unit_norm": f"{f['unit_norm']:.0f}", f"{c}_cosine": f"{f['cosine']:.2f}",
                f"{c}_baseline_mentions": sum(by[(c, 'feature', 0.0)]["mentions"])}
        for m in METHODS:
            s = headline(runs, c, m)
            out[f"{c}_{m}_result"] = (describe(s, human) + f", at {s['strength']:g}×" if s else
                                      NO_STRENGTH)
            out[f"{c}_{m}_works"] = bool(s and works(s, human))
    out["feature_verdict"] = verdict(runs, "feature")
    out["direction_verdict"] = verdict(runs, "direction")
    worked = [(c, m) for c in steered for m in METHODS if out[f"{c}_{m}_works"]]
    out["worked"] = (", ".join(f"{METHOD_NAMES[m]} for {concepts[c]}" for c, m in worked) if worked else "none")
    worked = [(c, headline(runs, c, "feature")) for c in steered if out[f"{c}_feature_works"]]
    if worked:
        thin = [(c, s) for c, s in worked if s["mention_interval"][0] < MIN_MENTION]
        margin = "".join(f" The margin is thin for the feature toward {concepts[c]}: the 95 % interval of its mention share over "
                         f"prompts, {_range(s['mention_interval'], percent=True)}, reaches below {MIN_MENTION:.0%}."
                         for c, s in thin)
        out["headline_summary"] = (
            f"So an SAE feature, with its strength chosen on other prompts, steers the model toward "
            f"{' and '.join(concepts[c] for c, _ in worked)} on prompts it was never tuned on, at a loss no "
            f"higher than the people's answers get from the model.{margin}{_earlier_sets(runs)}")
    else:
        out["headline_summary"] = ("So on the held-out prompts no SAE feature steered by the rule: the measurements "
                                   "above say which bar each one missed." + missed_strengths(runs))
    if "golden_gate" in steered:
        out["bridge_result"] = bridge_result(runs)
    top = float(max(runs.strengths))
    out["top_loss"] = ", ".join(f"{concepts[c]} {METHOD_NAMES[m]} {_fmt(by[(c, m, top)]['loss'])}"
                                for c in steered for m in METHODS)
    ex = example(runs)
    out |= {"example_prompt": ex["prompt"], "example_strength": f"{ex['setting']['strength']:g}",
            "example_concept": concepts[ex["setting"]["concept"]],
            "example_method": METHOD_NAMES[ex["setting"]["method"]],
            "example_works": "works" if ex["works"] else "does not work"}
    if record:
        v = record["variants"]
        out |= {"search_minutes": f"{record['seconds'] / 60:.0f}", "search_prompts": len(record["prompts"]),
                "search_human_loss": _fmt(record["human"]["loss"]),
                "search_human_repetition": _fmt(record["human"]["repetition"]),
                "search_variants": len(v), "search_later_layer": v[[k for k in v if k.startswith("block")][0]]["layer"],
                "search_summary": search_summary(record, concepts)}
        if "golden_gate" in steered:
            out["bridge_layers"] = bridge_layers(record, concepts["golden_gate"])
    if runs.curves:
        h = runs.curves["human"]
        out |= {"curve_prompts": len(runs.curves["prompts"]), "curve_human_loss": _fmt(h["loss"]),
                "curve_human_range": _range(h["loss_interval"]), "retired_prompts": len(RETIRED_PROMPTS)}
    if dose:
        out["dose_summary"] = dose_summary(dose)
    out["held_out_history"] = held_out_history(runs.earlier_held_out, concepts, record)
    n_sets = len(runs.earlier_held_out) + 1
    out["held_out_set"] = (f"the {ORDINALS[n_sets - 1]} set of held-out prompts, each written before its run; the "
                           "steering page says what the earlier ones gave" if n_sets > 1 else "one set, written before the run")
    return out
