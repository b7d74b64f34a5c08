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


# Registered once, when the first URL module that uses <uslug:...> imports this one. A slug with
# anything else in it (a NUL byte, a dot) matches no URL: a 404, never a database error.
register_converter(UnicodeSlugConverter, "uslug")
