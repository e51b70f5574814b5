"""Summary statistics of evaluation episodes: success with a Wilson interval, mode counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

Z_95 = 1.959963984540054  # two-sided 95% standard-normal quantile


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion.

    With p = k/n: centre = (p + z^2/(2n)) / (1 + z^2/n),
    half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).
    Stays inside [0, 1] and is sensible at p = 0 or 1, unlike the Wald interval.
    """
    if trials < 1:
        raise ValueError(f"wilson_interval needs at least one trial, got trials={trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials={trials}], got {successes}")
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    # the interval contains p exactly; the min/max only remove rounding at k = 0 or k = n
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def mode_counts(modes: Iterable[str | None]) -> dict[str, int]:
    """Mode name -> number of episodes, most frequent first; episodes without a mode are left out."""
    return dict(Counter(m for m in modes if m is not None).most_common())
