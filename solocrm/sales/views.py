"""The tasks page and the done toggle every task list uses."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.users.access import get_for, require, role_required
from solocrm.users.choices import Action
from solocrm.web.dashboard import agenda
from solocrm.web.helpers import redirect_next, wants_partial

from .forms import TaskForm
from .models import Task
from .services import complete_task, update_task


@role_required(Action.VIEW)
def task_list(request: HttpRequest) -> HttpResponse:
    form = TaskForm(request.POST or None)
    if request.method == "POST":
        require(request.user, Action.EDIT)
        if form.is_valid():
            task = form.save(actor=request.user)
            messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
            return redirect_next(request, "sales:task_list")
    return render(request, "sales/task_list.html", {"agenda": agenda(), "form": form})


@require_POST
def task_toggle(request: HttpRequest, public_id) -> HttpResponse:
    """Mark a task done, or open a done task again."""
    task = get_for(request.user, Task.objects.select_related("contact"), public_id, Action.EDIT)
    if task.is_done:
        update_task(task, {"done": False}, actor=request.user)
    else:
        complete_task(task, actor=request.user)
    if wants_partial(request):
        context = {
            "task": task,
            "next": request.POST.get("next", ""),
            "hide_contact": "hide_contact" in request.POST,
        }
        return render(request, "sales/_task.html", context)
    return redirect_next(request, "sales:task_list")
