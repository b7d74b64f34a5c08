from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters

from accounts import views
from accounts.forms import PasswordResetForm
from knowpay.ratelimit import rate_limit

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/<str:uidb64>/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path(
        "login/",
        rate_limit("login")(
            auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)
        ),
        name="login",
    ),
    # Django's LogoutView accepts POST only, so a link or an image tag cannot log anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        sensitive_post_parameters("email")(
            rate_limit("password_reset")(
                auth_views.PasswordResetView.as_view(
                    form_class=PasswordResetForm,
                    template_name="accounts/password_reset_form.html",
                    success_url=reverse_lazy("accounts:password_reset_done"),
                )
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path("creator/new/", views.creator_create, name="creator_create"),
    path("creator/edit/", views.creator_edit, name="creator_edit"),
]
