"""The one access helper. Every view, API endpoint and command asks here whether a user may
do something, and fetches objects by UUID through ``get_for``.

Roles are Django groups named owner / assistant / viewer. A superuser counts as owner.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from .roles import ALLOWED_ACTIONS, Action, Role

ROLE_ORDER = [Role.OWNER, Role.ASSISTANT, Role.VIEWER]


def role_of(user) -> str | None:
    """The user's strongest role, or None (anonymous, inactive or no role)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.OWNER
    cached = getattr(user, "_solocrm_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r.value for r in ROLE_ORDER if r.value in names), None)
    user._solocrm_role = role
    return role


def can(user, action: str) -> bool:
    role = role_of(user)
    return role is not None and action in ALLOWED_ACTIONS[role]


def require(user, action: str) -> None:
    """Raise PermissionDenied unless ``user`` may do ``action``."""
    if not can(user, action):
        raise PermissionDenied


def set_role(user, role: str) -> None:
    """Give ``user`` exactly one role."""
    groups = [Group.objects.get_or_create(name=r.value)[0] for r in ROLE_ORDER]
    user.groups.remove(*[g for g in groups if g.name != role])
    user.groups.add(next(g for g in groups if g.name == role))
    user._solocrm_role = role


def get_for(user, queryset: models.QuerySet | type[models.Model], public_id, action: str = Action.VIEW):
    """Fetch one object by its UUID after checking the role; 404 for a bad or unknown id."""
    require(user, action)
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    obj = qs.filter(uuid=key).first()
    if obj is None:
        raise Http404
    return obj


def role_required(action: str) -> Callable:
    """View decorator: log-in is enforced by middleware; this checks the role."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request.user, action)
            return view(request, *args, **kwargs)

        wrapper.solocrm_action = action
        return wrapper

    return decorator


def role_context(request) -> dict:
    """Template context: what the current user may do, to hide buttons they cannot use."""
    user = getattr(request, "user", None)
    return {
        "user_role": role_of(user),
        "can_edit": can(user, Action.EDIT),
        "can_admin": can(user, Action.ADMIN),
    }
