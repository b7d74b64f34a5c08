"""Driving the real admin from tests: staff with given permissions, action posts, change forms."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory


def staff_with(*permissions: str) -> User:
    user = UserFactory(is_staff=True)
    for label in permissions:
        app_label, codename = label.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def view_only_staff() -> User:
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def post_action(client: Client, model: type, action: str, obj, **extra):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(url, {"action": action, "_selected_action": [obj.pk], "index": 0, **extra}, follow=True)


def form_data(response) -> dict[str, Any]:
    """What the browser would post back from an admin add or change page, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False or isinstance(field, django_forms.FileField):
                continue
            if isinstance(field.widget, django_forms.MultiWidget):  # date and time in two inputs
                for index, part in enumerate(field.widget.decompress(value)):
                    data[f"{form.add_prefix(name)}_{index}"] = "" if part is None else str(part)
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data
