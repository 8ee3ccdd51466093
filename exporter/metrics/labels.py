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


def _suffixed(name: str, suffix: str) -> str:
    """name + suffix within MAX_LABEL_LENGTH: the name is shortened, never the suffix that tells it apart."""
    room = MAX_LABEL_LENGTH - len(suffix)
    return (name[: room - 1] + "…" if len(name) > room else name) + suffix


def disambiguate(items: list[tuple[str, str, str]]) -> list[str]:
    """(display name, masked name, unique id) per entity -> display names that are unique.

    Two keys with the same alias (LiteLLM allows it) would otherwise produce duplicate series; they are told
    apart by appending the masked key name, and, if that still collides, a prefix of the hashed id (then the
    whole id).
    """
    out = [label_value(name) for name, _, _ in items]
    rounds = (
        lambda name, masked, uid: f" ({masked})" if masked and masked != name else "",
        lambda name, masked, uid: f" #{uid[:8]}",
        lambda name, masked, uid: f" #{uid}",
    )
    for suffix in rounds:
        counts = Counter(out)
        out = [_suffixed(n, suffix(n, masked, uid)) if counts[n] > 1 else n for n, (_, masked, uid) in zip(out, items)]
    return out
