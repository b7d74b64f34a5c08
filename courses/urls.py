from django.urls import path
from django.views.generic import TemplateView

app_name = "courses"

urlpatterns = [
    path("", TemplateView.as_view(template_name="base.html"), name="catalog"),
    path("learning/", TemplateView.as_view(template_name="base.html"), name="my_learning"),
    path("studio/", TemplateView.as_view(template_name="base.html"), name="studio"),
]
