"""Fixtures of the quote, product and attachment tests (defined in quote_helpers): a customer,
an open deal of theirs, a product. A test module's own fixture of the same name wins."""

from solocrm.sales.tests.quote_helpers import customer, deal, product  # noqa: F401
