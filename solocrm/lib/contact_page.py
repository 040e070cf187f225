"""The customer page gathers what every app knows about a person: each app above contacts
registers a section (its orders, deals, tasks, later tickets and e-mails) from its
AppConfig.ready(), so the contacts app never imports the apps above it.

A section is a function ``(request, contact, forms) -> dict`` whose items join the page's
template context; ``forms`` holds bound forms to show again with their errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

Section = Callable[[HttpRequest, Any, dict[str, Any]], dict[str, Any]]
_sections: dict[str, Section] = {}


def section(name: str) -> Callable[[Section], Section]:
    """Register a section of the customer page under ``name`` (registering again replaces it)."""

    def decorator(func: Section) -> Section:
        _sections[name] = func
        return func

    return decorator


def sections_context(request: HttpRequest, contact: Any, forms: dict[str, Any]) -> dict[str, Any]:
    """The template context every registered section adds for ``contact``."""
    context: dict[str, Any] = {}
    for func in _sections.values():
        context.update(func(request, contact, forms))
    return context
