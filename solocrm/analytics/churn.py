"""Supervised churn risk with an honest time-based split.

Django-free: transactions (customer, date, amount) in, per-customer risk out. "Churned" is
defined operationally: no purchase within ``horizon_days`` after a cutoff date. Features are
computed only from what was known at the cutoff, so the model can be trained on the past and
checked on a later, unseen window before it is trusted (see :func:`churn_workflow`).

References
----------
.. [1] Neslin, S. A., Gupta, S., Kamakura, W., Lu, J. & Mason, C. H. (2006). Defection detection:
   measuring and understanding the predictive accuracy of customer churn models. *Journal of
   Marketing Research* 43(2), 204-211.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
   way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284 (P(alive)).
.. [3] Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver
   operating characteristic (ROC) curve. *Radiology* 143(1), 29-36.
.. [4] Friedman, J. H. (2001). Greedy function approximation: a gradient boosting machine.
   *Annals of Statistics* 29(5), 1189-1232.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .features import churn_behaviour
from .logistic import StandardisedLogistic

__all__ = [
    "KINDS",
    "TIE_TOLERANCE",
    "ChurnModel",
    "ChurnResult",
    "ChurnSelection",
    "churn_features",
    "churn_labels",
    "churn_workflow",
    "evaluate_churn",
    "select_churn_model",
]

KINDS = ("gradient_boosting", "logistic")
#: Holdout AUCs closer than this are a tie; the simpler model wins a tie.
TIE_TOLERANCE = 0.005
#: Simplest first: the order used to break ties.
SIMPLICITY = ("baseline", "logistic", "gradient_boosting")
_IMPORTANCE_ROWS = 2_000
_MAX_BOOSTING_ROWS = 250_000
_DAY = np.timedelta64(1, "D")

FrameSource = pd.DataFrame | Callable[[pd.Timestamp], pd.DataFrame] | None
PAliveSource = Callable[[pd.Timestamp], pd.Series] | None


# --------------------------------------------------------------------------- input checks


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"{name} is missing.")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _to_utc_naive(values: Any) -> pd.Series:
    """Parse dates (mixed string formats too) to naive UTC timestamps; bad values become NaT."""
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
    else:
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(None)


def _transactions(customer_ids: Any, dates: Any, amounts: Any = None) -> pd.DataFrame:
    """Validate and align the transaction columns into one frame."""
    ids = pd.Series(customer_ids).reset_index(drop=True)
    when = _to_utc_naive(dates)
    if len(ids) == 0:
        raise ValueError("No transactions: customer_ids and dates are empty.")
    if len(ids) != len(when):
        raise ValueError(f"customer_ids has {len(ids)} values but dates has {len(when)}.")
    if ids.isna().any():
        raise ValueError(f"{int(ids.isna().sum())} customer ids are missing.")
    if when.isna().any():
        raise ValueError(f"{int(when.isna().sum())} dates are missing or not dates.")
    frame = pd.DataFrame({"customer": ids, "date": when})
    if amounts is not None:
        value = pd.to_numeric(pd.Series(amounts), errors="coerce").astype(float).reset_index(drop=True)
        if len(value) != len(ids):
            raise ValueError(f"customer_ids has {len(ids)} values but amounts has {len(value)}.")
        if not np.isfinite(value.to_numpy()).all():
            raise ValueError("Some amounts are missing, infinite or not numbers.")
        frame["amount"] = value
    return frame


# --------------------------------------------------------------------------- features and labels


def churn_features(
    customer_ids: Sequence[Any] | pd.Series,
    dates: Sequence[Any] | pd.Series,
    amounts: Sequence[float] | pd.Series,
    *,
    cutoff: Any,
    extra: FrameSource = None,
) -> pd.DataFrame:
    """Per-customer behaviour features as of ``cutoff``.

    Only transactions on or before ``cutoff`` are used; later rows are ignored (they belong to
    the label window of :func:`churn_labels`, which starts just after the cutoff).

    Parameters
    ----------
    customer_ids, dates, amounts : array-like
        One row per order.
    cutoff : date-like
        The "as of" instant.
    extra : DataFrame or callable, optional
        More per-customer numeric features indexed by customer, e.g. ``interactions_90d``,
        ``emails_received``, ``support_contacts``, ``last_survey_score``. A callable is
        called with the cutoff and must return the features *as they were at that date*;
        pass a callable for anything that changes over time, otherwise the training window
        sees the future (leakage). Customers missing from ``extra`` get NaN (give counts as
        0 explicitly); the models impute NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer (those with a purchase on or before the cutoff), columns:
        ``recency_days`` (days since last purchase), ``tenure_days`` (since first),
        ``orders``, ``frequency`` (repeat purchase days, as in BG/NBD), ``total_spend``,
        ``avg_order_value``, ``orders_90d``, ``orders_365d``, ``spend_365d``,
        ``mean_days_between`` (tenure for one-time buyers: a lower bound of the gap),
        ``overdue_ratio`` (recency / mean gap), then the ``extra`` columns.

    Raises
    ------
    ValueError
        Empty or misaligned input, missing values, no purchase before the cutoff,
        non-numeric ``extra`` columns.

    References
    ----------
    .. [1] Neslin et al. (2006), Defection detection (recency, frequency, monetary and
       tenure as the core churn predictors).
    .. [2] Fader, Hardie & Lee (2005): frequency counts repeat purchase days.
    """
    tx = _transactions(customer_ids, dates, amounts)
    cut = _timestamp(cutoff, "cutoff")
    past = tx[tx["date"] <= cut]
    if past.empty:
        raise ValueError(f"No purchase on or before the cutoff {cut.date()}.")
    features = _behaviour(past, cut)
    return _join_extra(features, extra, cut)


def _behaviour(past: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """Aggregate the orders per customer and build the features with the one definition the
    refresh uses too (``features.churn_behaviour``): here recent purchases count orders and a
    one-time buyer's mean gap is their tenure."""
    groups = past.groupby("customer", sort=True)
    first, last = groups["date"].min(), groups["date"].max()
    purchase_days = past.assign(day=past["date"].dt.normalize()).groupby("customer")["day"].nunique()
    recent = past[past["date"] > cut - 365 * _DAY]
    in_90 = recent[recent["date"] > cut - 90 * _DAY].groupby("customer").size()
    frame = churn_behaviour(
        recency_days=((cut - last) / _DAY).to_numpy(),
        tenure_days=((cut - first) / _DAY).to_numpy(),
        orders=groups.size().to_numpy(),
        purchase_days=purchase_days.to_numpy(),
        total_spend=groups["amount"].sum().to_numpy(),
        recent_90=in_90.reindex(first.index, fill_value=0).to_numpy(),
        recent_365=recent.groupby("customer").size().reindex(first.index, fill_value=0).to_numpy(),
        spend_365=recent.groupby("customer")["amount"].sum().reindex(first.index, fill_value=0.0).to_numpy(),
        index=first.index,
        one_time_gap="tenure",
    )
    frame.index.name = "customer"
    return frame


