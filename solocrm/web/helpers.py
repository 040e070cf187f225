"""Loading the demo data from a page."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import connections
from django.http import HttpRequest
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def load_demo_data(request: HttpRequest) -> bool:
    """Load the demo customers and say how it went; never lets a demo problem break a page.

    Writing 2,000 customers with their orders takes about half a minute, so outside tests it
    runs in a background thread (like an import) and the page answers at once."""
    try:
        # Imported here: the demo generator is optional and heavy.
        from solocrm.web.demo import DemoDataExists, load_demo
    except ImportError:
        logger.exception("demo data module is not available")
        messages.warning(request, _("Demo data is not available in this installation."))
        return False
    if not settings.SOLOCRM_JOBS_INLINE:
        threading.Thread(target=_load_in_thread, args=(load_demo, request.user.pk), daemon=True).start()
        messages.info(
            request,
            _("The demo data is being loaded; it takes about half a minute. Reload the page to see it."),
        )
        return True
    try:
        load_demo(progress=None, user=request.user)
    except DemoDataExists:
        messages.warning(request, _("Demo data can only be loaded into an empty database."))
        return False
    except Exception:  # the owner's account must survive a failing demo generator
        logger.exception("loading demo data failed")
        messages.error(request, _("Loading the demo data failed; see the server log."))
        return False
    messages.success(request, _("Demo data loaded."))
    return True


def _load_in_thread(load_demo, user_pk: int) -> None:
    try:
        load_demo(progress=None, user=get_user_model().objects.get(pk=user_pk))
    except Exception:  # nobody waits for this thread: the log is where a failure shows
        logger.exception("loading demo data failed")
    finally:
        connections.close_all()
