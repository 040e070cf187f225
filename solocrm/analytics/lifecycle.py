"""Lifecycle rules: the stage each buyer should have after a refresh (docs/analytics.md,
"Lifecycle stages").

Django-free apart from the stage names (``contacts.choices``); the refresh moves the contacts
with ``writer.apply_lifecycle_stages``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from solocrm.contacts.choices import LifecycleStage

__all__ = ["AT_RISK_CHURN", "CHURNED_P_ALIVE", "DORMANT_P_ALIVE", "lifecycle_stages"]

CHURNED_P_ALIVE = 0.15
DORMANT_P_ALIVE = 0.40
AT_RISK_CHURN = 0.60


def lifecycle_stages(customers: pd.DataFrame) -> pd.Series:
    """The lifecycle stage each buyer should have (docs/analytics.md, "Lifecycle stages").

    First match wins: churned (P(alive) < 15 %), dormant (P(alive) < 40 %), at risk (churn risk
    ≥ 60 %), repeat (bought on two days or more), customer. Without a fitted purchase model, and
    for one-time buyers (whose BG/NBD P(alive) is 1 however long ago they bought), the first two
    fall back on time: no purchase for two years is churned, for one year dormant.
    """
    p_alive = customers.get("p_alive", pd.Series(np.nan, index=customers.index)).to_numpy(float)
    churn = customers.get("churn_risk", pd.Series(np.nan, index=customers.index)).to_numpy(float)
    idle = customers["days_since_last"].to_numpy(float)
    fitted = ~np.isnan(p_alive) & (customers["frequency"].to_numpy() >= 1)
    conditions = [
        np.where(fitted, p_alive < CHURNED_P_ALIVE, idle > 730),
        np.where(fitted, p_alive < DORMANT_P_ALIVE, idle > 365),
        np.nan_to_num(churn, nan=0.0) >= AT_RISK_CHURN,
        customers["frequency"].to_numpy() >= 1,
    ]
    choices = [LifecycleStage.CHURNED, LifecycleStage.DORMANT, LifecycleStage.AT_RISK, LifecycleStage.REPEAT]
    stages = np.select(conditions, [c.value for c in choices], default=LifecycleStage.CUSTOMER.value)
    return pd.Series(stages, index=customers.index, name="lifecycle_stage")
