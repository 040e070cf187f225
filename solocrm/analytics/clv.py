"""Customer lifetime value: BG/NBD purchase model, Gamma-Gamma spend model, discounted CLV.

The probabilistic models are those of the "buy till you die" literature for non-contractual
settings (a shop, a studio: customers leave silently, nobody cancels a subscription):

* :class:`BetaGeoModel` - BG/NBD: while alive a customer buys at a Poisson rate
  ``lambda ~ Gamma(r, alpha)``, and after every purchase leaves for good with probability
  ``p ~ Beta(a, b)``.
* :class:`GammaGammaModel` - the value of each repeat purchase is ``Gamma(p, nu)`` with
  ``nu ~ Gamma(q, gamma)`` across customers, independent of the purchase process.
* :func:`customer_lifetime_value` - expected purchases month by month x expected value x margin,
  discounted.

Both estimators follow scikit-learn conventions (``fit`` returns ``self``, fitted values end in
``_``) and serialise to JSON-safe dicts (``to_dict``/``from_dict``), never to pickles.

The textbook formulas owners meet in books and spreadsheets are here too
(:func:`historical_clv`, :func:`simple_clv`, :func:`discounted_cash_flow_clv`), with
:data:`TEXTBOOK_CAVEATS`, the list of what they silently assume.

Speed: customers with the same ``(x, t_x, T)`` contribute the same likelihood term, so the
fit works on the distinct triples with counts, and terms that depend on ``x`` alone (the
expensive ``gammaln``/``digamma``) on the distinct ``x``. The Gaussian hypergeometric function
of the conditional expectation depends on ``(x, T)`` only and is evaluated once per distinct
pair.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
   Way: An Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves
   for Customer Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
   http://brucehardie.com/notes/025/
.. [4] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) Using the BG/NBD
   Model. http://brucehardie.com/notes/021/
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.special import betainc, digamma, expit, gammaln, hyp2f1, polygamma

DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}
DAYS_PER_MONTH = 365.25 / 12
# The optimiser works on log-parameters; clipping them to e^-25 .. e^25 only keeps exp() finite.
_LOG_BOUND = 25.0
_SAMPLE_ROWS = 50_000
# Where eq. (10) with scipy's 2F1 is trusted, and the blocks of the positive series otherwise.
_EULER_MAX_C = 1e5
_EULER_MIN_GAP = 1e-6
_SERIES_BLOCK = 256
_SERIES_MAX_TERMS = 1 << 20
# Above this a + b, the beta-function ratios of the likelihood are summed term by term (up to
# this many terms, i.e. repeat purchases of one customer).
_BETA_SUM_DIRECT = 1e4
_BETA_SUM_TERMS = 1_000_000
# The NBD (nobody drops out) replaces a BG/NBD fit on a ridge unless the BG/NBD is more likely
# by more than this (in log-likelihood units: far below any statistical significance).
NO_DROPOUT_TOLERANCE = 0.01
# Upper bound of a + b, the spread parameter of the beta distribution of drop-out probabilities:
# beyond it every customer has practically the same drop-out probability a/(a+b).
MAX_DROPOUT_SPREAD = 1e6

TEXTBOOK_CAVEATS: tuple[str, ...] = (
    "margin x r / (1 + d - r) assumes one constant retention rate r for every customer, forever, "
    "and cash at the end of each period after the first (the first margin is excluded); the variant "
    "margin x (1 + d) / (1 + d - r) counts the first period. Mixing the two is an off-by-one-period "
    "error (Fader & Hardie 2012, note 024).",
    "A constant retention rate ignores heterogeneity: the customers who stay are the loyal ones, so "
    "the retention rate of a cohort rises over time and the formula undervalues the base "
    "(Fader & Hardie 2010).",
    "Retention rates only exist in contractual settings (subscriptions). In a shop nobody cancels: "
    "whether a customer is still 'retained' is unobserved and must be inferred, e.g. P(alive) of "
    "the BG/NBD model.",
    "AOV x purchase frequency x expected lifetime ignores discounting (a euro in five years is worth "
    "less than one today), so it overstates value, more so for long lifetimes.",
    "AOV x frequency x lifetime uses averages: the CLV of the average customer is not the average "
    "CLV, because frequency, value and lifetime vary across customers and are multiplied "
    "(Jensen's inequality).",
    "'Expected lifetime = 1 / churn rate' is the mean of a geometric lifetime: it again assumes a "
    "constant churn rate, the same for everyone.",
    "Many calculators give revenue, not value: without the margin the result is not what a "
    "customer is worth to the business.",
    "Historical CLV (the sum of past spend) describes the past: a customer who left last year "
    "can rank first.",
    "A yearly discount rate applied to monthly cash flows must be converted, (1 + d)^(1/12) - 1 "
    "per month; lifetimes' discount_rate is already monthly, so passing 0.10 there means 10% "
    "per month (214% a year).",
)


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` (or ``from_dict``)."""


class ModelUnusable(ValueError):
    """The data cannot support this model, or the fitted model defines no finite prediction.

    The message says why, in words an owner can act on. Callers catch it and fall back to
    :func:`heuristic_clv`, labelled as a heuristic (:data:`HEURISTIC_METHODS`).
    """


@dataclass(frozen=True)
class _Distinct:
    """A column reduced to its distinct values, with each row's position among them."""

    values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, column: np.ndarray) -> _Distinct:
        index, values = pd.factorize(column)
        return cls(np.asarray(values, dtype=np.float64), index)


@dataclass(frozen=True)
class _BGData:
    """BG/NBD sufficient statistics, compressed to distinct values with customer counts.

    Repeat buyers are stored once per distinct (x, t_x, T); their x, t_x and T point into the
    distinct values of each column, so logarithms are taken once per distinct value.
    """

    xs: np.ndarray  # distinct frequencies (0 included), for the terms in x alone
    x_counts: np.ndarray
    zero_T: np.ndarray  # distinct T of customers with x = 0 (their likelihood depends on T only)
    zero_counts: np.ndarray
    x: _Distinct  # repeat buyers, one row per distinct (x, t_x, T)
    t_x: _Distinct
    T: _Distinct
    counts: np.ndarray
    count_by_T: np.ndarray  # customers and purchases per distinct T of repeat buyers
    purchases_by_T: np.ndarray
    n_customers: float


