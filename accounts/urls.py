from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", TemplateView.as_view(template_name="base.html"), name="signup"),
    path("profile/", TemplateView.as_view(template_name="base.html"), name="profile"),
]
