"""Template context every page gets from this app."""

from solocrm.lib.access import can
from solocrm.lib.business import mail_goes_to_outbox
from solocrm.lib.roles import Action


def mail_banner(request) -> dict:
    """``mail_outbox``: e-mail is only saved to the outbox (no mail server) — the banner in
    web/_banners.html says so; ``can_set_up_mail``: the user may change that (owners)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"mail_outbox": False, "can_set_up_mail": False}
    return {"mail_outbox": mail_goes_to_outbox(), "can_set_up_mail": can(user, Action.ADMIN)}
