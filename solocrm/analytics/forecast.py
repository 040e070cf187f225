"""Monthly revenue forecast with prediction intervals, and an honest backtest.

Django-free: pandas in, pandas out. The model is an exponential-smoothing state space model
(ETS) from statsmodels, chosen among a small family by AICc as in Hyndman & Athanasopoulos
(FPP3, ch. 8). The backtest compares it with the seasonal naive forecast ("same month last
year") on rolling origins, so the owner can see whether the model is worth trusting.

References
----------
.. [1] Hyndman, R. J., Koehler, A. B., Ord, J. K. & Snyder, R. D. (2008). *Forecasting with
   Exponential Smoothing: The State Space Approach*. Springer.
.. [2] Hyndman, R. J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*,
   3rd ed., OTexts, ch. 5.8 (accuracy, time-series cross-validation) and ch. 8 (ETS).
   https://otexts.com/fpp3/
.. [3] Hyndman, R. J. & Koehler, A. B. (2006). Another look at measures of forecast accuracy.
   *International Journal of Forecasting* 22(4), 679-688.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MIN_MONTHS",
    "ForecastError",
    "ForecastResult",
    "backtest",
    "forecast_revenue",
    "mape",
    "monthly_revenue",
    "seasonal_naive",
    "select_by_backtest",
]

#: Fewer months than this and no forecast is attempted.
MIN_MONTHS = 6
#: Months of history needed before a trend is considered (a trend from 6 points is noise).
MIN_MONTHS_TREND = 10
_SIM_REPETITIONS = 2000


class ForecastError(ValueError):
    """The series cannot be forecast (too short, empty, not numeric)."""


@dataclass(frozen=True)
class _Spec:
    """One ETS specification in the (Error, Trend, Seasonal) taxonomy of [1]."""

    error: str  # "add" | "mul"
    trend: str | None  # None | "add"
    damped: bool
    seasonal: str | None  # None | "add" | "mul"

    @property
    def name(self) -> str:
        letter = {None: "N", "add": "A", "mul": "M"}
        trend = letter[self.trend] + ("d" if self.damped else "")
        return f"ETS({letter[self.error]},{trend},{letter[self.seasonal]})"

    @classmethod
    def parse(cls, code: str) -> _Spec:
        """Parse an R-style code such as ``"MAdM"`` or ``"ANN"``."""
        word = {"N": None, "A": "add", "M": "mul"}
        text = code.strip().upper().replace("D", "d")
        damped = "d" in text
        text = text.replace("d", "")
        if len(text) != 3 or any(c not in word for c in text) or text[0] == "N" or text[1] == "M":
            raise ValueError(f"Unknown ETS model code {code!r}; use e.g. 'ANN', 'AAdN', 'MAM'.")
        if damped and text[1] == "N":
            raise ValueError(f"ETS model {code!r} damps a trend it does not have.")
        return cls(word[text[0]], word[text[1]], damped, word[text[2]])


@dataclass
class ForecastResult:
    """A fitted revenue forecast.

    Attributes
    ----------
    forecast : pandas.DataFrame
        One row per future month (month-start timestamps): ``mean`` and, for every level,
        ``lower_80``/``upper_80`` style columns. Never negative (see :func:`forecast_revenue`).
    model : str
        The chosen model, e.g. ``"ETS(M,Ad,M)"``.
    params : dict
        Smoothing parameters and initial states of the chosen model.
    aicc : float
        AICc of the chosen model.
    candidates : dict
        AICc of every model that was tried (``nan`` when the fit failed).
    n_months : int
        Length of the history used.
    clipped : bool
        Whether any mean or bound was raised to zero.
    """

    forecast: pd.DataFrame
    model: str
    params: dict[str, float]
    aicc: float
    candidates: dict[str, float]
    n_months: int
    clipped: bool
    levels: tuple[float, ...] = field(default=(0.80, 0.95))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: model, parameters, AICc of all candidates and the forecast."""
        rows = self.forecast.reset_index(names="month")
        rows["month"] = rows["month"].dt.strftime("%Y-%m")
        return {
            "model": self.model,
            "params": {k: _finite_or_none(v) for k, v in self.params.items()},
            "aicc": _finite_or_none(self.aicc),
            "candidates": {k: _finite_or_none(v) for k, v in self.candidates.items()},
            "n_months": self.n_months,
            "clipped": self.clipped,
            "levels": list(self.levels),
            "forecast": rows.to_dict(orient="records"),
        }


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- input


