"""The inbox pages: a person's notes, marking them read, and what they want by e-mail. Thin:
selectors read the person's own notes only, so someone else's note is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payments.selectors.inbox import inbox_item_get_for_user, inbox_list_for_user, notification_choices_for
from payments.services.inbox import inbox_mark_all_read, inbox_mark_read, notification_preferences_set

PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/inbox/list.html", {"page": page})


@login_required
@require_POST
def inbox_read(request: HttpRequest, item_id: int) -> HttpResponse:
    """Mark one note read; with `open`, go on to where the note leads."""
    item = inbox_item_get_for_user(user=request.user, item_id=item_id)
    if item is None:
        raise Http404("No such note.")
    inbox_mark_read(user=request.user, item_id=item.pk)
    opens = "open" in request.POST and item.url
    if opens and url_has_allowed_host_and_scheme(item.url, allowed_hosts=None):
        return redirect(item.url)
    return redirect("payments:inbox")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    inbox_mark_all_read(user=request.user)
    return redirect("payments:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def inbox_settings(request: HttpRequest) -> HttpResponse:
    """Which kinds of note also come by e-mail (every note is in the inbox)."""
    choices = notification_choices_for(user=request.user)
    if request.method == "POST":
        notification_preferences_set(
            user=request.user, email_by_kind={choice.kind: f"email_{choice.kind}" in request.POST for choice in choices}
        )
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("payments:inbox_settings")
    return render(request, "payments/inbox/settings.html", {"choices": choices})
