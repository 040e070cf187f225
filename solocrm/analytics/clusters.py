"""Customer personas: clustering of per-customer features with the number of clusters chosen by
silhouette, plain-English descriptions, and JSON (never pickle) persistence.

Django-free: numpy, pandas, scipy and scikit-learn. The Django side passes one row per customer
(e.g. ``days_since_last``, ``orders``, ``total_spend``, ``clv``, ``p_alive``) as a DataFrame.

Pipeline
--------
1. *Log*: heavy-tailed, non-negative features (money, counts) are replaced by ``log1p(x)`` so
   that a handful of very big customers do not become clusters of their own and distances
   compare ratios rather than absolute amounts. With ``log_features="auto"`` a feature is
   logged when its minimum is >= 0 and its sample skewness exceeds 1.
2. *Standardise*: every feature to mean 0, standard deviation 1 (``StandardScaler``), so that
   no feature dominates the Euclidean distance because of its unit.
3. *Choose k*: for each k in ``k_range``, cluster a fixed-seed random sample of at most
   ``sample_size`` customers (k-means, or Ward's hierarchical clustering) and compute the mean
   silhouette on that sample; keep the k with the highest silhouette (the smaller k on ties).
4. *Assign*: every customer goes to the nearest centre (for k-means this is exactly
   ``KMeans.predict``; for Ward it is nearest-centroid assignment of the customers outside the
   sample). The clusters are renumbered by size, 0 = largest.

The sample keeps the work bounded: silhouettes cost O(sample²) and Ward's tree O(sample²)
memory, while assigning 1,000,000 customers to centres is a single vectorised pass. The
silhouettes of all k share one distance matrix of the sample.

Clustering runs on one thread (``threadpoolctl``): on a busy 2-core machine, OpenMP threads
of k-means competing with other processes made a fit about 20 times slower (8.4 s instead of
0.4 s for 600 customers, measured), and the sample is small enough for one core.

References
----------
.. [1] Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and
   validation of cluster analysis. *Journal of Computational and Applied Mathematics*, 20,
   53-65.
.. [2] Arthur, D., & Vassilvitskii, S. (2007). k-means++: the advantages of careful seeding.
   *Proceedings of SODA 2007*, 1027-1035.
.. [3] Ward, J. H. (1963). Hierarchical grouping to optimize an objective function. *Journal of
   the American Statistical Association*, 58(301), 236-244.
.. [4] Milligan, G. W., & Cooper, M. C. (1988). A study of standardization of variables in
   cluster analysis. *Journal of Classification*, 5(2), 181-204.
.. [5] Tukey, J. W. (1977). *Exploratory Data Analysis*. Addison-Wesley. (Re-expressing skewed
   amounts and counts by logarithms.)
.. [6] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences* (2nd ed.).
   Erlbaum. (Half a standard deviation as a "medium" difference: the threshold for calling a
   cluster high or low on a feature.)
.. [7] scikit-learn example "Selecting the number of clusters with silhouette analysis on
   KMeans clustering", https://scikit-learn.org/stable/auto_examples/cluster/
   plot_kmeans_silhouette_analysis.html
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances, pairwise_distances_argmin
from threadpoolctl import threadpool_limits

__all__ = ["DISTINCT", "FORMAT", "PersonaModel", "describe_clusters", "silhouette_by_k"]

#: Identifies the layout of :meth:`PersonaModel.to_dict`.
FORMAT = "solocrm.personas/1"

#: A cluster is "high" or "low" on a feature when its mean differs from the overall mean by at
#: least this many standard deviations (after the log and scaling steps).
DISTINCT = 0.5

METHODS = ("kmeans", "hierarchical")


# --------------------------------------------------------------------------- input checks


def _as_matrix(X: object, names: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Validate a 2-D finite numeric matrix; return it as float64 with feature names."""
    if isinstance(X, pd.DataFrame):
        names = [str(column) for column in X.columns]
        try:
            values = X.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError("features must all be numeric") from exc
    else:
        try:
            values = np.asarray(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError("features must all be numeric") from exc
    if values.ndim != 2:
        raise ValueError(f"features must be a 2-D table (customers x features), got shape {values.shape}")
    names = list(names) if names is not None else [f"x{i}" for i in range(values.shape[1])]
    if len(names) != values.shape[1]:
        raise ValueError(f"got {len(names)} feature names for {values.shape[1]} features")
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError("features are empty")
    if not np.isfinite(values).all():
        raise ValueError("features must not contain NaN or infinite values")
    return values, names


def _valid_ks(k_range: Iterable[int], n: int) -> list[int]:
    ks = sorted({int(k) for k in k_range if 2 <= int(k) <= n - 1})
    if not ks:
        raise ValueError(f"no k in k_range can be used with {n} customers (need 2 <= k <= n - 1)")
    return ks


def _sample_rows(n: int, size: int | None, random_state: int) -> np.ndarray:
    """Fixed-seed random sample of row positions (all rows, in order, when n <= size)."""
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


# --------------------------------------------------------------------------- clustering


def _kmeans(Z: np.ndarray, k: int, random_state: int, n_init: int | str) -> tuple[np.ndarray, np.ndarray]:
    model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate points: fewer distinct clusters
        labels = model.fit_predict(Z)
    return labels, model.cluster_centers_


def _ward_labels(Z: np.ndarray, ks: list[int]) -> dict[int, np.ndarray]:
    """Ward's tree is built once and cut at every k."""
    tree = linkage(Z, method="ward")
    return {k: fcluster(tree, t=k, criterion="maxclust") - 1 for k in ks}


def _centroids(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k).astype(float)
    sums = np.zeros((k, Z.shape[1]))
    np.add.at(sums, labels, Z)
    return sums / np.maximum(counts, 1)[:, None]


def _candidates(
    Z: np.ndarray, ks: list[int], method: str, random_state: int, n_init: int | str
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each k, the labels of Z and the cluster centres."""
    if method == "kmeans":
        return {k: _kmeans(Z, k, random_state, n_init) for k in ks}
    if method == "hierarchical":
        return {k: (labels, _centroids(Z, labels, k)) for k, labels in _ward_labels(Z, ks).items()}
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _mean_silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw, 1987) from a full distance matrix, vectorised.

    ``a(i)`` is the mean distance to the other members of i's cluster, ``b(i)`` the smallest
    mean distance to the members of another cluster, ``s(i) = (b - a) / max(a, b)``, and
    ``s(i) = 0`` for a point alone in its cluster (the convention of scikit-learn's
    ``silhouette_score``, which this matches to rounding error).
    """
    n = len(labels)
    _, labels = np.unique(labels, return_inverse=True)
    onehot = np.zeros((n, labels.max() + 1))
    onehot[np.arange(n), labels] = 1.0
    sums = distances @ onehot  # sum of distances from each point to each cluster
    counts = onehot.sum(axis=0)
    own = counts[labels]
    a = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    other = sums / counts
    other[np.arange(n), labels] = np.inf
    b = other.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nan_to_num((b - a) / np.maximum(a, b))
    return float(np.where(own > 1, s, 0.0).mean())


def _silhouettes(Z: np.ndarray, fits: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
    """Mean silhouette per k; NaN when the clustering found fewer than k distinct clusters.

    The distance matrix of the sample is computed once and shared by every k.
    """
    distances = pairwise_distances(Z)
    scores = {}
    for k, (labels, _) in fits.items():  # one iteration per candidate k
        distinct = len(np.unique(labels))
        usable = distinct == k and 2 <= distinct <= len(Z) - 1
        scores[k] = _mean_silhouette(distances, labels) if usable else math.nan
    return scores


def silhouette_by_k(
    X: object,
    k_range: Iterable[int] = range(2, 9),
    *,
    method: str = "kmeans",
    random_state: int = 0,
    sample_size: int | None = None,
    n_init: int | str = "auto",
) -> dict[int, float]:
    """Mean silhouette of the clustering of ``X`` into k clusters, for each k.

    ``X`` is used as given (no log or scaling), so this reproduces the scikit-learn example
    exactly: ``KMeans(n_clusters=k, random_state=random_state, n_init=n_init)`` then
    ``silhouette_score``.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Points to cluster.
    k_range : iterable of int, default range(2, 9)
        Numbers of clusters to try; values outside ``2 <= k <= n - 1`` are dropped.
    method : {"kmeans", "hierarchical"}
        k-means (k-means++ seeding) or Ward's hierarchical clustering.
    random_state : int, default 0
        Seed for k-means and for the sample.
    sample_size : int, optional
        Cluster and score a fixed-seed random sample of this many rows when ``X`` is larger.
    n_init : int or "auto", default "auto"
        k-means restarts (scikit-learn's default).

    Returns
    -------
    dict of int to float
        ``{k: mean silhouette}``; NaN where the clustering had fewer than k distinct clusters
        (duplicate points).

    Raises
    ------
    ValueError
        On bad input or when no k is usable.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). Silhouettes. *Journal of Computational and Applied
       Mathematics*, 20, 53-65.
    .. [2] scikit-learn example "Selecting the number of clusters with silhouette analysis on
       KMeans clustering".
    """
    values, _ = _as_matrix(X)
    Z = values[_sample_rows(len(values), sample_size, random_state)]
    ks = _valid_ks(k_range, len(Z))
    with threadpool_limits(limits=1):
        return _silhouettes(Z, _candidates(Z, ks, method, random_state, n_init))


def _best_k(scores: dict[int, float]) -> int:
    finite = {k: s for k, s in scores.items() if not math.isnan(s)}
    if not finite:
        raise ValueError("the customers cannot be split into clusters: their features do not vary enough")
    return max(finite, key=lambda k: (finite[k], -k))


# --------------------------------------------------------------------------- the estimator


class PersonaModel(ClusterMixin, BaseEstimator):
    """Cluster customers into personas, choosing the number of clusters by silhouette.

    Parameters
    ----------
    method : {"kmeans", "hierarchical"}, default "kmeans"
        k-means with k-means++ seeding, or Ward's hierarchical clustering.
    k_range : iterable of int, default range(2, 9)
        Candidate numbers of personas.
    random_state : int, default 0
        Seed of the sample and of k-means: the same data always give the same personas.
    sample_size : int, default 5000
        At most this many customers (a fixed-seed random sample) are clustered and scored for
        every k; everybody is then assigned to the nearest centre.
    log_features : "auto", sequence of str or None, default "auto"
        Features to replace by ``log1p``: ``"auto"`` picks non-negative features with skewness
        above 1; None or ``()`` logs nothing.
    n_init : int or "auto", default 10
        k-means restarts per k.

    Attributes
    ----------
    k_ : int
        Chosen number of personas.
    labels_ : numpy.ndarray of int, shape (n,)
        Persona of each customer used in :meth:`fit` (0 = the largest persona).
    silhouette_ : float
        Mean silhouette of the chosen clustering (on the sample).
    silhouette_by_k_ : dict of int to float
        Mean silhouette for every k tried (NaN where unusable).
    centers_ : numpy.ndarray, shape (k, d)
        Persona centres in the original units (for logged features ``expm1`` of the centre,
        i.e. a typical (geometric-mean-like) value rather than the arithmetic mean).
    cluster_centers_ : numpy.ndarray, shape (k, d)
        The same centres in the scaled space used for distances.
    feature_names_in_ : list of str
    log_features_ : list of str
        The features that were logged.
    scaler_mean_, scaler_scale_ : numpy.ndarray, shape (d,)
        Standardisation applied after the log step.
    n_samples_ : int
        Customers used in :meth:`fit`.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). Silhouettes. *Journal of Computational and Applied
       Mathematics*, 20, 53-65.
    .. [2] Arthur, D., & Vassilvitskii, S. (2007). k-means++. *SODA 2007*, 1027-1035.
    .. [3] Ward, J. H. (1963). *JASA*, 58(301), 236-244.
    .. [4] Milligan, G. W., & Cooper, M. C. (1988). *Journal of Classification*, 5(2), 181-204.
    """

    def __init__(
        self,
        method: str = "kmeans",
        k_range: Iterable[int] = range(2, 9),
        random_state: int = 0,
        sample_size: int = 5000,
        log_features: str | Sequence[str] | None = "auto",
        n_init: int | str = 10,
    ) -> None:
        self.method = method
        self.k_range = k_range
        self.random_state = random_state
        self.sample_size = sample_size
        self.log_features = log_features
        self.n_init = n_init

    # -- fitting

    def fit(self, X: object, y: object = None) -> PersonaModel:
        """Choose k, cluster, and assign every customer to a persona.

        Parameters
        ----------
        X : pandas.DataFrame or array-like, shape (n, d)
            One row per customer; column names are used in descriptions.
        y : ignored

        Returns
        -------
        PersonaModel
            self.

        Raises
        ------
        ValueError
            On an unknown method, empty, non-numeric, NaN or infinite features, fewer than 3
            customers, or features that do not vary.
        """
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        values, names = _as_matrix(X)
        if len(values) < 3:
            raise ValueError(f"need at least 3 customers to form personas, got {len(values)}")
        self.feature_names_in_ = names
        self.n_features_in_ = len(names)
        self.n_samples_ = len(values)
        self.log_features_ = _choose_log_features(values, names, self.log_features)
        self._fit_scaler(values)
        Z = self._scale(values)
        sample = _sample_rows(len(Z), self.sample_size, self.random_state)
        ks = _valid_ks(self.k_range, len(sample))
        with threadpool_limits(limits=1):  # see the module notes on threads
            fits = _candidates(Z[sample], ks, self.method, self.random_state, self.n_init)
            self.silhouette_by_k_ = _silhouettes(Z[sample], fits)
            self.k_ = _best_k(self.silhouette_by_k_)
            self.silhouette_ = self.silhouette_by_k_[self.k_]
            self._set_centers(Z, fits[self.k_][1])
        return self

    def _fit_scaler(self, values: np.ndarray) -> None:
        logged = self._log(values)
        self.scaler_mean_ = logged.mean(axis=0)
        scale = logged.std(axis=0)
        self.scaler_scale_ = np.where(scale > 0, scale, 1.0)  # constant features stay at 0

    def _set_centers(self, Z: np.ndarray, centers: np.ndarray) -> None:
        """Assign everybody to the nearest centre, renumber by size, keep the centres."""
        labels = pairwise_distances_argmin(Z, centers)
        counts = np.bincount(labels, minlength=len(centers))
        order = np.argsort(-counts, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.labels_ = rank[labels]
        self.cluster_centers_ = centers[order]
        self.centers_ = self._unscale(self.cluster_centers_)

    # -- transforms

    def _log_mask(self) -> np.ndarray:
        return np.isin(self.feature_names_in_, self.log_features_)

    def _log(self, values: np.ndarray) -> np.ndarray:
        mask = self._log_mask()
        if (values[:, mask] < 0).any():
            raise ValueError(f"features {self.log_features_} are log-transformed and must not be negative")
        out = values.copy()
        out[:, mask] = np.log1p(values[:, mask])
        return out

    def _scale(self, values: np.ndarray) -> np.ndarray:
        return (self._log(values) - self.scaler_mean_) / self.scaler_scale_

    def _unscale(self, Z: np.ndarray) -> np.ndarray:
        values = Z * self.scaler_scale_ + self.scaler_mean_
        mask = self._log_mask()
        values[:, mask] = np.expm1(values[:, mask])
        return values

    def transform(self, X: object) -> np.ndarray:
        """Features in the scaled space used for distances (log step, then standardisation)."""
        return self._scale(self._features(X))

    def _features(self, X: object) -> np.ndarray:
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("this PersonaModel is not fitted yet: call fit() or from_dict() first")
        if isinstance(X, pd.DataFrame):
            missing = [name for name in self.feature_names_in_ if name not in X.columns]
            if missing:
                raise ValueError(f"features are missing column(s) {missing}")
            X = X[self.feature_names_in_]
        values, _ = _as_matrix(X)
        if values.shape[1] != len(self.feature_names_in_):
            raise ValueError(f"expected {len(self.feature_names_in_)} features, got {values.shape[1]}")
        return values

    # -- use

    def predict(self, X: object) -> np.ndarray:
        """Persona of each customer: the nearest centre in the scaled space.

        Parameters
        ----------
        X : pandas.DataFrame or array-like, shape (n, d)
            Same features as in :meth:`fit` (DataFrame columns are matched by name).

        Returns
        -------
        numpy.ndarray of int, shape (n,)
        """
        Z = self.transform(X)
        with threadpool_limits(limits=1):
            return pairwise_distances_argmin(Z, self.cluster_centers_)

    def describe(
        self, features: object, labels: object | None = None, *, top_items: pd.DataFrame | None = None
    ) -> list[dict[str, Any]]:
        """Size, share, feature means, name and one-line description of each persona.

        Parameters
        ----------
        features : pandas.DataFrame or array-like, shape (n, d)
            The customers' features in original units (the ones given to :meth:`fit`).
        labels : array-like of int, shape (n,), optional
            Persona of each customer; defaults to :meth:`predict` of ``features``.
        top_items : pandas.DataFrame, optional
            Columns ``customer`` (index label of ``features``, or row position for arrays),
            ``item``, ``count``: the favourite items of each persona are listed.

        Returns
        -------
        list of dict
            See :func:`describe_clusters`.
        """
        values = self._features(features)
        labels = self.predict(features) if labels is None else labels
        return describe_clusters(features, labels, top_items=top_items, scaled=self._scale(values))

    # -- persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters: enough to :meth:`from_dict` and :meth:`predict` again.

        Returns
        -------
        dict
            Plain lists, numbers and strings; NaN becomes None.
        """
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("this PersonaModel is not fitted yet")
        return {
            "format": FORMAT,
            "method": self.method,
            "k": int(self.k_),
            "feature_names": list(self.feature_names_in_),
            "log_features": list(self.log_features_),
            "scaler_mean": _floats(self.scaler_mean_),
            "scaler_scale": _floats(self.scaler_scale_),
            "cluster_centers": [_floats(row) for row in self.cluster_centers_],
            "centers": [_floats(row) for row in self.centers_],
            "silhouette": _float(self.silhouette_),
            "silhouette_by_k": {str(k): _float(v) for k, v in self.silhouette_by_k_.items()},
            "n_samples": int(self.n_samples_),
            "params": {
                "k_range": [int(k) for k in self.k_range],
                "random_state": self.random_state,
                "sample_size": self.sample_size,
                "n_init": self.n_init,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PersonaModel:
        """Rebuild a fitted model from :meth:`to_dict` output (``labels_`` are not stored).

        Raises
        ------
        ValueError
            If ``data`` is not in the :data:`FORMAT` layout.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a persona model (expected format {FORMAT!r})")
        params = data["params"]
        model = cls(
            method=data["method"],
            k_range=params["k_range"],
            random_state=params["random_state"],
            sample_size=params["sample_size"],
            log_features=data["log_features"],
            n_init=params["n_init"],
        )
        model.feature_names_in_ = list(data["feature_names"])
        model.n_features_in_ = len(model.feature_names_in_)
        model.log_features_ = list(data["log_features"])
        model.scaler_mean_ = np.asarray(data["scaler_mean"], dtype=float)
        model.scaler_scale_ = np.asarray(data["scaler_scale"], dtype=float)
        model.cluster_centers_ = np.asarray(data["cluster_centers"], dtype=float)
        model.centers_ = np.asarray(data["centers"], dtype=float)
        model.k_ = int(data["k"])
        model.silhouette_ = _nan_if_none(data["silhouette"])
        model.silhouette_by_k_ = {int(k): _nan_if_none(v) for k, v in data["silhouette_by_k"].items()}
        model.n_samples_ = int(data["n_samples"])
        return model


def _float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _floats(values: np.ndarray) -> list[float | None]:
    return [_float(v) for v in np.asarray(values, dtype=float).tolist()]


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _skewness(values: np.ndarray) -> np.ndarray:
    """Sample skewness ``m3 / m2**1.5`` per column (0 for constant columns)."""
    deviations = values - values.mean(axis=0)
    m2 = np.mean(deviations**2, axis=0)
    m3 = np.mean(deviations**3, axis=0)
    spread = m2 > 1e-12 * np.maximum(np.mean(values**2, axis=0), 1e-300)
    return np.where(spread, m3 / np.where(spread, m2, 1.0) ** 1.5, 0.0)


def _choose_log_features(
    values: np.ndarray, names: list[str], log_features: str | Sequence[str] | None
) -> list[str]:
    if log_features is None:
        return []
    if isinstance(log_features, str):
        if log_features != "auto":
            raise ValueError(
                f'log_features must be "auto", a list of feature names or None, got {log_features!r}'
            )
        chosen = (values.min(axis=0) >= 0) & (_skewness(values) > 1)
        return [name for name, keep in zip(names, chosen, strict=True) if keep]
    unknown = [name for name in log_features if name not in names]
    if unknown:
        raise ValueError(f"log_features {unknown} are not among the features {names}")
    return [name for name in names if name in set(log_features)]


# --------------------------------------------------------------------------- descriptions

# (kind, substrings of the feature name). The first match wins, so money comes before counts
# ("average_order_value" is money).
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("recency", ("days_since", "recency")),
    ("alive", ("p_alive", "alive")),
    ("churn", ("churn",)),
    ("money", ("spend", "monetary", "revenue", "clv", "value", "aov", "amount")),
    ("count", ("orders", "frequency", "purchases", "transactions")),
    ("tenure", ("tenure",)),
)

_LABELS = {
    "days_since_last": "days since last purchase",
    "total_spend": "total spend",
    "monetary": "average spend",
    "average_order_value": "average order value",
    "clv": "predicted value",
    "frequency": "repeat purchases",
    "orders": "orders",
    "p_alive": "chance still active",
    "churn_risk": "churn risk",
    "tenure_days": "days as a customer",
}

# kind -> (noun when high, noun when low) for the head of the name.
_NOUNS = {"money": ("Big spenders", "Small spenders"), "count": ("Frequent buyers", "Occasional buyers")}

# kind -> (phrase when high, phrase when low) for the qualifiers.
_QUALIFIERS = {
    "money": ("who spend a lot", "who spend little"),
    "count": ("who buy often", "who rarely buy"),
    "recency": ("who left", "who bought recently"),
    "alive": ("who are probably still active", "who have probably left"),
    "churn": ("who may leave soon", "who are likely to stay"),
    "tenure": ("who have been with you a long time", "who are new"),
}


def _kind(name: str) -> str:
    lowered = name.lower()
    for kind, needles in _KINDS:
        if any(needle in lowered for needle in needles):
            return kind
    return "other"


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _one_time(name: str, median: float) -> bool:
    """Whether a low count means one purchase only (frequency counts repeats, so 0 means once)."""
    return median <= (0 if "frequency" in name.lower() else 1)


def _phrases(name: str, level: str, median: float) -> tuple[str | None, str]:
    """(head noun or None, qualifier) describing a cluster that is high or low on a feature."""
    kind = _kind(name)
    high = level == "high"
    if kind == "count" and not high and _one_time(name, median):
        return "One-time buyers", "who bought only once"
    noun = _NOUNS[kind][0 if high else 1] if kind in _NOUNS else None
    if kind in _QUALIFIERS:
        return noun, _QUALIFIERS[kind][0 if high else 1]
    return None, f"with {'high' if high else 'low'} {_label(name)}"


def _name(distinct: list[tuple[str, str, float]]) -> str:
    """Name from the distinctive features, most distinctive first: 'Big spenders who left'."""
    if not distinct:
        return "Typical customers"
    phrases = [_phrases(name, level, median) for name, level, median in distinct]
    head_index = next((i for i, (noun, _) in enumerate(phrases) if noun), None)
    head = "Customers" if head_index is None else phrases[head_index][0]
    qualifiers = [q for i, (_, q) in enumerate(phrases) if i != head_index][:2]
    if len(qualifiers) == 2 and all(q.startswith("who ") for q in qualifiers):
        qualifiers[1] = qualifiers[1].removeprefix("who ")  # "who left and spend little"
    return " ".join([head, " and ".join(qualifiers)]).strip()


def _description(size: int, share: float, means: dict[str, float], overall: dict[str, float]) -> str:
    parts = [f"{_label(n)} {_number(means[n])} (overall {_number(overall[n])})" for n in means]
    return f"{size:,} customers ({share:.0%}). On average: " + ", ".join(parts) + "."


def _group_stats(frame: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    grouped = frame.groupby(labels, sort=True)
    return grouped.mean(), grouped.median(), grouped.size()


def _top_items(top_items: pd.DataFrame, cluster_of: pd.Series, top_n: int) -> dict[int, list[dict[str, Any]]]:
    missing = [c for c in ("customer", "item", "count") if c not in top_items.columns]
    if missing:
        raise ValueError(f"top_items is missing column(s) {missing}")
    items = top_items.assign(cluster=top_items["customer"].map(cluster_of)).dropna(subset=["cluster"])
    totals = items.groupby(["cluster", "item"], sort=False)["count"].sum().reset_index()
    totals = totals.sort_values(["cluster", "count"], ascending=[True, False], kind="stable")
    best = totals.groupby("cluster", sort=True).head(top_n)
    return {
        int(cluster): [
            {"item": _plain(i), "count": _plain(c)} for i, c in zip(g["item"], g["count"], strict=True)
        ]
        for cluster, g in best.groupby("cluster", sort=True)
    }


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def describe_clusters(
    features: object,
    labels: object,
    *,
    top_items: pd.DataFrame | None = None,
    top_n: int = 5,
    scaled: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Describe each cluster in plain English so that the owner can recognise and name it.

    Parameters
    ----------
    features : pandas.DataFrame or array-like, shape (n, d)
        Customer features in original units; known column names (``total_spend``, ``orders``,
        ``frequency``, ``days_since_last``, ``clv``, ``p_alive``, ``churn_risk``…) get
        tailored wording, other columns generic "with high …" wording.
    labels : array-like of int, shape (n,)
        Cluster of each customer.
    top_items : pandas.DataFrame, optional
        Columns ``customer`` (index label of ``features``; row position for arrays), ``item``,
        ``count``; the ``top_n`` items with the highest total count are listed per cluster.
    top_n : int, default 5
    scaled : numpy.ndarray, shape (n, d), optional
        The features in a standardised space (e.g. :meth:`PersonaModel.transform`); computed
        here with the same log and scaling rules when not given.

    Returns
    -------
    list of dict
        One dict per cluster, by cluster number: ``cluster``, ``name`` (suggested, e.g. "Big
        spenders who bought recently", "One-time buyers who left"), ``description`` (one line
        with size, share and means against the overall means), ``size``, ``share`` (0..1),
        ``means``, ``overall_means``, ``levels`` (per feature "high", "low" or "average") and,
        with ``top_items``, ``top_items`` (list of ``{"item", "count"}``). JSON-safe.

    Notes
    -----
    A cluster is "high" (or "low") on a feature when its mean in the standardised space is at
    least :data:`DISTINCT` (0.5) standard deviations above (below) the overall mean, a
    "medium" effect size (Cohen, 1988). The name uses the most distinctive features: a money
    or count feature gives the noun ("Big spenders", "One-time buyers"), up to two others the
    qualifiers ("who bought recently"). Names can repeat; the owner renames them.

    References
    ----------
    .. [1] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences* (2nd
       ed.). Erlbaum.
    """
    values, names = _as_matrix(features)
    label_array = np.asarray(labels)
    if label_array.shape != (len(values),):
        raise ValueError(
            f"labels must have one entry per customer ({len(values)}), got shape {label_array.shape}"
        )
    if scaled is None:
        scaled = _standardise(values, names)
    frame = pd.DataFrame(values, columns=names)
    means, medians, sizes = _group_stats(frame, label_array)
    z_means = pd.DataFrame(scaled, columns=names).groupby(label_array, sort=True).mean()
    overall = {n: float(v) for n, v in frame.mean().items()}
    index = features.index if isinstance(features, pd.DataFrame) else pd.RangeIndex(len(values))
    items = (
        _top_items(top_items, pd.Series(label_array, index=index), top_n) if top_items is not None else None
    )
    result = []
    for cluster in sizes.index:  # one iteration per cluster, not per customer
        entry = _describe_one(
            cluster, means.loc[cluster], medians.loc[cluster], z_means.loc[cluster], overall
        )
        entry.update(size=int(sizes[cluster]), share=float(sizes[cluster] / len(values)))
        entry["description"] = _description(entry["size"], entry["share"], entry["means"], overall)
        if items is not None:
            entry["top_items"] = items.get(int(cluster), [])
        result.append(entry)
    return result


def _describe_one(
    cluster: object, means: pd.Series, medians: pd.Series, z: pd.Series, overall: dict[str, float]
) -> dict[str, Any]:
    levels = {n: "high" if v >= DISTINCT else "low" if v <= -DISTINCT else "average" for n, v in z.items()}
    order = z.abs().sort_values(ascending=False, kind="stable").index
    distinct = [(n, levels[n], float(medians[n])) for n in order if levels[n] != "average"]
    return {
        "cluster": _plain(cluster),
        "name": _name(distinct),
        "means": {n: float(v) for n, v in means.items()},
        "overall_means": overall,
        "levels": levels,
    }


def _standardise(values: np.ndarray, names: list[str]) -> np.ndarray:
    log_names = _choose_log_features(values, names, "auto")
    mask = np.isin(names, log_names)
    logged = values.copy()
    logged[:, mask] = np.log1p(values[:, mask])
    scale = logged.std(axis=0)
    return (logged - logged.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
