"""Label values: bounded length, and distinct series when two entities share a display name."""

from __future__ import annotations

from collections import Counter

MAX_LABEL_LENGTH = 200


def label_value(value: object) -> str:
    """A label value of bounded length (prometheus_client escapes quotes, backslashes and newlines)."""
    text = "" if value is None else str(value)
    if len(text) > MAX_LABEL_LENGTH:
        text = text[: MAX_LABEL_LENGTH - 1] + "…"
    return text


def disambiguate(items: list[tuple[str, str, str]]) -> list[str]:
    """(display name, masked name, unique id) per entity -> display names that are unique.

    Two keys with the same alias (LiteLLM allows it) would otherwise produce duplicate series; they are told
    apart by appending the masked key name, and, if that still collides, a prefix of the hashed id.
    """
    names = [label_value(name) for name, _, _ in items]
    counts = Counter(names)
    out = []
    for name, (_, masked, uid) in zip(names, items):
        if counts[name] > 1:
            name = label_value(f"{name} ({masked})" if masked and masked != name else name)
        out.append(name)
    counts = Counter(out)
    return [label_value(f"{n} #{uid[:8]}") if counts[n] > 1 else n for n, (_, _, uid) in zip(out, items)]
