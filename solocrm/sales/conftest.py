"""Fixtures of the sales tests (defined in quotes/tests/quote_helpers): a customer,
an open deal of theirs, a product. A test module's own fixture of the same name wins."""

from solocrm.sales.quotes.tests.quote_helpers import customer, deal, product  # noqa: F401
