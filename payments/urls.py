from django.urls import path
from django.views.generic import TemplateView

app_name = "payments"

urlpatterns = [
    path("orders/", TemplateView.as_view(template_name="base.html"), name="order_list"),
    path("earnings/", TemplateView.as_view(template_name="base.html"), name="earnings"),
]