def monthly_revenue(dates: Sequence[Any] | pd.Series, amounts: Sequence[float] | pd.Series) -> pd.Series:
    """Sum amounts per calendar month, on a complete month index.

    Parameters
    ----------
    dates : array-like of date-like
        Order dates (timezone-aware values are converted to UTC first).
    amounts : array-like of float
        Order amounts in one currency; refunds may be negative.

    Returns
    -------
    pandas.Series
        Revenue per month, indexed by month-start timestamps (``freq="MS"``) from the first to
        the last month with an order; months without orders are 0.

    Raises
    ------
    ValueError
        Empty input, different lengths, missing dates or amounts.

    References
    ----------
    .. [1] Hyndman & Athanasopoulos (2021), FPP3 ch. 2.1: a time series needs a regular index;
       gaps must be explicit, otherwise every seasonal lag is wrong.
    """
    when, value = _check_pairs(dates, amounts)
    months = when.dt.to_period("M")
    totals = value.groupby(months.to_numpy()).sum()
    full = pd.period_range(totals.index.min(), totals.index.max(), freq="M")
    series = totals.reindex(full, fill_value=0.0).astype(float)
    series.index = full.to_timestamp(how="start")
    series.index.freq = "MS"
    series.name = "revenue"
    return series


def _check_pairs(dates: Any, amounts: Any) -> tuple[pd.Series, pd.Series]:
    when = _to_utc_naive(dates)
    value = pd.Series(pd.to_numeric(pd.Series(amounts), errors="coerce"), dtype=float)
    if len(when) == 0:
        raise ValueError("No orders: dates and amounts are empty.")
    if len(when) != len(value):
        raise ValueError(f"dates has {len(when)} values but amounts has {len(value)}.")
    if when.isna().any():
        raise ValueError(f"{int(when.isna().sum())} dates are missing or not dates.")
    if not np.isfinite(value.to_numpy()).all():
        raise ValueError("Some amounts are missing, infinite or not numbers.")
    return when.reset_index(drop=True), value.reset_index(drop=True)


def _to_utc_naive(values: Any) -> pd.Series:
    """Parse dates (mixed string formats too) to naive UTC timestamps; bad values become NaT."""
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(None)


def _check_series(series: pd.Series, *, min_len: int = MIN_MONTHS) -> pd.Series:
    if not isinstance(series, pd.Series):
        series = pd.Series(series, dtype=float)
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if len(values) == 0:
        raise ForecastError("The revenue series is empty; record some orders first.")
    if values.isna().any() or not np.isfinite(values.to_numpy()).all():
        raise ForecastError("The revenue series has missing or infinite months; use monthly_revenue().")
    if len(values) < min_len:
        raise ForecastError(
            f"Only {len(values)} months of revenue; a forecast needs at least {min_len} months of history."
        )
    if isinstance(values.index, pd.DatetimeIndex) and values.index.freq is None and len(values) > 2:
        inferred = pd.infer_freq(values.index)
        if inferred is None:
            raise ForecastError("The series index is not a regular monthly index; use monthly_revenue().")
        values.index.freq = inferred
    return values


# --------------------------------------------------------------------------- model choice


def _candidates(y: np.ndarray, seasonal_periods: int) -> list[_Spec]:
    """The models worth trying for this much history.

    Additive-error models with multiplicative seasonality are left out, as R's ``ets`` does
    with ``restrict=TRUE``: they are numerically unstable ([2], ch. 8.6). Multiplicative errors
    and seasonality need strictly positive data, so a month with zero revenue rules them out.
    """
    n = len(y)
    positive = bool((y > 0).all())
    trends = [(None, False)]
    if n >= MIN_MONTHS_TREND:
        trends += [("add", True), ("add", False)]
    seasonals: list[str | None] = [None]
    if seasonal_periods > 1 and n >= 2 * seasonal_periods:
        seasonals += ["add", "mul"] if positive else ["add"]
    specs = []
    for trend, damped in trends:
        for seasonal in seasonals:
            if seasonal != "mul":
                specs.append(_Spec("add", trend, damped, seasonal))
            if positive and seasonal != "add":
                specs.append(_Spec("mul", trend, damped, seasonal))
    return specs


def _fit(series: pd.Series, spec: _Spec, seasonal_periods: int) -> Any:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        series,
        error=spec.error,
        trend=spec.trend,
        damped_trend=spec.damped,
        seasonal=spec.seasonal,
        seasonal_periods=seasonal_periods if spec.seasonal else None,
    )
    with warnings.catch_warnings():
        # Convergence chatter is expected on short series; the AICc comparison handles it.
        warnings.simplefilter("ignore")
        return model.fit(disp=False)


