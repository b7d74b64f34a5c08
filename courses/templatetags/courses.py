from django import template

from accounts.selectors import creator_display_name

register = template.Library()


@register.filter
def creator_name(user) -> str:
    """{{ course.creator|creator_name }}: the creator's display name."""
    return creator_display_name(user=user)
