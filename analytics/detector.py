"""The hot-area test, pure (no database): is the count of one problem type in one grid over the last window
unusually high against that grid's own history?

Chosen: the exact conditional test of two Poisson rates (the "C-test"). Reports of one problem type in one
grid are rare, roughly independent arrivals, so their counts are close to Poisson. Under "no change", the
`count` reports of the current window and the `history_total` reports of the `history_windows` windows
before it are one Poisson stream, and given their sum n each report fell in the current window with
probability 1 / (history_windows + 1): the count is Binomial(n, p0). The window is hot when
P(X ≥ count) < alpha and the count reaches `min_count`. Unlike a test against an estimated mean (or a
rolling mean + k·sd, whose sd is often 0 at counts of 0–3 a window), it accounts for a baseline that is
itself a noisy estimate, so quiet grids are not alarmed by a lucky quiet history. Parameters live in
settings (ANALYTICS_HOTSPOT_*)."""
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HotspotTest:
    # The chance of a warning for one grid and type in one check when nothing changed. A district checks
    # thousands of grid-type pairs a day: 0.0001 keeps false alarms to a few a quarter (test_detector).
    alpha: float = 0.0001
    min_count: int = 3  # never fewer reports than this in the window


def binomial_upper_tail(count: int, n: int, p: float) -> float:
    """P(X ≥ count) for X ~ Binomial(n, p), summed in log space (stable for large n)."""
    if count <= 0:
        return 1.0
    if count > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for k in range(count, n + 1):
        total += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
    return min(1.0, total)


def p_value(count: int, history_total: int, history_windows: int) -> float:
    """The chance of `count` or more in the current window if its rate were the history's."""
    return binomial_upper_tail(count, count + history_total, 1.0 / (history_windows + 1))


def baseline_mean(history_total: int, history_windows: int) -> float:
    """The history's mean count per window (what readers compare the count with)."""
    return history_total / history_windows if history_windows > 0 else 0.0


def is_hot(count: int, history_total: int, history_windows: int, test: HotspotTest) -> tuple[bool, float]:
    """(hot, p-value) for a window's count against its history."""
    p = p_value(count, history_total, history_windows)
    return count >= test.min_count and p < test.alpha, p


def has_cooled(count: int, history_total: int, history_windows: int, test: HotspotTest) -> bool:
    """An open warning ends when its window's count is no longer remarkable (a little hysteresis: ten times
    the alarm level), so a count that wavers at the threshold does not raise it again and again."""
    return count < test.min_count or p_value(count, history_total, history_windows) >= min(1.0, test.alpha * 10)
