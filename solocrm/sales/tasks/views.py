"""The tasks pages (tabs, quick add, edit, done, snooze), logging a call or meeting in one step,
and the private calendar feed.

Views only route: they check the role through solocrm.lib.access, hand input to a form and
render; writes happen in solocrm.sales.services, time arithmetic in solocrm.sales.reminders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from solocrm.contacts.models import Contact
from solocrm.contacts.views import composer_response, contact_page_context, get_contact
from solocrm.lib import heartbeat, ratelimit
from solocrm.lib.access import can, get_for, require, role_required
from solocrm.lib.http import next_url, redirect_next, vary_on_htmx, wants_partial
from solocrm.lib.roles import Action
from solocrm.sales.deals.models import Deal
from solocrm.sales.tasks import calendar_feed as feeds
from solocrm.sales.tasks import reminders
from solocrm.sales.tasks.filters import TaskFilter
from solocrm.sales.tasks.forms import LogActivityForm, SnoozeForm, TaskEditForm, TaskForm
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import TaskError, complete_task, delete_task, reopen_task, snooze_task
from solocrm.users.forms import PreferencesForm
from solocrm.users.models import Preferences

TASKS_PER_PAGE = 50
AGENDA_LIMIT = 20  # per section of the "all open" tab; each links to its full, paginated tab
TABS = ("all", *reminders.BUCKETS)
FEED_RATE_LIMIT = 60  # feed requests per client and hour: calendar apps poll every 5–60 minutes


def _tasks():
    return Task.objects.select_related("contact", "deal")


def _tab_filter(request: HttpRequest) -> tuple[str, TaskFilter, str]:
    """The tab and the shared filter from the query string (bad values: no filter + a reason)."""
    tab = request.GET.get("show", "all")
    tab = tab if tab in TABS else "all"
    params = {k: v for k, v in request.GET.items() if k in ("q", "priority", "kind")}
    try:
        return tab, TaskFilter.model_validate(params), ""
    except ValidationError:
        return tab, TaskFilter(), _("Some filters were not understood and are ignored.")


@role_required(Action.VIEW)
def task_list(request: HttpRequest) -> HttpResponse:
    """Tabs: all open tasks by when they are due, or one bucket (paginated); the quick-add form."""
    form = TaskForm(request.POST or None)
    if request.method == "POST":
        require(request.user, Action.EDIT)
        if form.is_valid():
            task = form.save(actor=request.user)
            messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
            return redirect_next(request, "sales:task_list")
    tab, task_filter, filter_error = _tab_filter(request)
    now = timezone.now()
    filtered = task_filter.filter(Task.objects.all())
    context = {
        "form": form,
        "tab": tab,
        "tabs": _tabs(reminders.bucket_counts(filtered, now)),
        "filter": task_filter,
        "filter_error": filter_error,
        "kinds": Task._meta.get_field("kind").choices,
        "priorities": Task._meta.get_field("priority").choices,
    }
    if tab == "all" and not task_filter.model_dump(exclude_none=True, exclude={"ordering"}):
        context["agenda"] = reminders.task_agenda(now, limit=AGENDA_LIMIT)
    else:
        context["page"] = Paginator(_tab_tasks(tab, task_filter), TASKS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    status = 422 if form.errors else 200
    return vary_on_htmx(render(request, "sales/task_list.html", context, status=status))


def _tab_tasks(tab: str, task_filter: TaskFilter):
    """One tab's tasks, filtered and ordered (done ones: the latest first); "all": every open one."""
    if tab == "all":
        return task_filter.apply(_tasks().filter(done_at__isnull=True))
    bucket = task_filter.model_copy(update={"when": tab})
    return bucket.apply(_tasks(), "-done" if tab == "done" else None)


def _tabs(counts: dict[str, int]) -> list[dict]:
    labels = {
        "all": _("All open"),
        "overdue": _("Overdue"),
        "today": _("Today"),
        "upcoming": _("Upcoming"),
        "no_date": _("No date"),
        "done": _("Done"),
    }
    open_count = sum(counts[name] for name in reminders.BUCKETS if name != "done")
    return [{"name": name, "label": labels[name], "count": counts.get(name, open_count)} for name in TABS]


def _row(request: HttpRequest, task: Task, **extra) -> HttpResponse:
    """The task's row (the htmx answer of done, reopen and snooze)."""
    context = {
        "task": task,
        "next": request.POST.get("next", ""),
        "hide_contact": "hide_contact" in request.POST,
        **extra,
    }
    return render(request, "sales/_task.html", context)


