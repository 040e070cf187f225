"""Every model of the support app, gathered from its parts so Django finds them under the app
label "support":

- tickets/: tickets, their events (replies, internal notes, changes), SLA policies, canned
  replies;
- kb/: the knowledge base (categories, articles in English and Chinese, "was this helpful?");
- helpdesk/: the public help form and the one-question CSAT survey after a ticket is solved.
"""

from solocrm.support.helpdesk.models import CsatAnswer
from solocrm.support.kb.models import (
    Article,
    ArticleTranslation,
    ArticleVote,
    Category,
    HelpCenter,
)
from solocrm.support.tickets.models import (
    CannedReply,
    SlaPolicy,
    Ticket,
    TicketEvent,
)

__all__ = [
    "Article",
    "ArticleTranslation",
    "ArticleVote",
    "CannedReply",
    "Category",
    "CsatAnswer",
    "HelpCenter",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
]
