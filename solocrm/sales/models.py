"""Every model of the sales app, gathered from its parts so Django finds them under the app label
"sales" (the tables and migrations did not change when the app was split by what users see):

- orders/: the product catalogue, orders and their lines;
- deals/: pipelines, stages, deals and their stage history;
- tasks/: tasks and reminders;
- quotes/: numbered quotes, their lines, attachments;
- leadforms/: lead forms and their submissions.
"""

from solocrm.sales.deals.models import Deal, DealQuerySet, DealStageChange, Pipeline, Stage
from solocrm.sales.leadforms.models import (
    FormSubmission,
    LeadForm,
    default_form_fields,
    default_required_fields,
)
from solocrm.sales.orders.models import Order, OrderLine, Product, default_currency
from solocrm.sales.quotes.models import Attachment, NumberSequence, Quote, QuoteLine
from solocrm.sales.tasks.models import Task, TaskQuerySet

__all__ = [
    "Attachment",
    "Deal",
    "DealQuerySet",
    "DealStageChange",
    "FormSubmission",
    "LeadForm",
    "NumberSequence",
    "Order",
    "OrderLine",
    "Pipeline",
    "Product",
    "Quote",
    "QuoteLine",
    "Stage",
    "Task",
    "TaskQuerySet",
    "default_currency",
    "default_form_fields",
    "default_required_fields",
]
