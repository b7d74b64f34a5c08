from django.conf import settings


def site(request):
    """What every page shows: whether payments run against the local simulators."""
    return {"payments_sandbox": settings.PAYMENTS_SANDBOX}
