class UnicodeSlugConverter:
    """Like Django's "slug" converter, but also matches the Chinese slugs our titles produce."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
