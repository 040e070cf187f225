"""An L2-regularised logistic regression on standardised columns, stored as plain numbers.

Django-free. The churn model and the lead scorer both fit one: the columns are centred and
scaled (so the coefficients compare and the penalty treats them alike), scikit-learn fits the
weights, and what is kept — means, scales, coefficients, intercept — is enough to score again
from JSON with no pickle.

References
----------
.. [1] Hosmer, D. W., Lemeshow, S. & Sturdivant, R. X. (2013). *Applied Logistic Regression*,
   3rd ed. Wiley.
.. [2] Hastie, T., Tibshirani, R. & Friedman, J. (2009). *The Elements of Statistical
   Learning*, 2nd ed., §3.4.1 and §4.4.4 (standardise the inputs before an L2 penalty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["StandardisedLogistic"]


@dataclass
class StandardisedLogistic:
    """:math:`P(y = 1 \\mid x) = \\sigma\\big(\\beta^\\top (x - \\mu) / s + \\beta_0\\big)`.

    Attributes
    ----------
    means, scales : numpy.ndarray
        :math:`\\mu` and :math:`s` per column (a constant column gets scale 1).
    coef : numpy.ndarray
        Standardised coefficients :math:`\\beta` (0 for a column left out of the fit).
    intercept : float
    """

    means: np.ndarray
    scales: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(
        cls, design: np.ndarray, y: np.ndarray, *, C: float = 1.0, non_negative: np.ndarray | None = None
    ) -> StandardisedLogistic:
        """Fit ``LogisticRegression(C=C)`` on the standardised ``design``.

        Parameters
        ----------
        design : numpy.ndarray, shape (n, p)
        y : numpy.ndarray of {0, 1}, shape (n,)
        C : float, default 1.0
            Inverse L2 strength.
        non_negative : boolean numpy.ndarray of shape (p,), optional
            Columns whose weight must not be negative: a column that gets one is left out
            (weight 0) and the model refitted, at most once per such column.

        References
        ----------
        .. [1] Hosmer, Lemeshow & Sturdivant (2013), ch. 1-2.
        """
        from sklearn.linear_model import LogisticRegression

        means = design.mean(axis=0)
        spread = design.std(axis=0)
        scales = np.where(spread > 0, spread, 1.0)
        z = (design - means) / scales
        watched = np.zeros(z.shape[1], dtype=bool) if non_negative is None else np.asarray(non_negative)
        used = np.ones(z.shape[1], dtype=bool)
        for _ in range(int(watched.sum()) + 1):
            model = LogisticRegression(C=C, max_iter=2000).fit(z[:, used], y)
            coef = np.zeros(z.shape[1])
            coef[used] = model.coef_.ravel()
            negative = watched & used & (coef < 0)
            if not negative.any():
                break
            used &= ~negative
        return cls(means, scales, coef, float(model.intercept_[0]))

    def predict_proba(self, design: np.ndarray) -> np.ndarray:
        """:math:`P(y = 1)` per row of ``design``, shape ``(n,)``."""
        z = (design - self.means) / self.scales
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))