def _select(series: pd.Series, seasonal_periods: int, model: str | None) -> tuple[Any, _Spec, dict]:
    specs = [_Spec.parse(model)] if model else _candidates(series.to_numpy(), seasonal_periods)
    scores: dict[str, float] = {}
    best: tuple[float, Any, _Spec] | None = None
    for spec in specs:  # a dozen models at most, not a loop over data
        try:
            fitted = _fit(series, spec, seasonal_periods)
            score = float(fitted.aicc)
        except (ValueError, RuntimeError, np.linalg.LinAlgError, ZeroDivisionError):
            score, fitted = float("nan"), None
        scores[spec.name] = score
        if fitted is not None and math.isfinite(score) and (best is None or score < best[0]):
            best = (score, fitted, spec)
    if best is None:
        raise ForecastError("No exponential smoothing model could be fitted to this series.")
    return best[1], best[2], scores


# --------------------------------------------------------------------------- forecast


def forecast_revenue(
    series: pd.Series,
    *,
    horizon: int = 12,
    levels: Sequence[float] = (0.80, 0.95),
    model: str | None = None,
    seasonal_periods: int = 12,
    random_state: int = 0,
) -> ForecastResult:
    """Forecast monthly revenue ``horizon`` months ahead with prediction intervals.

    The model is chosen by AICc among ETS models ([1], [2] ch. 8.6):

    * fewer than 10 months: level only, ETS(A,N,N) / ETS(M,N,N);
    * 10 months or more: also additive and damped additive trend;
    * at least two full years (``2 * seasonal_periods``): also additive seasonality and, with
      multiplicative errors, multiplicative seasonality.

    Multiplicative models are only tried when every month is positive; additive-error
    models with multiplicative seasonality are never tried (unstable, as in R's ``ets``).

    Parameters
    ----------
    series : pandas.Series
        Monthly revenue on a complete index, e.g. from :func:`monthly_revenue`.
    horizon : int, default 12
        Months to forecast (1-36).
    levels : sequence of float, default (0.80, 0.95)
        Coverage of the prediction intervals.
    model : str, optional
        Force one model with an R-style code (``"AAdA"``, ``"MAM"``…) instead of choosing.
    seasonal_periods : int, default 12
        Season length; 12 for monthly data (4 for quarterly data).
    random_state : int, default 0
        Seed of the simulation used for intervals of multiplicative models.

    Returns
    -------
    ForecastResult

    Raises
    ------
    ForecastError
        Fewer than 6 months, missing months, or no model could be fitted.

    Notes
    -----
    Intervals of additive-error models are analytic ([1], ch. 6, Table 6.1); those of
    multiplicative models are quantiles of 2,000 simulated sample paths. Revenue cannot be
    negative, but a Gaussian additive model does not know that: any mean or bound below zero
    is raised to 0 and ``clipped`` is set. Clipping a lower bound keeps the interval's
    coverage (no revenue is lost below zero); clipping the mean makes it a biased point
    forecast in months where the model expects decline to zero, which is reported.

    References
    ----------
    .. [1] Hyndman, Koehler, Ord & Snyder (2008), *Forecasting with Exponential Smoothing*.
    .. [2] Hyndman & Athanasopoulos (2021), *Forecasting: Principles and Practice*, 3rd ed.,
       ch. 8.5-8.7.
    """
    _check_horizon(horizon, levels)
    y = _check_series(series)
    fitted, spec, scores = _select(y, seasonal_periods, model)
    frame = _prediction_frame(fitted, len(y), horizon, levels, random_state)
    clipped = bool((frame < 0).to_numpy().any())
    frame = frame.clip(lower=0.0)
    frame.index = _future_index(y, horizon)
    return ForecastResult(
        forecast=frame,
        model=spec.name,
        params={str(k): float(v) for k, v in zip(fitted.param_names, fitted.params, strict=True)},
        aicc=float(fitted.aicc),
        candidates=scores,
        n_months=len(y),
        clipped=clipped,
        levels=tuple(float(level) for level in levels),
    )


def _check_horizon(horizon: int, levels: Sequence[float]) -> None:
    if not 1 <= int(horizon) <= 36:
        raise ValueError(f"horizon must be between 1 and 36 months, not {horizon}.")
    if not levels or any(not 0 < float(level) < 1 for level in levels):
        raise ValueError(f"levels must be coverages strictly between 0 and 1, not {tuple(levels)}.")


