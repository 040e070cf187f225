"""Lead scoring: the probability that a lead becomes a customer.

Django-free. Two layers, so that the score is sensible from the first lead on:

1. an **empirical-Bayes conversion rate per source** (a Beta prior centred on the overall rate
   and worth ``prior_strength`` leads), which is never a flat 0% for a small source;
2. once there is enough history (at least 30 converted and 30 not converted leads), a
   **regularised logistic regression** on the source rate, engagement counts and attributes.

References
----------
.. [1] Casella, G. (1985). An introduction to empirical Bayes data analysis. *The American
   Statistician* 39(2), 83-87.
.. [2] Micci-Barreca, D. (2001). A preprocessing scheme for high-cardinality categorical
   attributes in classification and prediction problems. *ACM SIGKDD Explorations* 3(1),
   27-32 (smoothed target encoding, computed out of fold here).
.. [3] Peduzzi, P., Concato, J., Kemper, E., Holford, T. R. & Feinstein, A. R. (1996). A
   simulation study of the number of events per variable in logistic regression analysis.
   *Journal of Clinical Epidemiology* 49(12), 1373-1379 (why 30 events of each class).
.. [4] Hosmer, Lemeshow & Sturdivant (2013), *Applied Logistic Regression*, 3rd ed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .logistic import StandardisedLogistic

__all__ = ["DEFAULT_RATE", "MIN_CLASS_COUNT", "LeadScorer"]

#: The rate assumed with no history at all: a typical B2B lead-to-customer rate.
DEFAULT_RATE = 0.10
#: Leads of *each* outcome needed before the logistic regression is used.
MIN_CLASS_COUNT = 30
_FOLDS = 5
_UNKNOWN = "(unknown)"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class LeadScorer:
    """Probability that a lead converts, from its source, engagement and attributes.

    Parameters
    ----------
    prior_strength : float, default 10.0
        Weight :math:`m` of the Beta prior, in leads. A source's rate is

        .. math:: \\hat p_s = \\frac{c_s + m\\,p_0}{n_s + m}

        with :math:`c_s` conversions out of :math:`n_s` leads: a new source starts at the
        overall rate :math:`p_0` and moves towards its own rate as leads accumulate
        (half-way after :math:`m` leads).
    min_class_count : int, default 30
        Converted *and* not-converted leads needed before the logistic regression is used.
    C : float, default 1.0
        Inverse L2 strength of the logistic regression.
    default_rate : float, default 0.10
        Prior mean with no history at all. The overall rate is itself smoothed towards it,
        :math:`p_0 = (c + m\\,d)/(n + m)`, so it is never exactly 0 or 1.
    source_col : str, default "source"
        Column with the lead's source/channel (optional in the data).
    random_state : int, default 0
        Seed of the out-of-fold split of the source encoding.

    Attributes
    ----------
    overall_rate_ : float
        :math:`p_0`.
    by_source_ : pandas.DataFrame
        ``source, leads, converted, raw_rate, rate`` (``rate`` = smoothed).
    mode_ : str
        ``"prior"`` (source rates only) or ``"logistic"``.
    engagement_ : list of str
        Numeric columns (counts: e-mails opened, visits, replies…). Their weights are kept
        non-negative: more engagement never lowers a score; a column that would get a
        negative weight (noise or confounding) is dropped from the model.
    attributes_ : list of str
        Boolean columns (has company, has phone…); any sign.
    coefficients_ : pandas.Series
        Standardised coefficients (logistic mode).
    metrics_ : dict
        ``leads``, ``converted``, in-sample ``auc`` and ``brier`` (logistic mode).

    Notes
    -----
    The usual "conversion rate = converted / leads" per source gives 0% to a source with 0
    of 3 converted and 100% to one with 1 of 1, and ranks both wrongly; the Beta prior is
    the empirical-Bayes remedy ([1]). The source rate enters the regression as the logit of
    an *out-of-fold* smoothed rate ([2]); using the in-sample rate would leak each lead's
    own outcome into its feature.

    References
    ----------
    .. [1] Casella (1985), An introduction to empirical Bayes data analysis.
    .. [2] Micci-Barreca (2001), smoothed target encoding.
    .. [3] Peduzzi et al. (1996), events per variable.
    """

    def __init__(
        self,
        prior_strength: float = 10.0,
        min_class_count: int = MIN_CLASS_COUNT,
        C: float = 1.0,
        default_rate: float = DEFAULT_RATE,
        source_col: str = "source",
        random_state: int = 0,
    ) -> None:
        if not prior_strength > 0:
            raise ValueError(f"prior_strength must be positive, not {prior_strength}.")
        if not 0 < default_rate < 1:
            raise ValueError(f"default_rate must be strictly between 0 and 1, not {default_rate}.")
        self.prior_strength = float(prior_strength)
        self.min_class_count = int(min_class_count)
        self.C = float(C)
        self.default_rate = float(default_rate)
        self.source_col = source_col
        self.random_state = random_state

    # ---- input

    def _sources(self, frame: pd.DataFrame) -> pd.Series:
        if self.source_col not in frame:
            return pd.Series(_UNKNOWN, index=frame.index)
        return (
            frame[self.source_col].astype(object).where(frame[self.source_col].notna(), _UNKNOWN).astype(str)
        )

    def _split_columns(self, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
        others = [c for c in frame.columns if c != self.source_col]
        bad = [c for c in others if not (pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool)]
        if bad:
            raise ValueError(f"Lead features must be numeric or boolean; not: {bad}.")
        attributes = [str(c) for c in others if pd.api.types.is_bool_dtype(frame[c])]
        engagement = [str(c) for c in others if str(c) not in attributes]
        return engagement, attributes

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.engagement_ + self.attributes_ if c not in frame]
        if missing:
            raise ValueError(f"features_df lacks columns the scorer was fitted on: {missing}.")
        # Counts: a missing count is no activity. Attributes: missing is "no".
        counts = frame[self.engagement_].astype(float).fillna(0.0).clip(lower=0.0).to_numpy()
        flags = frame[self.attributes_].astype(float).fillna(0.0).to_numpy()
        return np.hstack([np.log1p(counts), flags])

    # ---- fitting

    def fit(self, features_df: pd.DataFrame, converted: Sequence[int] | pd.Series | np.ndarray) -> LeadScorer:
        """Learn from past leads (one row each) and whether each converted (1/0).

        An empty history is allowed: every lead then scores ``default_rate``.
        """
        frame, y = self._check(features_df, converted)
        self.engagement_, self.attributes_ = self._split_columns(frame)
        sources = self._sources(frame)
        m, n, c = self.prior_strength, y.size, int(y.sum())
        self.overall_rate_ = (c + m * self.default_rate) / (n + m)
        self.by_source_ = self._source_table(sources, y)
        self.metrics_: dict[str, Any] = {"leads": int(n), "converted": c}
        enough = c >= self.min_class_count and n - c >= self.min_class_count
        self.mode_ = "logistic" if enough else "prior"
        if enough:
            self._fit_logistic(frame, sources, y)
        return self

    def _check(self, features_df: pd.DataFrame, converted: Any) -> tuple[pd.DataFrame, np.ndarray]:
        if not isinstance(features_df, pd.DataFrame):
            raise ValueError("features_df must be a pandas DataFrame, one row per lead.")
        raw = pd.to_numeric(pd.Series(converted), errors="coerce")
        if raw.size != len(features_df):
            raise ValueError(f"features_df has {len(features_df)} rows but converted has {raw.size} values.")
        if raw.isna().any() or not raw.isin((0, 1)).all():
            raise ValueError("converted must be 0/1 (or booleans) with no missing values.")
        return features_df.reset_index(drop=True), raw.to_numpy(dtype=int)

    def _source_table(self, sources: pd.Series, y: np.ndarray) -> pd.DataFrame:
        stats = (
            pd.DataFrame({"source": sources, "y": y}).groupby("source", sort=True)["y"].agg(["size", "sum"])
        )
        table = pd.DataFrame(
            {
                "source": stats.index.astype(str),
                "leads": stats["size"].to_numpy(dtype=int),
                "converted": stats["sum"].to_numpy(dtype=int),
            }
        )
        table["raw_rate"] = table["converted"] / table["leads"]
        table["rate"] = self._smooth(table["converted"].to_numpy(), table["leads"].to_numpy())
        return table.sort_values(["rate", "leads"], ascending=False).reset_index(drop=True)

    def _smooth(self, converted: np.ndarray, leads: np.ndarray) -> np.ndarray:
        m = self.prior_strength
        return (converted + m * self.overall_rate_) / (leads + m)

    def _out_of_fold_rate(self, sources: pd.Series, y: np.ndarray) -> np.ndarray:
        fold = np.random.default_rng(self.random_state).integers(0, _FOLDS, y.size)
        frame = pd.DataFrame({"source": sources.to_numpy(), "fold": fold, "y": y})
        total = frame.groupby("source")["y"].agg(["size", "sum"])
        inside = frame.groupby(["source", "fold"])["y"].agg(["size", "sum"])
        key = pd.MultiIndex.from_arrays([frame["source"], frame["fold"]])
        n_out = total["size"].reindex(frame["source"]).to_numpy() - inside["size"].reindex(key).to_numpy()
        c_out = total["sum"].reindex(frame["source"]).to_numpy() - inside["sum"].reindex(key).to_numpy()
        return self._smooth(c_out, n_out)

    def _fit_logistic(self, frame: pd.DataFrame, sources: pd.Series, y: np.ndarray) -> None:
        design = np.column_stack([_logit(self._out_of_fold_rate(sources, y)), self._matrix(frame)])
        self.feature_names_ = ["source_rate_logit", *self.engagement_, *self.attributes_]
        fitted = StandardisedLogistic.fit(
            design, y, C=self.C, non_negative=np.isin(self.feature_names_, self.engagement_)
        )
        self.means_, self.scales_ = fitted.means, fitted.scales
        self.coef_, self.intercept_ = fitted.coef, fitted.intercept
        self.coefficients_ = pd.Series(self.coef_, index=self.feature_names_, name="coefficient")
        probability = fitted.predict_proba(design)
        self.metrics_.update(auc=_auc(y, probability), brier=float(np.mean((probability - y) ** 2)))

    # ---- prediction

    def predict_proba(self, features_df: pd.DataFrame) -> np.ndarray:
        """Conversion probability of each lead, shape ``(n,)``.

        A source never seen in ``fit`` gets the overall rate.
        """
        if not hasattr(self, "mode_"):
            raise ValueError("This LeadScorer is not fitted; call fit() first.")
        if not isinstance(features_df, pd.DataFrame):
            raise ValueError("features_df must be a pandas DataFrame, one row per lead.")
        rates = self.by_source_.set_index("source")["rate"]
        source_rate = self._sources(features_df).map(rates).fillna(self.overall_rate_).to_numpy(dtype=float)
        if self.mode_ == "prior":
            return source_rate
        design = np.column_stack([_logit(source_rate), self._matrix(features_df)])
        return self._logistic().predict_proba(design)

    def _logistic(self) -> StandardisedLogistic:
        return StandardisedLogistic(self.means_, self.scales_, self.coef_, self.intercept_)

    # ---- storage

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters, source table and metrics; :meth:`from_dict` restores them."""
        data: dict[str, Any] = {
            "prior_strength": self.prior_strength,
            "min_class_count": self.min_class_count,
            "C": self.C,
            "default_rate": self.default_rate,
            "source_col": self.source_col,
            "random_state": self.random_state,
            "mode": self.mode_,
            "overall_rate": self.overall_rate_,
            "engagement": self.engagement_,
            "attributes": self.attributes_,
            "by_source": self.by_source_.to_dict(orient="records"),
            "metrics": {
                k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in self.metrics_.items()
            },
        }
        if self.mode_ == "logistic":
            data.update(
                feature_names=self.feature_names_,
                means=self.means_.tolist(),
                scales=self.scales_.tolist(),
                coef=self.coef_.tolist(),
                intercept=self.intercept_,
            )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LeadScorer:
        """Rebuild a scorer stored with :meth:`to_dict`."""
        keys = ("prior_strength", "min_class_count", "C", "default_rate", "source_col", "random_state")
        scorer = cls(**{k: data[k] for k in keys if k in data})
        scorer.mode_ = data["mode"]
        scorer.overall_rate_ = float(data["overall_rate"])
        scorer.engagement_, scorer.attributes_ = list(data["engagement"]), list(data["attributes"])
        scorer.by_source_ = pd.DataFrame(
            data["by_source"], columns=["source", "leads", "converted", "raw_rate", "rate"]
        )
        scorer.metrics_ = dict(data.get("metrics", {}))
        if scorer.mode_ == "logistic":
            scorer.feature_names_ = list(data["feature_names"])
            scorer.means_ = np.asarray(data["means"], dtype=float)
            scorer.scales_ = np.asarray(data["scales"], dtype=float)
            scorer.coef_ = np.asarray(data["coef"], dtype=float)
            scorer.intercept_ = float(data["intercept"])
            scorer.coefficients_ = pd.Series(scorer.coef_, index=scorer.feature_names_, name="coefficient")
        return scorer


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((rankdata(score)[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
