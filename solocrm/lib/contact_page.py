"""The customer page gathers what every app knows about a person: each app above contacts
registers a section (its orders, deals, tasks, later tickets and e-mails) from its
AppConfig.ready(), so the contacts app never imports the apps above it.

A section is a function ``(request, contact, forms) -> dict`` whose items join the page's
template context; ``forms`` holds bound forms to show again with their errors.

The page's header also shows key figures (orders, revenue, lifetime value, churn risk, last
contact): each app registers a ``key_figures`` function that returns ``Figure`` objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


# --- key figures of the page's header --------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of the contact page's header: "Revenue 1,240 EUR", "Churn risk 12%".

    ``value`` is already formatted for the reader's language (the app that knows the number
    knows how to write it); ``hint`` is a longer explanation shown as a tooltip and to screen
    readers; ``tone`` is '', 'success', 'warning' or 'danger'; ``order`` places it (small first).
    """

    key: str
    label: str
    value: str
    hint: str = ""
    tone: str = ""
    order: int = 100


KeyFigures = Callable[[HttpRequest, Any], list[Figure]]
_figures: dict[str, KeyFigures] = {}


def key_figures(name: str) -> Callable[[KeyFigures], KeyFigures]:
    """Register a function ``(request, contact) -> [Figure]`` for the page's header under
    ``name`` (registering again replaces it). It must cost a bounded number of queries."""

    def decorator(func: KeyFigures) -> KeyFigures:
        _figures[name] = func
        return func

    return decorator


def figures_for(request: HttpRequest, contact: Any) -> list[Figure]:
    """Every registered figure for ``contact``, in their order."""
    figures = [figure for func in _figures.values() for figure in func(request, contact)]
    return sorted(figures, key=lambda figure: (figure.order, figure.key))
