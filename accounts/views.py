"""Account pages: thin adapters between forms and accounts.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.forms import CreatorProfileForm, SignupForm
from accounts.models import User
from accounts.selectors import creator_profile_get
from accounts.services import creator_profile_create, creator_profile_update, user_signup, user_signup_confirm
from knowpay.api import API_PREFIX, ServiceError, error_body
from knowpay.crypto import mask
from knowpay.ratelimit import rate_limit

# Never in an error report: passwords, and the payout identity (encrypted at rest, never logged).
_SENSITIVE_FIELDS = ("password", "password1", "password2", "payout_alipay_account", "payout_alipay_name")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters(*_SENSITIVE_FIELDS)
@rate_limit("signup")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same answer whether or not the username or address was taken: the e-mail says which.
        # Where the learner was going travels in the confirmation link.
        user_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            next_url=_safe_next(request),
        )
        return render(request, "accounts/signup_sent.html", {"email": form.cleaned_data["email"]})
    # The form posts `next` back as a field: a page with errors must carry it on to the next try.
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the sign-up e-mail: a button (so mail scanners fetching links change nothing)."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, OverflowError, User.DoesNotExist):
        raise Http404("No such account.") from None
    if request.method == "POST":
        try:
            user_signup_confirm(user=user, token=token)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("accounts:login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to KnowPay, {user.username}!")
        return redirect(_safe_next(request))
    return render(request, "accounts/signup_confirm.html", {"username": user.username})


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out log-in gets (django-axes): a page, or the API's error envelope; 429 either way."""
    retry_after = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = "Too many failed log-ins: this account or address is locked for a while."
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(error_body("locked_out", message), status=429)
    else:
        context = {"message": message, "minutes": retry_after // 60}
        response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    creator = creator_profile_get(user=request.user)
    payout = (
        {"account": mask(creator.payout_alipay_account), "name": mask(creator.payout_alipay_name, keep=1)}
        if creator
        else None
    )
    return render(request, "accounts/profile.html", {"creator_profile": creator, "payout": payout})


@sensitive_post_parameters(*_SENSITIVE_FIELDS)
@login_required
@require_http_methods(["GET", "POST"])
def creator_create(request: HttpRequest) -> HttpResponse:
    if creator_profile_get(user=request.user) is not None:
        return redirect("accounts:creator_edit")
    form = CreatorProfileForm(request.POST or None)
    del form.fields["password"]  # the first payout account needs no confirmation
    if request.method == "POST" and form.is_valid():
        try:
            creator_profile_create(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "You are a creator now. Create your first course here.")
            return redirect("courses:studio")
    return render(request, "accounts/creator_form.html", {"form": form, "is_new": True})


@sensitive_post_parameters(*_SENSITIVE_FIELDS)
@login_required
@rate_limit("login")
@require_http_methods(["GET", "POST"])
def creator_edit(request: HttpRequest) -> HttpResponse:
    creator = creator_profile_get(user=request.user)
    if creator is None:
        return redirect("accounts:creator_create")
    # Initial values rather than instance=, so a refused form never alters the profile we hold. The
    # payout identity is never sent back in clear: the fields show it masked, and left empty keep it.
    form = CreatorProfileForm(request.POST or None, initial=model_to_dict(creator, fields=["display_name", "bio"]))
    if creator.payout_alipay_account:
        form.fields["payout_alipay_account"].widget.attrs["placeholder"] = mask(creator.payout_alipay_account)
        form.fields["payout_alipay_name"].widget.attrs["placeholder"] = mask(creator.payout_alipay_name, keep=1)
        form.fields["payout_alipay_account"].help_text = "Leave both payout fields empty to keep the current account."
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data["payout_alipay_account"] and not data["payout_alipay_name"]:
            data["payout_alipay_account"] = creator.payout_alipay_account
            data["payout_alipay_name"] = creator.payout_alipay_name
        try:
            creator_profile_update(profile=creator, **data)
        except ServiceError as error:
            form.add_error("password" if error.code == "password_required" else None, error.message)
        else:
            messages.success(request, "Your creator profile is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/creator_form.html", {"form": form, "is_new": False})
