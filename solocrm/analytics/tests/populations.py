"""Generated customer bases for the model tests: the shapes that break CLV models.

Each population is a transactions frame (``customer``, ``date``, ``amount``) drawn from a
BG/NBD purchase process (Fader, Hardie & Lee 2005: Poisson purchases at a gamma-distributed
rate, and after each purchase a drop-out with a beta-distributed probability) with Gamma-Gamma
spend (Fader & Hardie 2013), with a fixed seed, so a failing test can be replayed exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

START = np.datetime64("2017-01-01")
YEAR_END = "2017-12-31"

Dropout = Callable[[np.random.Generator, int], np.ndarray]


def buy_till_you_die(
    customers: int,
    *,
    seed: int,
    rate_shape: float,
    rate_scale_days: float,
    days: int = 365,
    dropout: Dropout | None = None,
    spend_shape: float = 3.0,
    spend_q: float = 4.0,
    spend_gamma: float = 60.0,
) -> pd.DataFrame:
    """Transactions of ``customers`` who all exist from day 0 of a ``days``-long period.

    Purchase rates per day are ``Gamma(rate_shape, 1/rate_scale_days)``; every customer buys at
    least once (the first purchase is their "birth" in the summary); ``dropout(rng, n)`` gives
    each customer's drop-out probability after a purchase (``None``: nobody ever leaves). Spend
    per purchase is ``Gamma(spend_shape, nu)`` with ``nu ~ Gamma(spend_q, spend_gamma)``.
    """
    rng = np.random.default_rng(seed)
    rate = rng.gamma(rate_shape, 1.0 / rate_scale_days, customers)
    events = np.maximum(rng.poisson(rate * days), 1)
    owner = np.repeat(np.arange(customers), events)
    day = rng.integers(0, days, len(owner))
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    if dropout is not None:
        # Purchase number k (0 = the first) happens only if the customer survived the k before.
        rank = np.arange(len(owner)) - np.repeat(np.cumsum(events) - events, events)
        kept = rank <= rng.geometric(dropout(rng, customers))[owner] - 1
        owner, day = owner[kept], day[kept]
    nu = rng.gamma(spend_q, 1.0 / spend_gamma, customers)
    amount = np.round(rng.gamma(spend_shape, 1.0 / nu[owner]), 2)
    return pd.DataFrame({"customer": owner, "date": START + day.astype("timedelta64[D]"), "amount": amount})


def grocery(seed: int = 1, customers: int = 2469) -> pd.DataFrame:
    """The shop of issue 16: ~2,500 households, ~60 purchase days (~70 orders) each in one
    year, and almost nobody leaving (drop-out probabilities ``Beta(0.5, 2000)``, a mean of
    0.025 % per purchase). With this seed the fit of the code before the fix ran up the ridge
    to a = 1.5e4, b = 5.4e7 (days) and left every CLV NaN."""
    return buy_till_you_die(
        customers,
        seed=seed,
        rate_shape=1.4,
        rate_scale_days=6.5,
        dropout=lambda rng, n: rng.beta(0.5, 2000.0, n),
    )


def no_dropout(seed: int = 1, customers: int = 1500) -> pd.DataFrame:
    """Nobody ever leaves: a pure NBD population (moderate rates, ~9 purchases a year)."""
    return buy_till_you_die(customers, seed=seed, rate_shape=0.8, rate_scale_days=30.0)
