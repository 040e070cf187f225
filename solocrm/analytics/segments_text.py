"""What each RFM segment means and what to do about it, in words for the pages and the API.

The segments come from the published grid of the recency score R (1–5) against the average of
the frequency and monetary scores, (F + M) / 2; the rules are ``rfm.SEGMENT_RULES`` and the texts
here say the same in translatable words.

References
----------
.. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Probus (the RFM method).
.. [2] Putler, "RFM Analysis for Successful Customer Segmentation" (the 11-segment R × (F+M)/2
       table; ``solocrm.analytics.rfm.SEGMENT_RULES`` holds the exact rules).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import RfmSegment
from .rfm import segment_grid

# Display order: from the best customers to the lost ones.
SEGMENT_ORDER: list[str] = [
    RfmSegment.CHAMPIONS,
    RfmSegment.LOYAL,
    RfmSegment.POTENTIAL_LOYALIST,
    RfmSegment.NEW,
    RfmSegment.PROMISING,
    RfmSegment.NEED_ATTENTION,
    RfmSegment.ABOUT_TO_SLEEP,
    RfmSegment.AT_RISK,
    RfmSegment.CANT_LOSE,
    RfmSegment.HIBERNATING,
    RfmSegment.LOST,
]

# Segments whose customers are slipping away: the overview counts them as "at risk".
AT_RISK_SEGMENTS: tuple[str, ...] = (RfmSegment.ABOUT_TO_SLEEP, RfmSegment.AT_RISK, RfmSegment.CANT_LOSE)

# The grid by recency score R (rows, 5 = bought most recently) and FM (columns 1..5), taken from
# the engine itself so that the map always shows the rules the scores were computed with.
GRID_ROWS: dict[int, list[str]] = segment_grid()
GRID: dict[tuple[int, int], str] = {
    (r, fm): code for r, row in GRID_ROWS.items() for fm, code in enumerate(row, start=1)
}

SEGMENT_TEXT: dict[str, dict[str, Promise]] = {
    RfmSegment.CHAMPIONS: {
        "rule": _("Recency 5 and (F+M)/2 at least 4.5: bought very recently, buy often and spend the most."),
        "action": _("Reward them, ask for reviews and referrals, offer early access to new products."),
    },
    RfmSegment.LOYAL: {
        "rule": _("Recency 3–5 and (F+M)/2 at least 3.5 (except Champions): buy regularly and spend well."),
        "action": _("Upsell higher-value products, invite them to a loyalty programme, ask for feedback."),
    },
    RfmSegment.POTENTIAL_LOYALIST: {
        "rule": _("Recency 4–5 and (F+M)/2 between 1.5 and 3: recent customers with a few purchases."),
        "action": _("Offer a membership or a bundle, recommend related products to build the habit."),
    },
    RfmSegment.NEW: {
        "rule": _("Recency 5, frequency 1 and monetary 1: bought for the first time very recently."),
        "action": _("Welcome them, help them get value from the purchase, make the second order easy."),
    },
    RfmSegment.PROMISING: {
        "rule": _("Recency 4, frequency 1 and monetary 1: recent shoppers who have not spent much yet."),
        "action": _("Build awareness of what else you offer; a small incentive for the next order."),
    },
    RfmSegment.NEED_ATTENTION: {
        "rule": _("Recency 3 and (F+M)/2 between 2.5 and 3: average on every score, a little while ago."),
        "action": _(
            "Reach out personally with a limited-time offer or a recommendation based on past orders."
        ),
    },
    RfmSegment.ABOUT_TO_SLEEP: {
        "rule": _("Recency 3 and (F+M)/2 at most 2: below average and drifting away."),
        "action": _("Share useful content or a popular product; reconnect before they are gone."),
    },
    RfmSegment.AT_RISK: {
        "rule": _("Recency 1–2 and (F+M)/2 at least 2.5 (except Can't lose them): spent well, but long ago."),
        "action": _("Send a personal win-back message, a renewal reminder or a helpful offer."),
    },
    RfmSegment.CANT_LOSE: {
        "rule": _("Recency 1 and (F+M)/2 at least 4.5: your biggest buyers, gone quiet."),
        "action": _("Call them: ask what changed and win them back with your best offer."),
    },
    RfmSegment.HIBERNATING: {
        "rule": _("Recency 2 and (F+M)/2 between 1.5 and 2: few, small purchases long ago."),
        "action": _("Offer other relevant products and special discounts; do not spend much effort."),
    },
    RfmSegment.LOST: {
        "rule": _("Recency 1–2 and (F+M)/2 at most 2 (except Hibernating): lowest scores on everything."),
        "action": _("Try one re-activation campaign; otherwise leave them out of your marketing."),
    },
}


def segment_label(code: str) -> str:
    """'cant_lose' -> "Can't lose them" in the current language ('' for an unknown code)."""
    try:
        return str(RfmSegment(code).label)
    except ValueError:
        return ""


def segment_text(code: str) -> dict[str, str]:
    """Name, rule and suggested action of a segment, translated (blank for an unknown code)."""
    text = SEGMENT_TEXT.get(code, {})
    return {
        "code": code,
        "name": segment_label(code),
        "rule": str(text.get("rule", "")),
        "action": str(text.get("action", "")),
    }