def _join_extra(features: pd.DataFrame, extra: FrameSource, cut: pd.Timestamp) -> pd.DataFrame:
    if extra is None:
        return features
    table = extra(cut) if callable(extra) else extra
    if not isinstance(table, pd.DataFrame):
        raise ValueError("extra must be a DataFrame indexed by customer (or a callable returning one).")
    clash = sorted(set(table.columns) & set(features.columns))
    if clash:
        raise ValueError(f"extra repeats built-in feature columns: {clash}.")
    bad = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if bad:
        raise ValueError(f"extra columns must be numeric; not numeric: {bad}.")
    if table.index.has_duplicates:
        raise ValueError("extra has more than one row for some customers.")
    return features.join(table.astype(float), how="left")


def churn_labels(
    customer_ids: Sequence[Any] | pd.Series,
    dates: Sequence[Any] | pd.Series,
    *,
    cutoff: Any,
    horizon_days: int,
) -> pd.Series:
    """Churn labels: 1 when a customer who bought on or before ``cutoff`` does not buy again in
    ``(cutoff, cutoff + horizon_days]``, else 0.

    Parameters
    ----------
    customer_ids, dates : array-like
        One row per order.
    cutoff : date-like
    horizon_days : int
        Length of the label window. Choose it from the business rhythm (e.g. 90 days for a
        shop with monthly buyers); a window shorter than the usual gap between orders labels
        loyal customers as churned.

    Returns
    -------
    pandas.Series
        ``int`` labels indexed by customer, named ``churned``.

    Notes
    -----
    This is the "no purchase in the next window" definition used for non-contractual
    businesses, where no one ever cancels ([1]). It is a proxy: some "churned" customers
    are merely slow, which is why :func:`churn_workflow` evaluates against a BG/NBD
    P(alive) baseline ([2]).

    References
    ----------
    .. [1] Neslin et al. (2006), Defection detection.
    .. [2] Fader, Hardie & Lee (2005), "Counting your customers" the easy way.
    """
    if int(horizon_days) <= 0:
        raise ValueError(f"horizon_days must be positive, not {horizon_days}.")
    tx = _transactions(customer_ids, dates)
    cut = _timestamp(cutoff, "cutoff")
    before = pd.Index(tx.loc[tx["date"] <= cut, "customer"].unique()).sort_values()
    if before.empty:
        raise ValueError(f"No purchase on or before the cutoff {cut.date()}.")
    window = (tx["date"] > cut) & (tx["date"] <= cut + int(horizon_days) * _DAY)
    came_back = before.isin(tx.loc[window, "customer"].unique())
    return pd.Series((~came_back).astype(int), index=before.rename("customer"), name="churned")


