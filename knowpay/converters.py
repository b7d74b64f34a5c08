"""Path converters shared by the apps; importing this module registers them."""

from django.urls import register_converter


class ReferenceConverter:
    """Our numbers and codes in paths (order, trade and payout numbers, channel names): ASCII letters,
    digits, "-" and "_". Anything else (a NUL byte, which PostgreSQL refuses) is simply not found."""

    regex = r"[A-Za-z0-9_-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")
