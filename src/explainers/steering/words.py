"""What the steering chapter asks, how it reads the answers, and when a setting counts as working: plain
Python, shared by the runs (torch) and the chart (Bokeh). Everything here was fixed before any steered
answer was generated."""
from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

PROMPTS_FILE = Path(__file__).resolve().parent / "data" / "prompts.json"


def _prompts(split: str) -> tuple[tuple[str, str], ...]:
    return tuple((prompt, human) for prompt, human in json.loads(PROMPTS_FILE.read_text())[split])


# Everyday requests, none naming a steered concept, each with one answer written by a person. The
# training prompts choose the recipe; the held-out ones measure what the page reports.
TRAINING = _prompts("training")
HELD_OUT = _prompts("held_out")
# Each used once, to test an earlier strength rule, and retired (``data/prompts.json`` says which).
RETIRED_SETS = ("first", "second", "third")
RETIRED_HELD_OUT = tuple(_prompts(f"{n}_held_out") for n in RETIRED_SETS)
RETIRED_PROMPTS = sum(RETIRED_HELD_OUT, ())
# The strength is chosen on every prompt already used: 16 prompts could not tell strengths apart.
STRENGTH_PROMPTS = TRAINING + RETIRED_PROMPTS

# An answer "mentions" a concept when one of these matches (case-insensitive). "Bridge" alone is not the
# Golden Gate Bridge.
MENTIONS = {
    "golden_gate": r"golden gate|san francisco",
    "dog": r"\b(dogs?|dogg\w*|pupp(y|ies)|canines?|leash\w*|woof\w*|bark(s|ed|ing)?)\b",
}
# The words a concept's feature should make the model say: read through the unembedding (logit lens) or
# measured by intervention (output score), they pick the feature to steer with.
CONCEPT_WORDS = {
    "golden_gate": (" Golden", " Gate", " bridge", " Bridge", " San", " Francisco"),
    "dog": (" dog", " dogs", " puppy", " Dog"),
}
MIN_AUC = 0.9  # the logit-lens rule looks among features that detect the concept at least this well
METHODS = {"feature": "steer with the SAE feature", "direction": "add the mean-difference direction"}
METHOD_NAMES = {"feature": "SAE feature", "direction": "mean-difference direction"}

# The rule: a setting works when at least half of the answers mention the concept, the unsteered model
# finds them no less likely than the human answers to the same prompts, and they repeat themselves at most
# a little more than the human answers do.
MIN_MENTION = 0.5
REPETITION_MARGIN = 0.1


def mentions(concept: str, text: str) -> bool:
    return re.search(MENTIONS[concept], text, flags=re.IGNORECASE) is not None


def fluent(setting: dict, human: dict) -> bool:
    """As fluent as people writing: loss at or below the human answers', repetition within the margin."""
    return (math.isfinite(setting["loss"]) and setting["loss"] <= human["loss"]
            and setting["repetition"] <= human["repetition"] + REPETITION_MARGIN)


def clearly_fluent(setting: dict, human: dict) -> bool:
    """Fluent with room to spare: the loss's 95 % interval lies wholly at or below the people's (the two do
    not overlap), and the repetition is within the margin. A mean loss under the people's by a few
    hundredths, on 16 prompts, passes by chance."""
    return (setting["loss_interval"][1] <= human["loss_interval"][0]
            and setting["repetition"] <= human["repetition"] + REPETITION_MARGIN)


def works(setting: dict, human: dict) -> bool:
    return setting["mention_fraction"] >= MIN_MENTION and fluent(setting, human)


def steering_score(settings: list[dict], human: dict) -> float:
    """The most mentions at any strength that stays fluent (0 when none does): what the search ranks by."""
    return max((s["mention_fraction"] for s in settings if s["strength"] > 0 and fluent(s, human)), default=0.0)


def headline_strength(settings: list[dict], human: dict) -> float | None:
    """The strength the chapter reports, chosen on the training prompts: the most mentions among the
    strengths that are clearly fluent (the weakest on a tie); None when no such strength makes any answer
    mention the concept. The held-out verdict is still ``works``: this margin only keeps the choice away
    from strengths whose fluency on the training prompts is a coin toss."""
    fluent_ones = [s for s in settings if s["strength"] > 0 and clearly_fluent(s, human) and s["mention_fraction"] > 0]
    if not fluent_ones:
        return None
    return max(fluent_ones, key=lambda s: (s["mention_fraction"], -s["strength"]))["strength"]


def highlighted(concept: str, text: str) -> str:
    """The answer, escaped, with every match of the concept's mention pattern marked. A character cut in
    half by the token limit (decoded as U+FFFD) is dropped: it has no glyph to show."""
    text = text.replace("\ufffd", "")
    out, last = [], 0
    for match in re.finditer(MENTIONS[concept], text, flags=re.IGNORECASE):
        out += [html.escape(text[last:match.start()]), f"<mark>{html.escape(match.group(0))}</mark>"]
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", " ↵ ")


def reproduce_command(concept: str, method: str, strength: float) -> str:
    return f"python -m explainers steer {concept} {method} {strength:g}"