@require_POST
def task_toggle(request: HttpRequest, public_id) -> HttpResponse:
    """Mark a task done (a repeating one comes back as its next occurrence), or open it again."""
    task = get_for(request.user, _tasks(), public_id, Action.EDIT)
    following = None
    if task.is_done:
        reopen_task(task, actor=request.user)
    else:
        following = complete_task(task, actor=request.user)
    if wants_partial(request):
        return _row(request, task, next_occurrence=following)
    if following is not None:
        when = date_format(timezone.localtime(following.due_at), "SHORT_DATE_FORMAT")
        messages.success(request, _("Done. The next one is due %(when)s.") % {"when": when})
    return redirect_next(request, "sales:task_list")


@require_POST
def task_snooze(request: HttpRequest, public_id) -> HttpResponse:
    """Put a task off (an hour, tomorrow 9:00, a week, or a chosen time)."""
    task = get_for(request.user, _tasks(), public_id, Action.EDIT)
    form = SnoozeForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            snooze_task(task, form.target, actor=request.user)
        except TaskError as refused:
            error = str(refused)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if wants_partial(request):
        return _row(request, task, snooze_error=error)
    if error:
        messages.error(request, error)
    else:
        when = date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
        messages.success(request, _("Snoozed until %(when)s.") % {"when": when})
    return redirect_next(request, "sales:task_list")


@role_required(Action.VIEW)
def task_edit(request: HttpRequest, public_id) -> HttpResponse:
    """One task: change it (assistant and owner), snooze it, finish it, log the call."""
    task = get_for(request.user, _tasks(), public_id)
    form = TaskEditForm(request.POST or None, task=task)
    if request.method == "POST":
        require(request.user, Action.EDIT)
        if form.is_valid():
            try:
                form.save(actor=request.user)
            except TaskError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, _("Task saved."))
                return redirect_next(request, "sales:task_list")
    context = {
        "task": task,
        "form": form,
        "snooze_form": SnoozeForm(),
        "back": next_url(request, "sales:task_list"),
        "can_delete": can(request.user, Action.DELETE),
    }
    return render(request, "sales/task_edit.html", context, status=422 if form.errors else 200)


@require_POST
def task_delete(request: HttpRequest, public_id) -> HttpResponse:
    task = get_for(request.user, Task, public_id, Action.DELETE)
    delete_task(task, actor=request.user)
    messages.success(request, _("Task “%(title)s” deleted.") % {"title": task.title})
    return redirect_next(request, "sales:task_list")


# --- log a call or meeting ----------------------------------------------------------------------


def _log_subjects(request: HttpRequest) -> tuple[Contact | None, Deal | None, Task | None]:
    """The contact, deal and task named in the query or the form (404 for unknown ones)."""
    source = request.POST if request.method == "POST" else request.GET

    def lookup(name: str, queryset):
        value = source.get(name, "").strip()
        return get_for(request.user, queryset, value, Action.EDIT) if value else None

    task = lookup("task", _tasks())
    deal = lookup("deal", Deal.objects.select_related("contact", "company"))
    contact = lookup("contact", Contact.objects.select_related("company"))
    contact = contact or (task.contact if task else None) or (deal.contact if deal else None)
    return contact, deal or (task.deal if task else None), task


@role_required(Action.EDIT)
def log_activity(request: HttpRequest) -> HttpResponse:
    """Log a call, meeting, e-mail or note with its outcome and the next task, in one step.
    A page of its own for phones: /sales/log/?contact=<uuid>&deal=<uuid>&task=<uuid>."""
    contact, deal, task = _log_subjects(request)
    if contact is None and deal is None:
        messages.warning(request, _("Log a call from a contact, a deal or a task."))
        return redirect("sales:task_list")
    initial = {"kind": "meeting"} if task is not None and task.kind == "meeting" else {}
    form = LogActivityForm(request.POST or None, contact=contact, deal=deal, initial=initial)
    # The contact page's composer (call and meeting tabs) posts here with htmx.
    composer = request.method == "POST" and wants_partial(request) and request.POST.get("composer") == "1"
    if request.method == "POST" and form.is_valid():
        try:
            activity = form.save(request.user, contact=contact, task=task)
        except (TaskError, ValueError) as refused:
            form.add_error(None, str(refused))
        else:
            if composer and contact is not None:
                tab = "meeting" if activity.interaction.kind == "meeting" else "call"
                return composer_response(request, contact, tab, saved=True)
            messages.success(request, _activity_message(activity))
            default = reverse("contacts:detail", args=[contact.uuid]) if contact else "sales:task_list"
            return redirect_next(request, default)
    if composer and contact is not None:
        tab = "meeting" if request.POST.get("kind") == "meeting" else "call"
        return composer_response(request, contact, tab, log_form=form)
    context = {
        "log_form": form,
        "log_contact": contact,
        "log_deal": deal,
        "log_task": task,
        "next": next_url(
            request, reverse("contacts:detail", args=[contact.uuid]) if contact else "sales:task_list"
        ),
    }
    return render(request, "sales/log_activity.html", context, status=422 if form.errors else 200)