class _StoredModel:
    """JSON round trip and the "fitted?" check shared by the two models: parameters are stored
    as plain numbers (never pickles), see ``FittedModel``."""

    PARAMS: ClassVar[tuple[str, ...]] = ()
    NAME: ClassVar[str] = ""

    def _check_fitted(self) -> None:
        if not hasattr(self, f"{self.PARAMS[0]}_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted: call fit() or from_dict() first")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters and fit metrics, for storage (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "model": self.NAME,
            "params": {name: getattr(self, f"{name}_") for name in self.PARAMS},
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        model = cls()
        for name in cls.PARAMS:
            setattr(model, f"{name}_", float(d["params"][name]))
        model.log_likelihood_ = float(d.get("log_likelihood", np.nan))
        model.n_customers_ = int(d.get("n_customers", 0))
        return model


class BetaGeoModel(_StoredModel):
    """BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    max_iter : int
        Iteration limit of the Newton trust-region optimiser.

    Attributes
    ----------
    r_, alpha_ : float
        Shape and scale of the gamma distribution of purchase rates (``alpha_`` is in the time
        unit of ``recency``/``T``).
    a_, b_ : float
        Parameters of the beta distribution of the drop-out probability.
        ``a_ = 0`` (with ``b_ = 1``, which then plays no role) is the no-dropout limit
        ``a/(a+b) -> 0``: the NBD, where nobody leaves (see ``boundary_``).
    log_likelihood_ : float
        Maximised log-likelihood (sum over customers).
    n_customers_ : int
        Number of customers (sum of the weights) the model was fitted on.
    boundary_ : str or None
        ``"no_dropout"`` when the likelihood is highest at the no-dropout boundary and the NBD
        limit was fitted instead, ``"common_dropout"`` when ``a + b`` rose to the bound
        :data:`MAX_DROPOUT_SPREAD` (everybody has the same drop-out probability ``a/(a+b)``),
        ``None`` for an interior maximum (see :meth:`fit`).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
       Way: An Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284.
       Likelihood (section 3), unconditional expectation eq. (9), conditional expectation eq. (10).
    .. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) Using the
       BG/NBD Model. http://brucehardie.com/notes/021/
    .. [3] Morrison, D. G. & Schmittlein, D. C. (1988). Generalizing the NBD Model for Customer
       Purchases: What Are the Implications and Is It Worth the Effort? *Journal of Business &
       Economic Statistics* 6(2), 145-159 (the NBD, the no-dropout special case).
    .. [4] Fader, P. S. & Hardie, B. G. S. (2013). Overcoming the BG/NBD Model's #NUM! Error
       Problem. http://brucehardie.com/notes/027/ (the likelihood in log space).
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    NAME: ClassVar[str] = "BG/NBD"

    def __init__(self, *, max_iter: int = 100) -> None:
        self.max_iter = max_iter
        self.boundary_: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters, fit metrics and ``boundary`` (see :meth:`fit`)."""
        return {**super().to_dict(), "boundary": self.boundary_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_dict` output (any parameters, even a ridge's)."""
        model = super().from_dict(d)
        model.boundary_ = d.get("boundary") or ("no_dropout" if model.a_ == 0.0 else None)
        return model

    def fit(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> BetaGeoModel:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases ``x``, age at last purchase ``t_x`` and age ``T`` of each customer,
            as produced by :func:`solocrm.analytics.summary.summarize`.
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        ModelUnusable
            No customers, or no repeat buyer at all (with only one purchase per customer, the
            purchase rate and the drop-out process cannot be told apart): use
            :func:`heuristic_clv`.
        ValueError
            Inconsistent inputs (negative, non-integer or non-finite values).

        Notes
        -----
        The likelihood is maximised by Newton's method on log-parameters. Where it is flat in
        some direction (:func:`_on_a_ridge`: a drop-out rate the data hardly inform, typical of
        shops where almost nobody leaves), the fit is restarted along the ridge and the best
        point kept, and the NBD limit (``a = 0``, nobody drops out; 2 parameters, always well
        conditioned) is fitted too; it replaces the BG/NBD unless the BG/NBD is more likely by
        more than :data:`NO_DROPOUT_TOLERANCE`. When the best point has ``a + b`` above
        :data:`MAX_DROPOUT_SPREAD`, the fit is redone on that bound. That is a maximum on the
        closure of a bounded parameter space, whose boundary ``a/(a+b) = 0`` is the NBD; no
        penalty is added, so interior maxima (the published CDNOW estimates) are unchanged.
        """
        x, t_x, age, n = _bg_inputs(frequency, recency, T, weights)
        start = np.log([1.0, max(float(np.average(age, weights=n)), 1e-3), 1.0, 1.0])
        result, data = _fit(_compress_bg, _bg_terms, (x, t_x, age, n), start, self.max_iter)
        self.boundary_ = None
        params = np.exp(np.clip(result.x, -_LOG_BOUND, _LOG_BOUND))
        if _on_a_ridge(result, data):
            result = _best_restart(result, data, self.max_iter)
            params = np.exp(np.clip(result.x, -_LOG_BOUND, _LOG_BOUND))
            if params[2] + params[3] > MAX_DROPOUT_SPREAD:
                params, result = _fit_at_spread_bound(params, data, self.max_iter)
                self.boundary_ = "common_dropout"
            nbd = _maximize(partial(_nbd_terms, data=data), result.x[:2], data.n_customers, self.max_iter)
            if (result.fun - nbd.fun) * data.n_customers >= -NO_DROPOUT_TOLERANCE:
                # a = 0 is the no-dropout limit (the NBD); b plays no role there and is stored as 1.
                params, result, self.boundary_ = np.array([*np.exp(nbd.x), 0.0, 1.0]), nbd, "no_dropout"
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in params)
        self.log_likelihood_ = float(-result.fun * data.n_customers)
        self.n_customers_ = round(data.n_customers)
        self.converged_ = _converged(result)
        return self

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """Expected number of purchases in the next ``t`` time units, given the history.

        ``E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] * P(alive)`` (eq. 10 of [1]_). The product of
        the power and 2F1 is evaluated with Euler's transformation,
        ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, which stays finite and accurate for large
        ``x`` where the original 2F1 diverges.

        Parameters
        ----------
        t : float or array-like
            Length of the forecast period, in the time unit of ``T``.
        frequency, recency, T : array-like
            ``x``, ``t_x`` and ``T`` of each customer (broadcast together with ``t``).

        Returns
        -------
        numpy.ndarray
            Expected purchases (a float for scalar inputs).

        References
        ----------
        .. [1] Fader, Hardie & Lee (2005), "Counting Your Customers" the Easy Way, eq. (10).
        """
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, frequency, recency, T)))
        shape = arrays[0].shape
        t, x, t_x, age = (v.ravel() for v in arrays)
        # 2F1 is the costly part and depends on (t, x, T) only: evaluate it once per distinct triple.
        first, inverse = _group_rows(t, x, age)
        growth = self._purchase_growth(t[first], x[first], age[first])[inverse]
        return (growth * self._alive(x, t_x, age)).reshape(shape)[()]

    def expected_purchases_new_customer(self, t: ArrayLike) -> np.ndarray:
        """Expected purchases of a new customer in a period of length ``t``, ``E[X(t)]``.

        ``E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``.

        References
        ----------
        .. [1] Fader, Hardie & Lee (2005), "Counting Your Customers" the Easy Way, eq. (9).
        """
        t = np.asarray(t, dtype=np.float64)
        return self._purchase_growth(t, np.zeros_like(t), np.zeros_like(t))[()]

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Probability that the customer has not dropped out by ``T``.

        ``P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``,
        computed in log space (a logistic of the log odds) so large ``x`` or ``T`` cannot
        overflow. Customers without repeat purchases are alive with probability 1 under the
        BG/NBD assumption that drop-out happens only right after a purchase.

        References
        ----------
        .. [1] Fader, Hardie & Lee (2008), Computing P(alive) Using the BG/NBD Model.
        """
        x, t_x, age = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (frequency, recency, T)))
        return self._alive(x, t_x, age)[()]

    def _alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """P(alive); the log odds of having dropped out only matter (and only exist) for x > 0."""
        self._check_fitted()
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        if a == 0.0:  # the no-dropout limit (NBD): nobody ever leaves
            return np.ones(np.broadcast(x, t_x, age).shape)
        # b + x - 1 >= b > 0 when x > 0; the clip only keeps the unused x = 0 rows finite.
        log_odds = np.log(a / np.maximum(b + x - 1.0, 1e-300)) + (r + x) * np.log(
            (alpha + age) / (alpha + t_x)
        )
        return np.where(x > 0, expit(-log_odds), 1.0)

    def _purchase_growth(self, t: np.ndarray, x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """``E[Y(t) | x, t_x, T] / P(alive)``: depends on (t, x, T) only, not on t_x.

        Three evaluations of the same quantity: the NBD closed form when ``a = 0`` (no
        drop-out), eq. (10) with 2F1 after Euler's transformation where it is accurate, and
        :func:`_growth_series`, a series of positive terms, wherever 2F1 would overflow or its
        result is dominated by cancellation (large ``a + b``, ``a`` near 1).
        """
        self._check_fitted()
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        t, x, age = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, x, age))
        nbd = (r + x) * t / (alpha + age)  # E[Y(t) | alive] when nobody drops out: the upper bound
        if a == 0.0:
            return nbd
        growth, trusted = _growth_euler(t, x, age, r, alpha, a, b)
        trusted &= (growth >= 0.0) & (growth <= nbd * (1.0 + 1e-9))
        redo = ~trusted & (t > 0)
        if redo.any():
            growth = growth.copy()
            growth[redo] = _growth_series(t[redo], x[redo], age[redo], r, alpha, a, b)
        return np.where(t > 0, growth, 0.0)


class GammaGammaModel(_StoredModel):
    """Gamma-Gamma model of the average spend per purchase (Fader, Hardie & Lee 2005).

    The value of each purchase of a customer is ``Gamma(p, nu)``; ``nu`` varies across customers
    as ``Gamma(q, gamma)``. The model assumes spend is independent of purchase frequency - check
    the correlation of ``frequency`` and ``monetary_value`` among repeat buyers before using it.

    Attributes
    ----------
    p_, q_, v_ : float
        ``p``, ``q`` and ``gamma`` (called ``v`` as in lifetimes), in the currency of the input.
    log_likelihood_ : float
        Maximised log-likelihood of the repeat buyers' mean spends.
    n_customers_ : int
        Number of repeat buyers the model was fitted on.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value
       Curves for Customer Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
    .. [2] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
       http://brucehardie.com/notes/025/ (likelihood of the mean spend, conditional mean).
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    NAME: ClassVar[str] = "Gamma-Gamma"

    def __init__(self, *, max_iter: int = 100) -> None:
        self.max_iter = max_iter

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaModel:
        """Estimate ``p, q, gamma`` by maximum likelihood on the repeat buyers.

        Parameters
        ----------
        frequency : array-like
            Repeat purchases ``x``; customers with ``x = 0`` are ignored (the model describes
            the mean of ``x >= 1`` repeat purchases).
        monetary_value : array-like
            Mean value ``m`` of each customer's repeat purchases (must be > 0 when ``x > 0``).
        weights : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.
        """
        x, m, n = _gg_inputs(frequency, monetary_value, weights)
        start = np.log([1.0, 2.0, float(np.average(m, weights=n))])
        result, data = _fit(_GGData.of, _gg_terms, (x, m, n), start, self.max_iter)
        total = data.n_customers
        self.p_, self.q_, self.v_ = (float(v) for v in np.exp(result.x))
        self.log_likelihood_ = float(-result.fun * total)
        self.n_customers_ = round(total)
        self.converged_ = _converged(result)
        return self

    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """Expected value of a customer's future purchases, shrunk towards the population mean.

        ``E[M | x, m] = p (gamma + x m) / (p x + q - 1)``, a weighted average of the population
        mean ``p gamma / (q - 1)`` and the customer's observed mean ``m``. For ``x = 0`` it is
        the population mean. The model describes positive spends: a repeat buyer whose mean
        ``m`` is zero or negative (free orders, refunds) counts as ``m = 0``, i.e. the
        population mean discounted by their ``x`` purchases worth nothing.

        Raises
        ------
        ModelUnusable
            When ``q <= 1``: the fitted spend distribution has no finite mean (a few very large
            purchases), so the model defines no expected value for new or one-time customers.

        References
        ----------
        .. [1] Fader & Hardie (2013), The Gamma-Gamma Model of Monetary Value.
        """
        self._check_fitted()
        self.check_finite_mean()
        x, m = np.broadcast_arrays(
            np.asarray(frequency, dtype=np.float64), np.asarray(monetary_value, dtype=np.float64)
        )
        m = np.where((x > 0) & np.isfinite(m), np.maximum(m, 0.0), 0.0)
        return (self.p_ * (self.v_ + x * m) / (self.p_ * x + self.q_ - 1.0))[()]

    def check_finite_mean(self) -> None:
        """Raise :class:`ModelUnusable` unless the fitted spend distribution has a finite mean
        (``q > 1``)."""
        self._check_fitted()
        if not self.q_ > 1.0:
            raise ModelUnusable(
                f"the spend model's q = {self.q_:.3g} <= 1: the fitted spend distribution has no "
                "finite mean (a few very large purchases?), so it cannot value customers"
            )


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    discount_rate_yearly: float = 0.10,
    margin: float = 1.0,
    time_unit: str = "D",
    days_per_month: float = DAYS_PER_MONTH,
) -> np.ndarray:
    """Discounted value of each customer's purchases over the next ``months`` months.

    ``CLV = margin * E[M | x, m] * sum_{k=1..months} (E[Y(k) | .] - E[Y(k-1) | .]) / (1+d)^(k/12)``

    where ``E[Y(k) | .]`` is the BG/NBD expected number of purchases in the next ``k`` months
    (:meth:`BetaGeoModel.expected_purchases`), ``E[M | x, m]`` the Gamma-Gamma expected spend per
    purchase and ``d`` the yearly discount rate. Each month's purchases are discounted as if paid
    at the end of the month (as lifetimes does).

    Parameters
    ----------
    bgnbd, gamma_gamma : fitted models
        The purchase and the spend model.
    frequency, recency, T, monetary_value : array-like
        Customer summaries in the time unit the BG/NBD model was fitted in.
    months : int
        Horizon in months.
    discount_rate_yearly : float
        Yearly discount rate (cost of capital), converted to ``(1+d)^(1/12) - 1`` per month.
    margin : float
        Profit margin applied to revenue (1.0 gives revenue).
    time_unit : {"D", "W"}
        Unit of ``recency`` and ``T``.
    days_per_month : float
        Length of a month; the default is the mean calendar month, 365.25 / 12 days.

    Returns
    -------
    numpy.ndarray
        CLV of each customer.

    Notes
    -----
    lifetimes' ``GammaGammaFitter.customer_lifetime_value`` takes a *monthly* discount rate,
    has no margin and uses 30-day (or 4.345-week) months; with ``days_per_month=30`` (or
    ``4.345 * 7``) and ``discount_rate_yearly = (1 + monthly)^12 - 1`` this function returns the
    same numbers.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value
       Curves for Customer Base Analysis. *Journal of Marketing Research* 42(4), 415-430.
    .. [2] Gupta, S. et al. (2006). Modeling Customer Lifetime Value. *Journal of Service
       Research* 9(2), 139-155.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (frequency, recency, T, monetary_value))
    )
    shape = arrays[0].shape
    x, t_x, age, m = (v.ravel() for v in arrays)
    value = gamma_gamma.expected_average_value(x, m)  # raises ModelUnusable when q <= 1
    purchases = _discounted_purchases(
        bgnbd, x, t_x, age, months, discount_rate_yearly, time_unit, days_per_month
    )
    return (margin * value * purchases).reshape(shape)[()]


def _discounted_purchases(
    bgnbd: BetaGeoModel | None,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
    months: int,
    discount_rate_yearly: float,
    time_unit: str,
    days_per_month: float,
) -> np.ndarray:
    """``sum_{k=1..months} (purchases in month k) / (1+d)^(k/12)`` of each customer: the BG/NBD's
    ``E[Y(k)] - E[Y(k-1)]``, or without a model the historical rate ``x / max(T, 1 month)``."""
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be 'D' (days) or 'W' (weeks), not {time_unit!r}")
    month = days_per_month / DAYS_PER_UNIT[time_unit]
    discount = (1.0 + discount_rate_yearly) ** (-np.arange(1, months + 1) / 12.0)
    if bgnbd is None:
        return discount.sum() * month * x / np.maximum(age, month)
    # E[Y(t)] = growth(t; x, T) * P(alive; x, t_x, T), and the growth needs 2F1: evaluate it once
    # per distinct (x, T) pair, for all month ends at once.
    first, inverse = _group_rows(x, age)
    horizons = month * np.arange(months + 1)[:, np.newaxis]
    cumulative = bgnbd._purchase_growth(horizons, x[first], age[first])
    return (discount @ np.diff(cumulative, axis=0))[inverse] * bgnbd._alive(x, t_x, age)


@dataclass(frozen=True)
class HeuristicCLV:
    """Customer values from :func:`heuristic_clv`: a rule of thumb, not a fitted model.

    ``method`` is a key of :data:`HEURISTIC_METHODS` and ``label`` its text, to show next to
    every number; ``reason`` says why no model was used.
    """

    clv: np.ndarray
    expected_purchases: np.ndarray
    average_value: np.ndarray
    method: str
    label: str
    reason: str


HEURISTIC_METHODS: dict[str, str] = {
    "spend_x_model_purchases": "heuristic: historical average spend per purchase x the BG/NBD's "
    "expected purchases (the spend model could not be used)",
    "spend_x_historical_rate": "heuristic: historical average spend per purchase x historical "
    "purchase rate (the purchase model could not be fitted)",
}


def heuristic_clv(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    total_spend: ArrayLike,
    *,
    reason: str,
    bgnbd: BetaGeoModel | None = None,
    months: int = 12,
    discount_rate_yearly: float = 0.10,
    margin: float = 1.0,
    time_unit: str = "D",
    days_per_month: float = DAYS_PER_MONTH,
) -> HeuristicCLV:
    """The documented fallback when BG/NBD or Gamma-Gamma cannot be fitted or used.

    ``CLV = margin * v * sum_{k=1..months} y_k / (1+d)^(k/12)`` where

    * ``v = max(total_spend, 0) / (x + 1)`` is the customer's historical average spend per
      purchase day (every purchase, the first one included; refunds net out; never negative);
    * ``y_k`` the purchases expected in month ``k``: from ``bgnbd`` when it was fitted
      (``E[Y(k)] - E[Y(k-1)]``, P(alive) included), otherwise the historical repeat-purchase
      rate ``x / max(T, 1 month)`` (the tenure floored at a month so a customer who bought twice
      last week is not projected at a hundred purchases a year). One-time buyers get 0.

    This is the textbook "average order value x purchase frequency", discounted monthly; it
    ignores heterogeneity and drop-out (see :data:`TEXTBOOK_CAVEATS`), hence the label.

    Parameters
    ----------
    frequency, recency, T : array-like
        ``x``, ``t_x`` and ``T`` of each customer, in ``time_unit``.
    total_spend : array-like
        Sum of every purchase of each customer (``summary["total_spend"]``).
    reason : str
        Why no model was used (the message of the :class:`ModelUnusable` caught), kept in the
        result for the page and the API.
    bgnbd : BetaGeoModel, optional
        A fitted purchase model, when only the spend model failed.
    months, discount_rate_yearly, margin, time_unit, days_per_month
        As in :func:`customer_lifetime_value`.

    Returns
    -------
    HeuristicCLV
        ``clv``, ``expected_purchases`` (over the horizon), ``average_value``, the ``method``
        key, its ``label`` and the ``reason``; every number finite.

    References
    ----------
    .. [1] Gupta, S. & Lehmann, D. R. (2003). Customers as Assets. *Journal of Interactive
       Marketing* 17(1), 9-24 (margin x purchases x discounting).
    .. [2] Berger, P. D. & Nasr, N. I. (1998). Customer Lifetime Value: Marketing Models and
       Applications. *Journal of Interactive Marketing* 12(1), 17-30.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (frequency, recency, T, total_spend))
    )
    shape = arrays[0].shape
    x, t_x, age, spend = (np.nan_to_num(v.ravel(), nan=0.0, posinf=0.0, neginf=0.0) for v in arrays)
    value = np.maximum(spend, 0.0) / (np.maximum(x, 0.0) + 1.0)
    purchases = _discounted_purchases(
        bgnbd, x, t_x, age, months, discount_rate_yearly, time_unit, days_per_month
    )
    undiscounted = _discounted_purchases(bgnbd, x, t_x, age, months, 0.0, time_unit, days_per_month)
    method = "spend_x_historical_rate" if bgnbd is None else "spend_x_model_purchases"
    return HeuristicCLV(
        clv=(margin * value * purchases).reshape(shape),
        expected_purchases=undiscounted.reshape(shape),
        average_value=value.reshape(shape),
        method=method,
        label=HEURISTIC_METHODS[method],
        reason=reason,
    )


def historical_clv(total_spend: ArrayLike, margin: float = 1.0) -> np.ndarray:
    """Historical CLV: the margin earned from a customer so far.

    ``CLV_hist = margin * sum of past spend``. It measures the past, not the future: a customer
    who left long ago can rank first (see :data:`TEXTBOOK_CAVEATS`).

    References
    ----------
    .. [1] Kumar, V. & Reinartz, W. (2018). *Customer Relationship Management: Concepts,
       Strategy, and Tools*, 3rd ed. Springer (past customer value).
    """
    return (margin * np.asarray(total_spend, dtype=np.float64))[()]


def simple_clv(
    average_order_value: ArrayLike,
    purchases_per_year: ArrayLike,
    expected_lifetime_years: ArrayLike,
    margin: float = 1.0,
) -> np.ndarray:
    """The textbook shortcut: ``margin * AOV * purchases per year * expected lifetime in years``.

    No discounting and no heterogeneity: it overstates the value of long relationships and
    the CLV of the average customer is not the average CLV (see :data:`TEXTBOOK_CAVEATS`).

    References
    ----------
    .. [1] A practitioners' rule of thumb (online CLV calculators). Gupta, S. & Lehmann, D. R.
       (2003). Customers as Assets. *Journal of Interactive Marketing* 17(1), 9-24, give the
       alternative with retention and discounting, margin x r / (1 + d - r).
    """
    aov, per_year, years = (
        np.asarray(v, dtype=np.float64)
        for v in (average_order_value, purchases_per_year, expected_lifetime_years)
    )
    return (margin * aov * per_year * years)[()]


def discounted_cash_flow_clv(cash_flow_per_year: ArrayLike, discount_rate: float, years: int) -> np.ndarray:
    """Present value of a constant yearly cash flow received at the end of each year.

    ``CLV = sum_{t=1..years} CF / (1+d)^t = CF (1 - (1+d)^-years) / d`` (an ordinary annuity;
    ``CF * years`` when ``d = 0``). Example: 1,000 a year for 5 years at 10 % gives 3,790.79.

    References
    ----------
    .. [1] Berger, P. D. & Nasr, N. I. (1998). Customer Lifetime Value: Marketing Models and
       Applications. *Journal of Interactive Marketing* 12(1), 17-30.
    """
    cash = np.asarray(cash_flow_per_year, dtype=np.float64)
    if years < 0 or discount_rate <= -1.0:
        raise ValueError("years must be >= 0 and discount_rate > -1")
    if discount_rate == 0:
        return (cash * years)[()]
    return (cash * (1.0 - (1.0 + discount_rate) ** -years) / discount_rate)[()]


def _group_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of one representative row per distinct combination of columns, and each row's group.

    Hash-based (``pandas.factorize``) per column, O(n), where sorting stacked rows would be
    O(n log n); combinations are numbered through a lookup table when they fit in one.
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    size = 1
    for column in columns:
        codes, uniques = pd.factorize(column)
        if size * len(uniques) >= 2**62:  # renumber the partial key before it could overflow
            key, seen = pd.factorize(key)
            size = len(seen)
        key = key * len(uniques) + codes
        size *= len(uniques)
    if size <= 4 * len(key) + 1_000_000:
        present = np.bincount(key, minlength=size) > 0
        groups = (np.cumsum(present) - 1)[key]
        n_groups = int(present.sum())
    else:
        groups, seen = pd.factorize(key)
        n_groups = len(seen)
    first = np.empty(n_groups, dtype=np.int64)
    first[groups] = np.arange(len(groups))
    return first, groups


def _growth_euler(
    t: np.ndarray, x: np.ndarray, age: np.ndarray, r: float, alpha: float, a: float, b: float
) -> tuple[np.ndarray, np.ndarray]:
    """``E[Y(t) | alive]`` by eq. (10) of Fader, Hardie & Lee (2005), and where it can be trusted.

    ``(a+b+x-1)/(a-1) [1 - F]`` with ``F = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, Euler's
    transformation of the paper's ``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``. ``1 - F`` loses
    ``-log10 |1 - F|`` digits to cancellation, and scipy's 2F1 overflows or loses accuracy when its
    parameters are large: results with ``|1 - F| < 1e-6`` or ``a + b + x > 1e5`` are not trusted
    (over a random grid of 3,000 parameter sets the trusted ones agree with the series to 2e-9).
    """
    c = a + b + x - 1.0
    z = t / (alpha + age + t)
    with np.errstate(all="ignore"):  # overflow and 0/0 are caught by ``trusted`` below
        tail = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        growth = c / (a - 1.0) * (1.0 - tail) if a != 1.0 else np.full(c.shape, np.nan)
        trusted = np.isfinite(growth) & (c <= _EULER_MAX_C) & (np.abs(1.0 - tail) >= _EULER_MIN_GAP)
    return growth, trusted


def _growth_series(
    t: np.ndarray, x: np.ndarray, age: np.ndarray, r: float, alpha: float, a: float, b: float
) -> np.ndarray:
    """``E[Y(t) | alive]`` as a series of positive terms, finite for any parameters.

    Given that a customer is alive at ``T``, the posterior of the purchase rate is
    ``Gamma(r+x, alpha+T)`` and that of the drop-out probability ``Beta(a, b+x)``, independent
    (Fader, Hardie & Lee 2008, note 021). Purchase ``j`` after ``T`` happens when the Poisson
    process reaches ``j`` events in ``t`` and the customer survived the ``j-1`` purchases
    before it, so

    ``E[Y(t) | alive] = sum_{j>=1} P(N >= j) w_j = sum_{k>=0} P(N = k) W_k``

    with ``N ~ NegBin(r+x, z = t/(alpha+T+t))`` (the gamma-Poisson mixture),
    ``w_j = E[(1-p)^(j-1)] = prod_{i<j-1} (b+x+i)/(a+b+x+i)`` and ``W_k = w_1 + ... + w_k``. Every
    term is positive (no cancellation); ``w_j`` is accumulated with ``log1p`` so huge ``a`` and
    ``b`` keep full precision, and ``a = 0`` gives ``W_k = k``, i.e. the NBD mean. Terms are
    summed in blocks until a bound on the remainder, from the negative binomial tails
    ``P(N >= K) = I_z(K, r+x)`` and ``E[N; N >= K] = E[N] I_z(K-1, r+x+1)`` (the regularised
    incomplete beta function), falls below 1e-14 of the sum. Equals eq. (10) of the paper, which
    is its closed form (``W_k = (a+b+x-1)/(a-1) (1 - (b+x)_k/(a+b+x-1)_k)``).
    """
    n, beta = r + x, b + x
    z = t / (alpha + age + t)
    log_first, log_z = n * np.log1p(-z), np.log(z)
    mean = n * z / (1.0 - z)
    total, cumulative, log_w = np.zeros_like(n), np.zeros_like(n), np.zeros_like(n)
    active = np.arange(len(n))
    block = np.arange(_SERIES_BLOCK, dtype=np.float64)
    for start in range(0, _SERIES_MAX_TERMS, _SERIES_BLOCK):
        i = active
        k = start + block
        nn = n[i, np.newaxis]
        log_pmf = gammaln(nn + k) - gammaln(nn) - gammaln(k + 1.0) + log_first[i, None] + k * log_z[i, None]
        steps = np.log1p(-a / (a + beta[i, None] + k))  # log w_{j+1} - log w_j, j = start+1, ...
        log_ws = log_w[i, None] + np.cumsum(steps, axis=1) - steps  # log w_j, j = start+1 .. start+B
        w = np.exp(log_ws)
        partial_sums = cumulative[i, None] + np.cumsum(w, axis=1) - w  # W_k, k = start .. start+B-1
        total[i] += (np.exp(log_pmf) * partial_sums).sum(axis=1)
        cumulative[i] += w.sum(axis=1)
        log_w[i] += steps.sum(axis=1)
        end = start + _SERIES_BLOCK  # the remainder: sum over k >= end of P(N = k) W_k
        low = cumulative[i] * betainc(end, n[i], z[i])
        high = low + np.exp(log_w[i]) * mean[i] * betainc(end - 1.0, n[i] + 1.0, z[i])
        done = high <= 1e-14 * total[i]
        if start + _SERIES_BLOCK >= _SERIES_MAX_TERMS:  # heavy tail (z near 1): take the midpoint
            total[i] += 0.5 * (low + high)
            break
        active = i[~done]
        if not active.size:
            break
    return total


def _dot(weights: np.ndarray, values: np.ndarray) -> float:
    # Not np.dot: BLAS may start threads for long vectors, which costs more than it saves on a
    # busy two-core machine.
    return float((weights * values).sum())


def _as_float_arrays(*values: ArrayLike) -> list[np.ndarray]:
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("all inputs must have the same length")
    return arrays


def _bg_inputs(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, age = _as_float_arrays(frequency, recency, T)
    n = np.ones_like(x) if weights is None else _as_float_arrays(weights, x)[0]
    if len(x) == 0 or n.sum() <= 0:
        raise ModelUnusable("BG/NBD needs at least one customer to fit")
    if not all(np.isfinite(v).all() for v in (x, t_x, age, n)):
        raise ValueError("frequency, recency, T and weights must be finite numbers")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a whole number >= 0 (repeat purchase days)")
    if np.any(t_x < 0) or np.any(t_x > age) or np.any((x == 0) & (t_x != 0)):
        raise ValueError("recency must be between 0 and T, and 0 when frequency is 0")
    if np.any(n < 0):
        raise ValueError("weights must be >= 0")
    if not np.any((x > 0) & (n > 0)):
        raise ModelUnusable(
            "BG/NBD needs at least one repeat buyer (frequency > 0): with a single purchase per "
            "customer the purchase rate and the drop-out rate cannot be estimated; wait for more "
            "history or use a longer observation period"
        )
    return x, t_x, age, n


def _compress_bg(x: np.ndarray, t_x: np.ndarray, age: np.ndarray, n: np.ndarray) -> _BGData:
    xs = _Distinct.of(x)
    zero = x == 0
    zero_first, zero_groups = _group_rows(age[zero])
    repeat = ~zero
    x_r, t_r, T_r = (_Distinct.of(column[repeat]) for column in (x, t_x, age))
    # Number the distinct (x, t_x) pairs, then the distinct (pair, T) triples; each key is below
    # n^2, so it cannot overflow int64, and decodes back to the column codes.
    pairs, pair_keys = pd.factorize(x_r.index * len(t_r.values) + t_r.index)
    groups, triple_keys = pd.factorize(pairs * len(T_r.values) + T_r.index)
    x_code, t_code = np.divmod(pair_keys[triple_keys // len(T_r.values)], len(t_r.values))
    T_code = triple_keys % len(T_r.values)
    counts = np.bincount(groups, weights=n[repeat], minlength=len(triple_keys))
    purchases = counts * x_r.values[x_code]
    return _BGData(
        xs=xs.values,
        x_counts=np.bincount(xs.index, weights=n),
        zero_T=age[zero][zero_first],
        zero_counts=np.bincount(zero_groups, weights=n[zero], minlength=len(zero_first)),
        x=_Distinct(x_r.values, x_code),
        t_x=_Distinct(t_r.values, t_code),
        T=_Distinct(T_r.values, T_code),
        counts=counts,
        count_by_T=np.bincount(T_code, weights=counts, minlength=len(T_r.values)),
        purchases_by_T=np.bincount(T_code, weights=purchases, minlength=len(T_r.values)),
        n_customers=float(n.sum()),
    )


def _fit(
    make_data: Callable[..., Any],
    terms: Callable[..., tuple[float, np.ndarray, np.ndarray]],
    columns: tuple[np.ndarray, ...],
    start: np.ndarray,
    max_iter: int,
) -> tuple[optimize.OptimizeResult, Any]:
    """Maximum likelihood on ``make_data(*columns)``, warm-started on a sample for large inputs.

    Each Newton step is a pass over the data; from the optimum of a systematic 1-in-k sample of
    ~50,000 rows the full data needs two or three steps instead of five to seven.
    """
    rows = len(columns[0])
    if rows >= 4 * _SAMPLE_ROWS:
        step = rows // _SAMPLE_ROWS
        sample = make_data(*(column[::step] for column in columns))
        trial = _maximize(partial(terms, data=sample), start, sample.n_customers, max_iter)
        if _converged(trial):  # a sample without repeat buyers, say, gives no useful start
            start = trial.x
    data = make_data(*columns)
    return _maximize(partial(terms, data=data), start, data.n_customers, max_iter), data


def _maximize(
    terms: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    start: np.ndarray,
    n: float,
    max_iter: int,
) -> optimize.OptimizeResult:
    """Maximise a log-likelihood over log-parameters with Newton trust-region steps.

    ``terms(theta)`` returns the log-likelihood, its gradient and Hessian in the parameters;
    the exact Hessian gives quadratic convergence, i.e. a handful of passes over the data where
    a quasi-Newton method needs fifteen to twenty. Working on logs keeps parameters positive.
    """
    last: dict[bytes, tuple[float, np.ndarray, np.ndarray]] = {}

    def evaluate(log_theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        key = log_theta.tobytes()
        if key not in last:  # trust-exact asks for the value/gradient and the Hessian separately
            last.clear()
            theta = np.exp(np.clip(log_theta, -_LOG_BOUND, _LOG_BOUND))
            ll, grad, hess = terms(theta)
            # Chain rule to log-parameters; divided by n so tolerances do not depend on data size.
            grad_log = theta * grad
            hess_log = np.outer(theta, theta) * hess + np.diag(grad_log)
            last[key] = (-ll / n, -grad_log / n, -hess_log / n)
        return last[key]

    return optimize.minimize(
        lambda v: evaluate(v)[:2],
        start,
        jac=True,
        hess=lambda v: evaluate(v)[2],
        method="trust-exact",
        options={"maxiter": max_iter, "gtol": 1e-9},
    )


def _on_a_ridge(result: optimize.OptimizeResult, data: _BGData) -> bool:
    """Whether a BG/NBD fit stopped where the likelihood is flat in some direction.

    That is: it did not converge, or the curvature of the total log-likelihood along its
    flattest direction (in log-parameters) is below 1, i.e. the likelihood changes by less than
    one half over a factor ``e`` in some combination of parameters. Typical causes: nobody
    seems to drop out (``a/(a+b) -> 0``, the NBD limit) or every customer drops out with the
    same probability (``a + b -> infinity``).
    """
    if not _converged(result):
        return True
    if "hess" in result:  # trust-exact returns the Hessian of -LL/n at its last point: no new pass
        curvature = np.asarray(result.hess) * data.n_customers
    else:
        theta = np.exp(np.clip(result.x, -_LOG_BOUND, _LOG_BOUND))
        _ll, grad, hess = _bg_terms(theta, data)
        curvature = -(np.outer(theta, theta) * hess + np.diag(theta * grad))
    return bool(np.linalg.eigvalsh(curvature).min() < 1.0)


def _best_restart(result: optimize.OptimizeResult, data: _BGData, max_iter: int) -> optimize.OptimizeResult:
    """The best of ``result`` and fits restarted along the drop-out ridge.

    On a flat ridge the point where Newton's method stops depends on its path, and so on the
    time unit (a fit in days and one in weeks stopped at a = 2e5, b = 3e8 and at a = 0.3, b = 422
    on the same data). Restarting from the same mean drop-out probability ``a/(a+b)`` with
    beta distributions of different spreads (``a + b`` = 1 ... 1,000) and keeping the highest
    likelihood makes the answer a property of the data, not of the path.
    """
    r, alpha, a, b = np.exp(np.clip(result.x, -_LOG_BOUND, _LOG_BOUND))
    mean = float(np.clip(a / (a + b), 1e-4, 0.5))
    best = result
    for spread in (1.0, 10.0, 100.0, 1000.0):
        start = np.log([r, alpha, mean * spread, (1.0 - mean) * spread])
        trial = _maximize(partial(_bg_terms, data=data), start, data.n_customers, max_iter)
        if np.isfinite(trial.fun) and trial.fun < best.fun:
            best = trial
    return best


def _fit_at_spread_bound(
    params: np.ndarray, data: _BGData, max_iter: int
) -> tuple[np.ndarray, optimize.OptimizeResult]:
    """The BG/NBD maximum on the bound ``a + b = MAX_DROPOUT_SPREAD``, in (r, alpha, a/b).

    When the likelihood keeps rising as ``a + b -> infinity`` at a fixed mean ``a/(a+b)`` (every
    customer has the same drop-out probability), any large ``a + b`` fits as well as the
    next and the optimiser stops wherever the slope fades. Fixing ``a + b`` at the bound leaves
    three well-determined parameters; predictions differ from the limit by ``O(x / (a+b))``
    of the drop-out effect, i.e. parts per ten thousand.
    """
    r, alpha, a, b = params
    result = _maximize(
        partial(_bg_terms_at_spread, data=data), np.log([r, alpha, a / b]), data.n_customers, max_iter
    )
    r, alpha, odds = np.exp(result.x)
    a, b = MAX_DROPOUT_SPREAD * odds / (1 + odds), MAX_DROPOUT_SPREAD / (1 + odds)
    return np.array([r, alpha, a, b]), result


def _bg_terms_at_spread(theta: np.ndarray, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """BG/NBD log-likelihood and derivatives in ``(r, alpha, rho = a/b)`` with ``a + b`` fixed at
    :data:`MAX_DROPOUT_SPREAD` (chain rule from :func:`_bg_terms`)."""
    r, alpha, odds = theta
    spread = MAX_DROPOUT_SPREAD
    ll, grad, hess = _bg_terms(np.array([r, alpha, spread * odds / (1 + odds), spread / (1 + odds)]), data)
    slope, curve = spread / (1 + odds) ** 2, 2 * spread / (1 + odds) ** 3  # da/drho = -db/drho
    jacobian = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, slope], [0, 0, -slope]])
    hess_rho = jacobian.T @ hess @ jacobian
    hess_rho[2, 2] += curve * (grad[3] - grad[2])
    return ll, jacobian.T @ grad, hess_rho


def _converged(result: optimize.OptimizeResult) -> bool:
    # trust-exact may stop on "failure to predict improvement" at the optimum, when the remaining
    # gain is below rounding error: judge convergence by the gradient instead.
    return bool(result.success or np.max(np.abs(result.jac)) < 1e-6)


def _bg_terms(theta: np.ndarray, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """BG/NBD log-likelihood (section 3 of [1]) with its gradient and Hessian in (r, alpha, a, b).

    Per customer ``LL = A(x) - (r+x) ln(alpha+T) + ln(1 + [x>0] e^d)`` with
    ``A(x) = lnG(r+x) - lnG(r) + r ln(alpha) + lnB(a, b+x) - lnB(a, b)`` and the log odds of
    having dropped out ``d = ln a - ln(b+x-1) + (r+x) (ln(alpha+T) - ln(alpha+t_x))``.
    """
    ll, grad, hess = _bg_terms_in_x(theta, data)
    e_ll, e_grad, e_hess = _exposure_terms(theta[0], theta[1], data)
    ll += e_ll
    grad[:2] += e_grad
    hess[:2, :2] += e_hess
    s_ll, s_grad, s_hess = _bg_dropout_terms(theta, data)
    return ll + s_ll, grad + s_grad, hess + s_hess


def _exposure_terms(r: float, alpha: float, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """``-(r+x) ln(alpha+T)`` of every customer, summed per distinct T, with derivatives in
    (r, alpha)."""
    ll, grad, hess = 0.0, np.zeros(2), np.zeros((2, 2))
    for T, customers, purchases in (
        (data.zero_T, data.zero_counts, 0.0),
        (data.T.values, data.count_by_T, data.purchases_by_T),
    ):
        log_T, inverse_T = np.log(alpha + T), 1.0 / (alpha + T)
        ll -= _dot(r * customers + purchases, log_T)
        grad -= _dot(customers, log_T), _dot(r * customers + purchases, inverse_T)
        hess[0, 1] -= _dot(customers, inverse_T)
        hess[1, 1] += _dot(r * customers + purchases, inverse_T**2)
    hess[1, 0] = hess[0, 1]
    return ll, grad, hess


def _nbd_terms(theta: np.ndarray, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """NBD log-likelihood, the BG/NBD's limit ``a -> 0`` (nobody drops out), in (r, alpha).

    Per customer ``LL = lnG(r+x) - lnG(r) + r ln(alpha) - (r+x) ln(alpha+T)``: the BG/NBD
    likelihood of section 3 of [1] with ``B(a, b+x)/B(a, b) -> 1`` and the drop-out term
    ``B(a+1, b+x-1)/B(a, b) -> 0``, so the two log-likelihoods are directly comparable.
    """
    r, alpha = theta
    xs, nx = data.xs, data.x_counts
    total = nx.sum()
    ll = _dot(nx, gammaln(r + xs)) + total * (r * np.log(alpha) - gammaln(r))
    grad = np.array([_dot(nx, digamma(r + xs)) + total * (np.log(alpha) - digamma(r)), total * r / alpha])
    hess = np.array([
        [_dot(nx, polygamma(1, r + xs)) - total * polygamma(1, r), total / alpha],
        [total / alpha, -total * r / alpha**2],
    ])  # fmt: skip
    e_ll, e_grad, e_hess = _exposure_terms(r, alpha, data)
    return ll + e_ll, grad + e_grad, hess + e_hess


def _bg_dropout_terms(theta: np.ndarray, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """``sum n ln(1 + e^d)`` over the distinct (x, t_x, T) of repeat buyers, with derivatives.

    With ``w`` the posterior probability of having dropped out (the logistic of ``d``), the
    derivatives are ``sum n w d'`` and ``sum n (w (1-w) d' d'^T + w d'')``.
    """
    r, alpha, a, b = theta
    xv, tv, Tv, n = data.x, data.t_x, data.T, data.counts
    log_T = np.log(alpha + Tv.values)[Tv.index]
    log_t = np.log(alpha + tv.values)[tv.index]
    inverse_T = (1.0 / (alpha + Tv.values))[Tv.index]
    inverse_t = (1.0 / (alpha + tv.values))[tv.index]
    inverse_b = (1.0 / (b + xv.values - 1.0))[xv.index]
    rx = (r + xv.values)[xv.index]
    d = (np.log(a) - np.log(b + xv.values - 1.0))[xv.index] + rx * (log_T - log_t)
    small = np.exp(-np.abs(d))  # shared by the softplus and the logistic; never overflows
    ll = _dot(n, np.maximum(d, 0.0) + np.log1p(small))
    w = np.where(d >= 0, 1.0, small) / (1.0 + small)
    nw, v = n * w, n * w * (1.0 - w)
    # First derivatives of d in (r, alpha, a, b); d_a = 1/a is constant.
    d_r, d_alpha, d_b = log_T - log_t, rx * (inverse_T - inverse_t), -inverse_b
    grad = np.array([_dot(nw, d_r), _dot(nw, d_alpha), nw.sum() / a, _dot(nw, d_b)])
    columns = (d_r, d_alpha, None, d_b)
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(i, 4):
            if columns[i] is None and columns[j] is None:
                hess[i, j] = v.sum() / a**2
            elif columns[i] is None or columns[j] is None:
                hess[i, j] = _dot(v, columns[j if columns[i] is None else i]) / a
            else:
                hess[i, j] = _dot(v * columns[i], columns[j])
            hess[j, i] = hess[i, j]
    # Second derivatives of d itself: d_r,alpha, d_alpha,alpha, d_aa = -1/a^2, d_bb = 1/(b+x-1)^2.
    hess[0, 1] += _dot(nw, inverse_T - inverse_t)
    hess[1, 0] = hess[0, 1]
    hess[1, 1] += _dot(nw * rx, inverse_t**2 - inverse_T**2)
    hess[2, 2] -= nw.sum() / a**2
    hess[3, 3] += _dot(nw, inverse_b**2)
    return ll, grad, hess


def _bg_terms_in_x(theta: np.ndarray, data: _BGData) -> tuple[float, np.ndarray, np.ndarray]:
    """``sum A(x)`` and derivatives, once per distinct x (gammaln/digamma are the costly part)."""
    r, alpha, a, b = theta
    xs, nx = data.xs, data.x_counts
    total = nx.sum()
    hess = np.zeros((4, 4))
    ll = _dot(nx, gammaln(r + xs)) + total * (r * np.log(alpha) - gammaln(r))
    grad = np.array(
        [_dot(nx, digamma(r + xs)) + total * (np.log(alpha) - digamma(r)), total * r / alpha, 0, 0]
    )
    hess[0, 0] = _dot(nx, polygamma(1, r + xs)) - total * polygamma(1, r)
    hess[0, 1] = hess[1, 0] = total / alpha
    hess[1, 1] = -total * r / alpha**2
    b_ll, b_grad, b_hess = _beta_ratio_terms(a, b, xs, nx)
    hess[2:, 2:] = b_hess
    grad[2:] = b_grad
    return ll + b_ll, grad, hess


def _beta_ratio_terms(
    a: float, b: float, xs: np.ndarray, nx: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """``sum n_x ln[B(a, b+x) / B(a, b)]`` with its gradient and Hessian in (a, b).

    As differences of ``lnG``/``digamma`` (one evaluation per distinct x) while ``a + b`` is
    moderate; as sums over ``i < x`` of ``ln(1 - a/(a+b+i))``, ``1/(a+b+i)`` and ``1/(b+i)``
    when ``a + b`` is large, where ``lnG(a+b+x) - lnG(a+b)`` would lose every digit (at
    ``a + b = 1e9`` each term is off by ~1e-6, enough to make the likelihood's ridge look bumpy
    to the optimiser). The log-space likelihood follows Fader & Hardie (2013), "Overcoming the
    BG/NBD model's #NUM! error problem", http://brucehardie.com/notes/027/.
    """
    total = nx.sum()
    largest = float(xs.max())
    if a + b <= _BETA_SUM_DIRECT or largest > _BETA_SUM_TERMS:
        ll = _dot(nx, gammaln(b + xs) - gammaln(a + b + xs)) + total * (gammaln(a + b) - gammaln(b))
        psi_ab = digamma(a + b) - digamma(a + b + xs)
        grad = np.array([_dot(nx, psi_ab), _dot(nx, psi_ab + digamma(b + xs) - digamma(b))])
        tri_ab = _dot(nx, polygamma(1, a + b) - polygamma(1, a + b + xs))
        tri_b = _dot(nx, polygamma(1, b + xs)) - total * polygamma(1, b)
        return ll, grad, np.array([[tri_ab, tri_ab], [tri_ab, tri_ab + tri_b]])
    i = np.arange(int(largest), dtype=np.float64)
    u, v = 1.0 / (a + b + i), 1.0 / (b + i)
    # Cumulative sums over i < x, read at each distinct x (x = 0 reads the leading zero).
    at = xs.astype(np.int64)
    sums = [np.concatenate(([0.0], np.cumsum(term)))[at] for term in (np.log1p(-a * u), u, v, u * u, v * v)]
    log_ratio, sum_u, sum_v, sum_u2, sum_v2 = sums
    tri_ab = _dot(nx, sum_u2)
    grad = np.array([-_dot(nx, sum_u), _dot(nx, sum_v - sum_u)])
    return _dot(nx, log_ratio), grad, np.array([[tri_ab, tri_ab], [tri_ab, tri_ab - _dot(nx, sum_v2)]])


def _gg_inputs(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, m = _as_float_arrays(frequency, monetary_value)
    n = np.ones_like(x) if weights is None else _as_float_arrays(weights, x)[0]
    repeat = (x > 0) & (n > 0)
    if not repeat.any():
        raise ModelUnusable(
            "Gamma-Gamma needs repeat buyers (frequency > 0) with their mean repeat-purchase value; "
            "there are none"
        )
    x, m, n = x[repeat], m[repeat], n[repeat]
    if not (np.isfinite(m).all() and np.all(m > 0)):
        raise ValueError("monetary_value must be a positive number for every customer with frequency > 0")
    return x, m, n


@dataclass(frozen=True)
class _GGData:
    """Gamma-Gamma sufficient statistics of the repeat buyers."""

    xs: np.ndarray  # distinct x with customer counts, for the terms in x alone
    x_counts: np.ndarray
    xm: np.ndarray  # x * m and the weights n, n * x of each customer
    n: np.ndarray
    nx: np.ndarray
    sum_nx_log_xm: float  # sum n x ln(x m) and sum n ln m: constant parts of the likelihood
    sum_n_log_m: float
    n_customers: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray, n: np.ndarray) -> _GGData:
        xs = _Distinct.of(x)
        log_m = np.log(m)
        return cls(
            xs=xs.values,
            x_counts=np.bincount(xs.index, weights=n),
            xm=x * m,
            n=n,
            nx=n * x,
            sum_nx_log_xm=_dot(n * x, log_m + np.log(x)),
            sum_n_log_m=_dot(n, log_m),
            n_customers=float(n.sum()),
        )


def _gg_terms(theta: np.ndarray, data: _GGData) -> tuple[float, np.ndarray, np.ndarray]:
    """Gamma-Gamma log-likelihood (of [3]) with its gradient and Hessian in (p, q, gamma).

    Per customer ``LL = lnG(px+q) - lnG(px) - lnG(q) + q ln(g) + (px-1) ln m + px ln x
    - (px+q) ln(xm + g)``; the terms in ``x`` alone are evaluated once per distinct ``x``.
    """
    p, q, g = theta
    xs, nx, total = data.xs, data.x_counts, data.n_customers
    log_y = np.log(data.xm + g)
    inverse_y = 1.0 / (data.xm + g)
    nx_log_y, n_log_y = _dot(data.nx, log_y), _dot(data.n, log_y)
    nx_inv_y, n_inv_y = _dot(data.nx, inverse_y), _dot(data.n, inverse_y)
    ll = (
        _dot(nx, gammaln(p * xs + q) - gammaln(p * xs)) - total * (gammaln(q) - q * np.log(g))
        + p * data.sum_nx_log_xm - data.sum_n_log_m - p * nx_log_y - q * n_log_y
    )  # fmt: skip
    grad = np.array([
        _dot(nx * xs, digamma(p * xs + q) - digamma(p * xs)) + data.sum_nx_log_xm - nx_log_y,
        _dot(nx, digamma(p * xs + q)) - total * (digamma(q) - np.log(g)) - n_log_y,
        total * q / g - p * nx_inv_y - q * n_inv_y,
    ])  # fmt: skip
    tri = polygamma(1, p * xs + q)
    hess = np.empty((3, 3))
    hess[0, 0] = _dot(nx * xs**2, tri - polygamma(1, p * xs))
    hess[0, 1] = hess[1, 0] = _dot(nx * xs, tri)
    hess[0, 2] = hess[2, 0] = -nx_inv_y
    hess[1, 1] = _dot(nx, tri) - total * polygamma(1, q)
    hess[1, 2] = hess[2, 1] = total / g - n_inv_y
    hess[2, 2] = -total * q / g**2 + p * _dot(data.nx, inverse_y**2) + q * _dot(data.n, inverse_y**2)
    return ll, grad, hess