def _prediction_frame(
    fitted: Any, n: int, horizon: int, levels: Sequence[float], random_state: int
) -> pd.DataFrame:
    simulate = fitted.model.error == "mul"
    kwargs: dict[str, Any] = (
        {"method": "simulated", "simulate_repetitions": _SIM_REPETITIONS} if simulate else {}
    )
    if simulate:
        kwargs["rng"] = np.random.default_rng(random_state)
    prediction = fitted.get_prediction(start=n, end=n + horizon - 1, **kwargs)
    frame = pd.DataFrame({"mean": np.asarray(prediction.predicted_mean, dtype=float)})
    for level in levels:
        table = prediction.summary_frame(alpha=1 - float(level))
        tag = f"{round(float(level) * 100):d}"
        frame[f"lower_{tag}"] = np.asarray(table["pi_lower"], dtype=float)
        frame[f"upper_{tag}"] = np.asarray(table["pi_upper"], dtype=float)
    return frame


def _future_index(y: pd.Series, horizon: int) -> pd.Index:
    if isinstance(y.index, pd.DatetimeIndex):
        freq = y.index.freq or "MS"
        return pd.date_range(y.index[-1], periods=horizon + 1, freq=freq)[1:]
    return pd.RangeIndex(len(y), len(y) + horizon)


# --------------------------------------------------------------------------- accuracy


def mape(actual: Sequence[float] | np.ndarray, forecast: Sequence[float] | np.ndarray) -> float:
    """Mean absolute percentage error, in percent, skipping months with zero actual revenue.

    .. math::
        \\mathrm{MAPE} = \\frac{100}{|T'|} \\sum_{t \\in T'} \\left| \\frac{y_t - \\hat y_t}{y_t} \\right|,
        \\qquad T' = \\{t : y_t \\neq 0\\}

    Parameters
    ----------
    actual, forecast : array-like of float
        Same length.

    Returns
    -------
    float
        ``nan`` when every actual value is zero.

    Notes
    -----
    MAPE is undefined when :math:`y_t = 0` (FPP3 ch. 5.8); a month without revenue is left out
    instead of being replaced by sMAPE, whose "symmetric" name is misleading: it punishes
    under- and over-forecasts differently and is unstable near zero too ([3]).

    References
    ----------
    .. [1] Hyndman & Athanasopoulos (2021), FPP3 ch. 5.8, "Percentage errors".
    .. [3] Hyndman & Koehler (2006), Another look at measures of forecast accuracy.
    """
    y = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    if y.shape != f.shape:
        raise ValueError(f"actual has {y.size} values but forecast has {f.size}.")
    keep = y != 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs((y[keep] - f[keep]) / y[keep])) * 100.0)


def seasonal_naive(
    history: Sequence[float] | np.ndarray, horizon: int, seasonal_periods: int = 12
) -> np.ndarray:
    """Seasonal naive forecast: the value of the same month one season earlier.

    .. math:: \\hat y_{T+h|T} = y_{T+h-m(k+1)}, \\qquad k = \\lfloor (h-1)/m \\rfloor

    With less than one season of history it falls back to the naive forecast
    :math:`\\hat y_{T+h|T} = y_T`.

    References
    ----------
    .. [1] Hyndman & Athanasopoulos (2021), FPP3 ch. 5.2, "Some simple forecasting methods".
    """
    y = np.asarray(history, dtype=float)
    h = np.arange(1, horizon + 1)
    m = int(seasonal_periods)
    if m <= 1 or len(y) < m:
        return np.full(horizon, y[-1])
    k = (h - 1) // m
    return y[len(y) + h - m * (k + 1) - 1]


