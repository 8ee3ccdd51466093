"""Request start times: sorted, spread over a window with a daily and weekly rhythm, generated lazily."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

HOUR_MS = 3_600_000


@dataclass
class Timing:
    """Where the rows go in time and how late they are written."""

    end_ms: int  # no row ends or is written after this
    hold_p: float = 0.0  # load: share of requests written late, after newer rows
    hold_ms: tuple[int, int] = (120_000, 3 * 3_600_000)
    back_p: float = 0.0  # append: share of rows started well before the window (by back_ms), written in it
    back_ms: tuple[int, int] = (600_000, 6 * 3_600_000)
    window_start_ms: int = 0  # append: the window start


def _weight(ms: int) -> float:
    """Relative traffic at an instant (UTC): busy working hours, quiet nights, calmer weekends."""
    hours = ms / HOUR_MS
    hour_of_day = hours % 24
    weekday = int((hours // 24 + 3) % 7)  # 1970-01-01 was a Thursday (3)
    day = 0.35 + 0.65 * max(0.0, math.sin(math.pi * (hour_of_day - 6) / 14)) if 6 <= hour_of_day <= 20 else 0.35
    return day * (0.55 if weekday >= 5 else 1.0)


def slot_counts(n: int, start_ms: int, end_ms: int) -> list[tuple[int, int, int]]:
    """(bucket start, bucket end, rows) per hour-sized bucket; the rows add up to n exactly."""
    span = max(1, end_ms - start_ms)
    buckets = max(1, math.ceil(span / HOUR_MS)) if span >= 2 * HOUR_MS else 1
    edges = [start_ms + span * i // buckets for i in range(buckets + 1)]
    weights = [_weight((a + b) // 2) * (b - a) for a, b in zip(edges, edges[1:])] if buckets > 1 else [1.0]
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    # largest remainders get the leftover rows (ties broken by position: deterministic)
    for i in sorted(range(buckets), key=lambda i: (counts[i] - exact[i], i))[: n - sum(counts)]:
        counts[i] += 1
    return [(a, b, c) for (a, b), c in zip(zip(edges, edges[1:]), counts)]


def slot_times(rng: random.Random, n: int, start_ms: int, end_ms: int) -> Iterator[int]:
    """n sorted start times in [start_ms, end_ms), then the window end forever (never reached in practice)."""
    rnd = rng.random
    for a, b, c in slot_counts(n, start_ms, end_ms):
        width = b - a
        yield from sorted(a + int(rnd() * width) for _ in range(c))
    while True:
        yield max(start_ms, end_ms - 1)
