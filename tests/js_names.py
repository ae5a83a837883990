"""The free names of a chart's render script: what it reads without declaring, which ``bind`` must pass.

A small reader of the JavaScript the charts write (no regular-expression literals): strings and comments
are skipped, a template literal's ``${...}`` parts are read as code, and a name counts as declared
anywhere in the script once ``const``/``let``/``var``, a function's or an arrow's parameters, or
``catch`` name it (scopes are not told apart: a lenient reading, which can miss a name, never invent one).
"""
from __future__ import annotations

import re

WORDS = set("""async await break case catch class const continue default delete do else extends false finally
for function if in instanceof let new null of return switch this throw true try typeof undefined var void
while yield""".split())
GLOBALS = set("""Array Boolean Bokeh Date Error ExplainersPlayer Float32Array Float64Array Infinity Int8Array
Int16Array Int32Array JSON Map Math NaN Number Object Set String Uint8Array Uint8ClampedArray console
document isFinite isNaN parseFloat parseInt window""".split())
NAME = re.compile(r"[A-Za-z_$][\w$]*")
NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|\d[\d_]*(\.\d*)?([eE][-+]?\d+)?")


def _skip_quoted(code: str, i: int) -> int:
    quote, i = code[i], i + 1
    while code[i] != quote:
        i += 2 if code[i] == "\\" else 1
    return i + 1


def tokens(code: str) -> list[str]:
    """Names and punctuation, in order; strings, numbers and comments leave a placeholder or nothing."""
    out, i = [], 0
    while i < len(code):
        c = code[i]
        if code.startswith("//", i):
            end = code.find("\n", i)
            i = len(code) if end < 0 else end
        elif code.startswith("/*", i):
            i = code.index("*/", i) + 2
        elif c in "'\"":
            i = _skip_quoted(code, i)
            out.append("'")
        elif c == "`":
            i += 1
            while code[i] != "`":
                if code[i] == "\\":
                    i += 2
                elif code.startswith("${", i):
                    depth, j = 1, i + 2
                    while depth:
                        if code[j] in "'\"":
                            j = _skip_quoted(code, j)
                            continue
                        depth += {"{": 1, "}": -1}.get(code[j], 0)
                        j += 1
                    out += ["("] + tokens(code[i + 2:j - 1]) + [")"]
                    i = j
                else:
                    i += 1
            i += 1
            out.append("'")
        elif (found := NAME.match(code, i)) or (found := NUMBER.match(code, i)):
            out.append(found.group() if found.re is NAME else "0")
            i = found.end()
        else:
            if not c.isspace():
                out.append(c)
            i += 1
    return out


def _group(toks: list[str], start: int) -> tuple[list[str], int]:
    """The names inside the bracket that opens at ``start``, and the index just past its close."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    depth, names, i = 0, [], start
    while True:
        t = toks[i]
        depth += (t in pairs) - (t in pairs.values())
        if NAME.fullmatch(t):
            names.append(t)
        i += 1
        if depth == 0:
            return names, i


def _matching_open(toks: list[str], close: int) -> int:
    depth = 0
    for i in range(close, -1, -1):
        depth += (toks[i] in ")]}") - (toks[i] in "([{")
        if depth == 0:
            return i
    raise ValueError("unbalanced brackets")


def declared(toks: list[str]) -> set[str]:
    names = set()
    for i, t in enumerate(toks):
        if t in ("const", "let", "var"):  # every declarator up to the statement's end
            j, depth = i + 1, 0
            while j < len(toks) and not (depth == 0 and toks[j] in (";", "of", "in")):
                if depth == 0 and toks[j] in "[{" and toks[j - 1] in (t, ","):
                    group, j = _group(toks, j)
                    names.update(group)
                    continue
                if depth == 0 and NAME.fullmatch(toks[j]) and toks[j - 1] in (t, ","):
                    names.add(toks[j])
                depth += (toks[j] in "([{") - (toks[j] in ")]}")
                if depth < 0:
                    break
                j += 1
        elif t == "function" or t == "catch":
            j = i + 1
            if toks[j] != "(":
                names.add(toks[j])
                j += 1
            names.update(_group(toks, j)[0])
        elif t == "=" and i + 1 < len(toks) and toks[i + 1] == ">":  # an arrow's parameters
            before = toks[i - 1]
            if before == ")":
                names.update(n for n in toks[_matching_open(toks, i - 1):i] if NAME.fullmatch(n))
            elif NAME.fullmatch(before):
                names.add(before)
    return names - WORDS


def free_names(code: str) -> set[str]:
    """Names the code reads that it neither declares nor gets from JavaScript or the page."""
    toks = tokens(code)
    used = set()
    for i, t in enumerate(toks):
        if not NAME.fullmatch(t) or t in WORDS or t == "0":
            continue
        before = toks[i - 1] if i else ""
        spread = i >= 3 and toks[i - 3:i] == [".", ".", "."]
        if before == "." and not spread:
            continue  # a property
        if i + 1 < len(toks) and toks[i + 1] == ":" and before in ("{", ","):
            continue  # an object literal's key
        used.add(t)
    return used - declared(toks) - GLOBALS