def backtest(
    series: pd.Series,
    *,
    horizon: int = 3,
    folds: int = 4,
    seasonal_periods: int = 12,
    model: str | None = None,
) -> dict[str, Any]:
    """Rolling-origin evaluation of :func:`forecast_revenue` against the seasonal naive.

    Fold ``k`` (of ``folds``) trains on every month up to an origin and forecasts the next
    ``horizon`` months; origins step back one month at a time from the end ("evaluation on a
    rolling forecasting origin", FPP3 ch. 5.10). The model is re-selected by AICc on every
    fold, so the score includes the cost of choosing. Folds whose training window would be
    shorter than 6 months are dropped.

    Parameters
    ----------
    series : pandas.Series
        Monthly revenue, e.g. from :func:`monthly_revenue`.
    horizon : int, default 3
        Months ahead forecast at each origin.
    folds : int, default 4
        Number of origins.
    seasonal_periods : int, default 12
    model : str, optional
        Force one ETS model (R-style code) instead of selecting on each fold.

    Returns
    -------
    dict
        ``mape`` (model), ``naive_mape`` (seasonal naive; naive last value when a fold has
        less than a year of history), ``months`` (forecast months scored, zero months
        excluded), ``skipped_zero_months``, ``folds``, ``horizon``, ``model_better``.

    Raises
    ------
    ForecastError
        Not enough history for a single fold.

    References
    ----------
    .. [1] Hyndman & Athanasopoulos (2021), FPP3 ch. 5.8 and 5.10.
    .. [2] Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and
       review. *International Journal of Forecasting* 16(4), 437-454.
    """
    y = _check_series(series, min_len=MIN_MONTHS + horizon)
    _check_horizon(horizon, (0.5,))
    n = len(y)
    origins = [n - horizon - k for k in range(int(folds)) if n - horizon - k >= MIN_MONTHS][::-1]
    actual, ours, naive = [], [], []
    for origin in origins:  # a handful of folds
        train = y.iloc[:origin]
        fitted, _, _ = _select(train, seasonal_periods, model)
        ours.append(np.asarray(fitted.forecast(horizon), dtype=float).clip(min=0.0))
        naive.append(seasonal_naive(train.to_numpy(), horizon, seasonal_periods))
        actual.append(y.iloc[origin : origin + horizon].to_numpy())
    a, f, s = (np.concatenate(part) for part in (actual, ours, naive))
    score, base = mape(a, f), mape(a, s)
    return {
        "mape": score,
        "naive_mape": base,
        "months": int((a != 0).sum()),
        "skipped_zero_months": int((a == 0).sum()),
        "folds": len(origins),
        "horizon": int(horizon),
        "model_better": bool(score < base) if math.isfinite(score) and math.isfinite(base) else None,
    }


def select_by_backtest(
    series: pd.Series,
    *,
    horizon: int = 3,
    folds: int = 4,
    seasonal_periods: int = 12,
) -> tuple[str, dict[str, float]]:
    """Choose the ETS model with the lowest rolling-origin MAPE (time-series cross-validation).

    AICc (what :func:`forecast_revenue` uses on its own) penalises the 11 extra seasonal states
    heavily when there are only two or three years of months, and then picks a trend model
    that misses every Christmas peak even though the seasonal models forecast the held-out
    months far better. Cross-validating each candidate on the same folds as :func:`backtest`
    asks the question the owner cares about directly: which model missed least on months it
    had not seen? Ties (within 0.1 point of MAPE) go to the model listed first, the simpler one.

    Parameters
    ----------
    series : pandas.Series
        Monthly revenue, e.g. from :func:`monthly_revenue`.
    horizon, folds, seasonal_periods : int
        As in :func:`backtest`.

    Returns
    -------
    (str, dict)
        The chosen R-style model code (e.g. ``"MNM"``) for ``forecast_revenue(model=...)``,
        and every candidate's MAPE by model name (NaN where it could not be fitted).

    Raises
    ------
    ForecastError
        Not enough history for a single fold, or no candidate could be scored.

    Notes
    -----
    The MAPE of the chosen model is then an optimistic estimate of its error: it was the
    smallest of several. With a few dozen months there is no data to spare for a separate
    selection period; the seasonal naive MAPE reported next to it keeps it honest.

    References
    ----------
    .. [1] Hyndman & Athanasopoulos (2021), FPP3 ch. 5.10 "Time series cross-validation".
    .. [2] Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and
       review. *International Journal of Forecasting* 16(4), 437-454.
    """
    y = _check_series(series, min_len=MIN_MONTHS + horizon)
    scores: dict[str, float] = {}
    best: tuple[float, str] | None = None
    for spec in _candidates(y.to_numpy(), seasonal_periods):  # a dozen models at most
        code = spec.name.removeprefix("ETS(").removesuffix(")").replace(",", "")
        try:
            score = backtest(y, horizon=horizon, folds=folds, seasonal_periods=seasonal_periods, model=code)[
                "mape"
            ]
        except (ForecastError, ValueError, RuntimeError, np.linalg.LinAlgError, ZeroDivisionError):
            score = float("nan")
        scores[spec.name] = score
        if math.isfinite(score) and (best is None or score < best[0] - 0.1):
            best = (score, code)
    if best is None:
        raise ForecastError("No exponential smoothing model could be tested on this series.")
    return best[1], scores