# --------------------------------------------------------------------------- metrics


def evaluate_churn(
    y_true: Sequence[int] | np.ndarray, risk: Sequence[float] | np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """ROC AUC, precision, recall and F1 of churn risks.

    .. math::
        \\mathrm{AUC} = \\frac{R_1 - n_1(n_1+1)/2}{n_1 n_0}, \\quad
        P = \\frac{TP}{TP+FP}, \\quad R = \\frac{TP}{TP+FN}, \\quad F_1 = \\frac{2PR}{P+R}

    where :math:`R_1` is the sum of the (tie-averaged) ranks of the churners' risks: the AUC
    is the probability that a random churner is ranked above a random stayer ([1]).
    A customer is flagged when ``risk >= threshold``.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        1 = churned.
    risk : array-like of float
        Predicted churn probability (or any score for the AUC).
    threshold : float, default 0.5

    Returns
    -------
    dict
        ``auc`` (nan when only one class is present), ``precision``, ``recall``, ``f1``
        (0 when undefined, as ``sklearn`` with ``zero_division=0``), ``n``, ``churners``,
        ``base_rate``, ``threshold``.

    References
    ----------
    .. [1] Hanley & McNeil (1982), The meaning and use of the area under a ROC curve.
    .. [2] van Rijsbergen, C. J. (1979). *Information Retrieval*, 2nd ed., ch. 7 (F measure).
    """
    y = np.asarray(y_true).astype(int).ravel()
    score = np.asarray(risk, dtype=float).ravel()
    if y.size == 0 or y.size != score.size:
        raise ValueError(f"y_true has {y.size} values and risk has {score.size}; need the same, non-zero.")
    if not np.isfinite(score).all() or not np.isin(y, (0, 1)).all():
        raise ValueError("risk must be finite and y_true must be 0/1.")
    flagged = score >= threshold
    tp = int(np.sum(flagged & (y == 1)))
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int(y.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "auc": _auc(y, score),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "n": int(y.size),
        "churners": int(y.sum()),
        "base_rate": float(y.mean()),
        "threshold": float(threshold),
    }


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# --------------------------------------------------------------------------- the model


def _signed_log(x: np.ndarray) -> np.ndarray:
    # Spend and counts are heavy-tailed; a log keeps one big customer from dominating a
    # linear model. Signed, because refunds and scores can be negative.
    return np.sign(x) * np.log1p(np.abs(x))


class ChurnModel:
    """Churn classifier: gradient boosting or an L2-regularised logistic regression.

    Parameters
    ----------
    kind : {"gradient_boosting", "logistic"}
        ``gradient_boosting`` is scikit-learn's ``HistGradientBoostingClassifier`` (handles
        NaN natively; fitted on a random 250,000 rows at most); ``logistic`` is signed-log features,
        median imputation with missing-value indicators, standardisation and
        ``LogisticRegression(C=C)``.
    random_state : int, default 0
    C : float, default 1.0
        Inverse L2 strength of the logistic regression.
    importance : bool, default True
        Compute the (permutation) importances of a boosting model; candidates that are only
        compared switch it off to save time.

    Attributes
    ----------
    feature_names_ : list of str
    feature_importance_ : pandas.Series
        Logistic: absolute standardised coefficients. Gradient boosting: permutation
        importance (drop in AUC) on up to 2,000 training rows ([2]).
    coefficients_ : pandas.Series
        Logistic only: signed standardised coefficients (positive = raises risk).
    metrics_ : dict
        Filled by :func:`select_churn_model` / :func:`churn_workflow` with holdout metrics.

    Notes
    -----
    ``to_dict()`` stores everything needed to score with a logistic model (medians, means,
    scales, coefficients), so ``from_dict()`` gives a working model. A boosted ensemble of
    hundreds of trees is not worth round-tripping through JSON: for gradient boosting
    ``to_dict()`` stores the metrics and importances only, ``from_dict()`` returns a model
    that refuses to predict, and the analytics refresh re-fits it each time.

    References
    ----------
    .. [1] Friedman (2001), Greedy function approximation: a gradient boosting machine; Ke et al.
       (2017), LightGBM (the histogram algorithm behind ``HistGradientBoostingClassifier``).
    .. [2] Breiman, L. (2001). Random forests. *Machine Learning* 45, 5-32 (permutation
       importance).
    .. [3] Hosmer, D. W., Lemeshow, S. & Sturdivant, R. X. (2013). *Applied Logistic
       Regression*, 3rd ed. Wiley.
    """

    def __init__(
        self,
        kind: str = "gradient_boosting",
        random_state: int = 0,
        C: float = 1.0,
        importance: bool = True,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}.")
        self.kind = kind
        self.random_state = random_state
        self.C = C
        self.importance = importance

    # ---- fitting

    def fit(self, X: pd.DataFrame, y: Sequence[int] | pd.Series | np.ndarray) -> ChurnModel:
        """Fit on a feature frame (e.g. :func:`churn_features`) and 0/1 churn labels."""
        matrix, target = self._check_xy(X, y)
        self.feature_names_ = [str(c) for c in X.columns]
        if self.kind == "logistic":
            self._fit_logistic(matrix, target)
        else:
            self._fit_boosting(matrix, target)
        self.metrics_: dict[str, Any] = {"train": {"n": int(target.size), "churners": int(target.sum())}}
        return self

    @staticmethod
    def _check_xy(X: pd.DataFrame, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(X, pd.DataFrame) or X.empty:
            raise ValueError("X must be a non-empty DataFrame of features.")
        target = np.asarray(y).astype(int).ravel()
        if target.size != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {target.size} labels.")
        if np.unique(target).size < 2:
            raise ValueError("y has a single class; a churn model needs churners and stayers.")
        return X.to_numpy(dtype=float), target

    def _fit_logistic(self, matrix: np.ndarray, target: np.ndarray) -> None:
        x = _signed_log(matrix)
        missing = np.isnan(x)
        self.medians_ = np.nan_to_num(np.nanmedian(np.where(missing.all(0), 0.0, x), axis=0))
        self.indicators_ = np.flatnonzero(missing.any(0))
        fitted = StandardisedLogistic.fit(self._design(x), target, C=self.C)
        self.means_, self.scales_ = fitted.means, fitted.scales
        self.coef_, self.intercept_ = fitted.coef, fitted.intercept
        names = self.feature_names_ + [f"{self.feature_names_[i]}_missing" for i in self.indicators_]
        self.coefficients_ = pd.Series(self.coef_, index=names, name="coefficient")
        self.feature_importance_ = self.coefficients_.abs().sort_values(ascending=False).rename("importance")

    def _design(self, x: np.ndarray) -> np.ndarray:
        filled = np.where(np.isnan(x), self.medians_, x)
        flags = np.isnan(x[:, self.indicators_]).astype(float)
        return np.hstack([filled, flags])

    def _fit_boosting(self, matrix: np.ndarray, target: np.ndarray) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance

        model = HistGradientBoostingClassifier(
            learning_rate=0.1, max_iter=200, max_leaf_nodes=15, l2_regularization=1.0,
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=self.random_state,
        )  # fmt: skip
        rng = np.random.default_rng(self.random_state)
        if target.size > _MAX_BOOSTING_ROWS:
            # Trees learn nothing more from a million rows than from 250,000 for a dozen
            # features, and the refresh has a time budget.
            keep = rng.choice(target.size, size=_MAX_BOOSTING_ROWS, replace=False)
            matrix, target = matrix[keep], target[keep]
        self.estimator_ = model.fit(matrix, target)
        rows = rng.choice(target.size, size=min(target.size, _IMPORTANCE_ROWS), replace=False)
        scores = np.full(matrix.shape[1], np.nan)
        if self.importance and np.unique(target[rows]).size == 2:
            result = permutation_importance(
                model, matrix[rows], target[rows], scoring="roc_auc", n_repeats=2,
                random_state=self.random_state,
            )  # fmt: skip
            scores = result.importances_mean
        self.feature_importance_ = pd.Series(
            scores, index=self.feature_names_, name="importance"
        ).sort_values(ascending=False)

    # ---- prediction

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Churn probability for every row of ``X``, shape ``(n,)`` (not scikit-learn's
        two-column array: the only number anyone needs is the risk)."""
        if not hasattr(self, "feature_names_"):
            raise ValueError("This ChurnModel is not fitted; call fit() first.")
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the features the model was fitted on: {missing}.")
        matrix = X[self.feature_names_].to_numpy(dtype=float)
        if self.kind == "logistic":
            return self._logistic().predict_proba(self._design(_signed_log(matrix)))
        if not hasattr(self, "estimator_"):
            raise ValueError("A gradient boosting model loaded from JSON cannot predict; re-fit it.")
        return self.estimator_.predict_proba(matrix)[:, 1]

    def _logistic(self) -> StandardisedLogistic:
        return StandardisedLogistic(self.means_, self.scales_, self.coef_, self.intercept_)

    # ---- storage

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters, importances and metrics (see the class notes)."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "random_state": self.random_state,
            "C": self.C,
            "feature_names": list(getattr(self, "feature_names_", [])),
            "feature_importance": _jsonable(
                {k: float(v) for k, v in getattr(self, "feature_importance_", {}).items()}
            ),
            "metrics": _jsonable(getattr(self, "metrics_", {})),
        }
        if self.kind == "logistic" and hasattr(self, "coef_"):
            data.update(
                medians=self.medians_.tolist(),
                indicators=self.indicators_.tolist(),
                means=self.means_.tolist(),
                scales=self.scales_.tolist(),
                coef=self.coef_.tolist(),
                intercept=self.intercept_,
            )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChurnModel:
        """Rebuild a model stored with :meth:`to_dict`."""
        model = cls(kind=data["kind"], random_state=data.get("random_state", 0), C=data.get("C", 1.0))
        if data.get("feature_names"):
            model.feature_names_ = list(data["feature_names"])
        model.feature_importance_ = pd.Series(
            data.get("feature_importance", {}), dtype=float, name="importance"
        )
        model.metrics_ = dict(data.get("metrics", {}))
        if model.kind == "logistic" and "coef" in data:
            model.medians_ = np.asarray(data["medians"], dtype=float)
            model.indicators_ = np.asarray(data["indicators"], dtype=int)
            model.means_ = np.asarray(data["means"], dtype=float)
            model.scales_ = np.asarray(data["scales"], dtype=float)
            model.coef_ = np.asarray(data["coef"], dtype=float)
            model.intercept_ = float(data["intercept"])
        return model


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- model choice


@dataclass
class ChurnSelection:
    """Outcome of :func:`select_churn_model`.

    Attributes
    ----------
    chosen : str
        ``"baseline"``, ``"logistic"`` or ``"gradient_boosting"``.
    metrics : dict
        Holdout metrics (see :func:`evaluate_churn`) for every candidate; ``None`` for a
        candidate that could not be fitted.
    models : dict
        The fitted :class:`ChurnModel` per kind (absent when it could not be fitted).
    baseline : str
        ``"p_alive"`` (risk = 1 - P(alive)) or ``"recency"``.
    """

    chosen: str
    metrics: dict[str, dict[str, float] | None]
    models: dict[str, ChurnModel] = field(default_factory=dict)
    baseline: str = "p_alive"


def _recency_baseline(train_recency: np.ndarray, train_y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Monotone (isotonic) churn rate as a function of days since the last purchase."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(train_recency, train_y)
    return lambda recency: np.asarray(iso.predict(np.asarray(recency, dtype=float)), dtype=float)


def select_churn_model(
    train_X: pd.DataFrame,
    train_y: Sequence[int] | pd.Series | np.ndarray,
    holdout_X: pd.DataFrame,
    holdout_y: Sequence[int] | pd.Series | np.ndarray,
    *,
    p_alive_holdout: Sequence[float] | np.ndarray | None,
    threshold: float = 0.5,
    random_state: int = 0,
) -> ChurnSelection:
    """Compare gradient boosting, logistic regression and a baseline on a later holdout.

    The candidates are fitted on ``(train_X, train_y)`` and scored on the holdout. The
    baseline is ``risk = 1 - P(alive)`` when ``p_alive_holdout`` is given (aligned with the
    rows of ``holdout_X``), otherwise an isotonic fit of the training labels on
    ``recency_days`` ("the longer since the last order, the likelier gone", calibrated).
    The highest holdout AUC wins; candidates within ``TIE_TOLERANCE`` (0.005) of the best
    are a tie, and a tie goes to the simplest (baseline, then logistic, then boosting).

    Parameters
    ----------
    train_X, holdout_X : pandas.DataFrame
        Features, same columns (e.g. from :func:`churn_features` at two cutoffs).
    train_y, holdout_y : array-like of {0, 1}
    p_alive_holdout : array-like of float or None
        BG/NBD P(alive) of the holdout customers as of the holdout cutoff.
    threshold : float, default 0.5
        Flagging threshold for precision/recall/F1.
    random_state : int, default 0

    Returns
    -------
    ChurnSelection

    References
    ----------
    .. [1] Neslin et al. (2006): churn models must be judged on a later, out-of-time sample.
    .. [2] Fader, Hardie & Lee (2005): BG/NBD P(alive), the baseline a churn model must beat.
    .. [3] Hanley & McNeil (1982): the AUC as the ranking-quality criterion.
    """
    train_t, hold_t = np.asarray(train_y).astype(int), np.asarray(holdout_y).astype(int)
    if len(holdout_X) != hold_t.size or len(train_X) != train_t.size:
        raise ValueError("Features and labels have different lengths.")
    metrics: dict[str, dict[str, float] | None] = {}
    models: dict[str, ChurnModel] = {}
    base_name, base_risk = _baseline_risk(train_X, train_t, holdout_X, p_alive_holdout)
    metrics["baseline"] = evaluate_churn(hold_t, base_risk, threshold)
    for kind in ("logistic", "gradient_boosting"):
        if np.unique(train_t).size < 2:
            metrics[kind] = None
            continue
        model = ChurnModel(kind, random_state=random_state, importance=False).fit(train_X, train_t)
        metrics[kind] = evaluate_churn(hold_t, model.predict_proba(holdout_X), threshold)
        model.metrics_["holdout"] = metrics[kind]
        models[kind] = model
    return ChurnSelection(_choose(metrics), metrics, models, base_name)


def _baseline_risk(
    train_X: pd.DataFrame, train_y: np.ndarray, holdout_X: pd.DataFrame, p_alive: Any
) -> tuple[str, np.ndarray]:
    if p_alive is not None:
        alive = np.asarray(p_alive, dtype=float).ravel()
        if alive.size != len(holdout_X) or not np.isfinite(alive).all():
            raise ValueError("p_alive_holdout must have one finite value per holdout row.")
        return "p_alive", np.clip(1.0 - alive, 0.0, 1.0)
    if "recency_days" not in train_X or "recency_days" not in holdout_X:
        raise ValueError("Without p_alive the baseline needs a recency_days column.")
    rule = _recency_baseline(train_X["recency_days"].to_numpy(float), train_y)
    return "recency", rule(holdout_X["recency_days"].to_numpy(float))


def _choose(metrics: dict[str, dict[str, float] | None]) -> str:
    aucs = {k: m["auc"] for k, m in metrics.items() if m is not None and math.isfinite(m["auc"])}
    if not aucs:
        return "baseline"
    best = max(aucs.values())
    return next(k for k in SIMPLICITY if k in aucs and aucs[k] >= best - TIE_TOLERANCE)


# --------------------------------------------------------------------------- workflow


@dataclass
class ChurnResult:
    """Outcome of :func:`churn_workflow`.

    Attributes
    ----------
    risk : pandas.Series
        Churn probability per customer as of ``data_end`` (everyone who ever bought).
    chosen : str
        The model that scored them (``baseline``, ``logistic`` or ``gradient_boosting``).
    metrics : dict
        Holdout metrics of every candidate.
    baseline : str
        ``p_alive`` or ``recency``.
    cutoffs : dict
        ``train`` (features date of the training window), ``holdout``, ``data_end``.
    horizon_days : int
    model : ChurnModel or None
        The chosen model re-fitted on the latest window (``None`` for the baseline).
    """

    risk: pd.Series
    chosen: str
    metrics: dict[str, dict[str, float] | None]
    baseline: str
    cutoffs: dict[str, pd.Timestamp]
    horizon_days: int
    model: ChurnModel | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the per-customer risks are stored on customers, not here)."""
        return {
            "chosen": self.chosen,
            "baseline": self.baseline,
            "horizon_days": self.horizon_days,
            "cutoffs": {k: v.isoformat() for k, v in self.cutoffs.items()},
            "metrics": _jsonable(self.metrics),
            "customers": int(self.risk.size),
            "model": self.model.to_dict() if self.model is not None else None,
        }


def churn_workflow(
    customer_ids: Sequence[Any] | pd.Series,
    dates: Sequence[Any] | pd.Series,
    amounts: Sequence[float] | pd.Series,
    *,
    data_end: Any,
    horizon_days: int = 90,
    extra: FrameSource = None,
    p_alive: PAliveSource = None,
    threshold: float = 0.5,
    random_state: int = 0,
) -> ChurnResult:
    """Train, choose and score churn risk with an out-of-time holdout.

    With ``h = horizon_days`` and ``cutoff = data_end - h``:

    1. **train**: features at ``cutoff - h``, labels over ``(cutoff - h, cutoff]``;
    2. **holdout**: features at ``cutoff``, labels over ``(cutoff, data_end]``;
    3. choose among boosting, logistic and the baseline by holdout AUC
       (:func:`select_churn_model`);
    4. **refit** the chosen model on the holdout window (the latest one with known labels)
       and score everyone with features as of ``data_end``.

    Parameters
    ----------
    customer_ids, dates, amounts : array-like
        One row per order, none after ``data_end``.
    data_end : date-like
        End of the data (usually today); needs at least ``2 * horizon_days`` of history.
    horizon_days : int, default 90
    extra : DataFrame or callable, optional
        See :func:`churn_features`; pass ``callable(cutoff) -> DataFrame`` for engagement
        that changes over time.
    p_alive : callable, optional
        ``p_alive(cutoff) -> Series`` of BG/NBD P(alive) indexed by customer, computed from
        data up to that cutoff only. Called for the holdout cutoff and, if the baseline wins,
        for ``data_end``. ``None`` makes the baseline the recency rule.
    threshold : float, default 0.5
    random_state : int, default 0

    Returns
    -------
    ChurnResult

    Raises
    ------
    ValueError
        Bad input, orders after ``data_end`` (future dates), or less than ``2 * horizon_days``
        of history before ``data_end``.

    References
    ----------
    .. [1] Neslin et al. (2006), Defection detection: out-of-time validation.
    .. [2] Fader, Hardie & Lee (2005), P(alive) under the BG/NBD model.
    """
    tx = _transactions(customer_ids, dates, amounts)
    end = _timestamp(data_end, "data_end")
    _check_window(tx, end, int(horizon_days))
    h = int(horizon_days) * _DAY
    cutoff, train_cut = end - h, end - 2 * h
    args = (tx["customer"], tx["date"], tx["amount"])
    train_X = churn_features(*args, cutoff=train_cut, extra=extra)
    train_y = churn_labels(tx["customer"], tx["date"], cutoff=train_cut, horizon_days=int(horizon_days))
    hold_X = churn_features(*args, cutoff=cutoff, extra=extra)
    hold_y = churn_labels(tx["customer"], tx["date"], cutoff=cutoff, horizon_days=int(horizon_days))
    alive = _aligned_p_alive(p_alive, cutoff, hold_X.index)
    selection = select_churn_model(
        train_X, train_y.reindex(train_X.index), hold_X, hold_y.reindex(hold_X.index),
        p_alive_holdout=alive, threshold=threshold, random_state=random_state,
    )  # fmt: skip
    now_X = churn_features(*args, cutoff=end, extra=extra)
    risk, model = _score_now(
        selection, hold_X, hold_y.reindex(hold_X.index), now_X, p_alive, end, random_state
    )
    return ChurnResult(
        risk=pd.Series(risk, index=now_X.index, name="churn_risk"),
        chosen=selection.chosen,
        metrics=selection.metrics,
        baseline=selection.baseline,
        cutoffs={"train": train_cut, "holdout": cutoff, "data_end": end},
        horizon_days=int(horizon_days),
        model=model,
    )


def _check_window(tx: pd.DataFrame, end: pd.Timestamp, horizon_days: int) -> None:
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, not {horizon_days}.")
    future = int((tx["date"] > end).sum())
    if future:
        raise ValueError(f"{future} orders are dated after data_end {end.date()} (future dates).")
    if tx["date"].min() > end - 2 * horizon_days * _DAY:
        raise ValueError(
            f"Churn needs at least {2 * horizon_days} days of orders before data_end "
            f"(the first order is {tx['date'].min().date()})."
        )


def _aligned_p_alive(p_alive: PAliveSource, cutoff: pd.Timestamp, customers: pd.Index) -> np.ndarray | None:
    if p_alive is None:
        return None
    if not callable(p_alive):
        raise ValueError("p_alive must be a callable(cutoff) -> Series indexed by customer, or None.")
    values = pd.Series(p_alive(cutoff), dtype=float).reindex(customers)
    if values.isna().any():
        raise ValueError(f"p_alive({cutoff.date()}) has no value for {int(values.isna().sum())} customers.")
    return values.to_numpy()


def _score_now(
    selection: ChurnSelection,
    hold_X: pd.DataFrame,
    hold_y: pd.Series,
    now_X: pd.DataFrame,
    p_alive: PAliveSource,
    end: pd.Timestamp,
    random_state: int,
) -> tuple[np.ndarray, ChurnModel | None]:
    if selection.chosen == "baseline":
        if p_alive is not None:
            return 1.0 - np.clip(_aligned_p_alive(p_alive, end, now_X.index), 0.0, 1.0), None
        rule = _recency_baseline(hold_X["recency_days"].to_numpy(float), hold_y.to_numpy())
        return rule(now_X["recency_days"].to_numpy(float)), None
    model = ChurnModel(selection.chosen, random_state=random_state).fit(hold_X, hold_y)
    model.metrics_["holdout"] = selection.metrics[selection.chosen]
    model.metrics_["candidates"] = selection.metrics
    return model.predict_proba(now_X), model