def _activity_message(activity) -> str:
    parts = [_("Logged.")]
    if activity.completed is not None:
        parts.append(_("“%(title)s” is done.") % {"title": activity.completed.title})
    if activity.next_task is not None:
        when = date_format(timezone.localtime(activity.next_task.due_at), "SHORT_DATE_FORMAT")
        parts.append(_("Next: “%(title)s” on %(when)s.") % {"title": activity.next_task.title, "when": when})
    return " ".join(parts)


# --- the private calendar feed ------------------------------------------------------------------


@login_not_required
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's tasks and meetings as iCalendar; 404 for a forged or revoked link, with no
    hint of which (and the same for an unknown user)."""
    if not ratelimit.hit("calendar", request, limit=FEED_RATE_LIMIT):
        return HttpResponse(_("Too many requests; try again later."), status=429, content_type="text/plain")
    user = feeds.user_for_token(token) if len(token) <= 200 else None
    if user is None:
        return HttpResponseNotFound(_("Not found."), content_type="text/plain; charset=utf-8")
    response = HttpResponse(feeds.build_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="solocrm.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


@require_POST
def contact_add_task(request: HttpRequest, public_id) -> HttpResponse:
    """Add a task from the customer page (a fragment for htmx, else back to the page)."""
    contact = get_contact(request, public_id, Action.EDIT)
    form = TaskForm(request.POST, auto_id="task_%s")
    if form.is_valid():
        form.save(actor=request.user, contact=contact)
        if not wants_partial(request):
            messages.success(request, _("Task added."))
            return redirect(reverse("contacts:detail", args=[contact.uuid]) + "?compose=task#composer")
        return composer_response(request, contact, "task", saved=True)
    if wants_partial(request):
        return composer_response(request, contact, "task", task_form=form)
    context = contact_page_context(request, contact, task_form=form, tab="task")
    return render(request, "contacts/contact_detail.html", context, status=422)


# --- the user's calendar and reminder preferences ---------------------------------------------


@role_required(Action.VIEW)
def preferences(request: HttpRequest) -> HttpResponse:
    """Calendar and reminders: the digest hour, the private calendar feed URL (to copy) and its
    reset. Every role has its own."""
    # Imported here: the users app sits below sales, which owns tasks, digests and the feed.
    from solocrm.sales.tasks import reminders

    prefs = Preferences.of(request.user)
    form = PreferencesForm(request.POST or None, initial={"digest_hour": prefs.digest_hour})
    if request.method == "POST" and form.is_valid():
        reminders.set_digest_hour(request.user, form.cleaned_data["digest_hour"], actor=request.user)
        messages.success(request, _("Preferences saved."))
        return redirect("account:preferences")
    context = {
        "form": form,
        "prefs": prefs,
        "feed_url": feeds.feed_url(request.user, request),
        "worker_seen": heartbeat.last_tick(),
        "worker_late": heartbeat.worker_is_late(),
        "has_email": bool(request.user.email),
    }
    response = render(request, "sales/preferences.html", context)
    response["Cache-Control"] = "no-store"  # the feed URL is a secret
    return response


@require_POST
@role_required(Action.VIEW)
def reset_calendar(request: HttpRequest) -> HttpResponse:
    """Revoke the calendar feed URL given out so far; the page then shows the new one."""

    feeds.reset_feed(request.user, actor=request.user)
    messages.success(request, _("The old calendar link stopped working. Subscribe again with the new one."))
    return redirect("account:preferences")
