"""What the steering chapter asks and how it reads the answers: plain Python, shared by the runs (torch)
and the chart (Bokeh)."""
from __future__ import annotations

import re

# Unrelated everyday requests, fixed before any run: none names a steered concept.
PROMPTS = (
    "What is your favourite food?",
    "Describe your ideal weekend.",
    "Give me advice for a job interview.",
    "What should I do on a rainy day?",
    "Tell me a short story.",
    "What is the best way to learn a language?",
    "Write one sentence about the future.",
    "How do I stay focused while working?",
    "What makes a good friend?",
    "Suggest a name for a new café.",
    "How should I spend a free afternoon?",
    "What is something you find beautiful?",
    "Give me a tip for cooking rice.",
    "What would you pack for a holiday?",
    "Describe the view from a window.",
    "What is a good gift for a teacher?",
)
# An answer "mentions" a concept when one of these matches (case-insensitive).
MENTIONS = {
    "golden_gate": r"golden gate|san francisco|\bbridges?\b",
    "dog": r"\b(dogs?|dogg\w*|pupp(y|ies)|canines?|leash\w*|woof\w*|bark(s|ed|ing)?)\b",
}
# The words a concept's feature should make the model say: its decoder direction, read through the
# unembedding, is scored by how much it raises them (the rule that picks the feature to clamp).
CONCEPT_WORDS = {
    "golden_gate": (" Golden", " Gate", " bridge", " Bridge", " San", " Francisco"),
    "dog": (" dog", " dogs", " puppy", " Dog"),
}
MIN_AUC = 0.9  # a steering feature must detect its concept at least this well on training sentences
METHODS = {"feature": "clamp the SAE feature", "direction": "add the mean-difference direction"}


def mentions(concept: str, text: str) -> bool:
    return re.search(MENTIONS[concept], text, flags=re.IGNORECASE) is not None
