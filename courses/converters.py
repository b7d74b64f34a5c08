"""Path converters; importing this module registers them (once, whichever URLconf comes first)."""

from django.urls import register_converter


class UnicodeSlugConverter:
    """Like Django's "slug" converter, but also matches the Chinese slugs our titles produce.

    Anything else in that part of a path (a NUL byte, a slash) is simply not found.
    """

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UnicodeSlugConverter, "uslug")
