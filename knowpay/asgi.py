import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knowpay.settings")

application = get_asgi_application()

# Settings are loaded now; refuse to serve with public test keys or the sandbox where money is real.
from payments.safety import startup_refuse_if_unsafe  # noqa: E402 (needs the apps loaded)

startup_refuse_if_unsafe("web process (ASGI)")
