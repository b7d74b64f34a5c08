from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from knowpay.admin import change_lists_bound

        # django.contrib.admin, first in INSTALLED_APPS, has loaded every admin module by now.
        change_lists_bound(admin.site)
