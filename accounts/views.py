"""Account pages: thin adapters between forms and accounts.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.forms import CreatorProfileForm, SignupForm
from accounts.selectors import creator_profile_get
from accounts.services import creator_profile_create, creator_profile_update, user_signup
from knowpay.api import ServiceError


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            login(request, user)
            messages.success(request, f"Welcome to KnowPay, {user.username}!")
            return redirect(_safe_next(request))
    # The form posts `next` back as a field: a page with errors must carry it on to the next try.
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"creator_profile": creator_profile_get(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def creator_create(request: HttpRequest) -> HttpResponse:
    if creator_profile_get(user=request.user) is not None:
        return redirect("accounts:creator_edit")
    form = CreatorProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            creator_profile_create(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "You are a creator now. Create your first course here.")
            return redirect("courses:studio")
    return render(request, "accounts/creator_form.html", {"form": form, "is_new": True})


@login_required
@require_http_methods(["GET", "POST"])
def creator_edit(request: HttpRequest) -> HttpResponse:
    creator = creator_profile_get(user=request.user)
    if creator is None:
        return redirect("accounts:creator_create")
    # Initial values rather than instance=, so a refused form never alters the profile we hold.
    form = CreatorProfileForm(
        request.POST or None, initial=model_to_dict(creator, fields=CreatorProfileForm._meta.fields)
    )
    if request.method == "POST" and form.is_valid():
        try:
            creator_profile_update(profile=creator, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your creator profile is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/creator_form.html", {"form": form, "is_new": False})
