"""Template filters for money; a builtin, so every template can write {{ amount_fen|cny }}."""

from django import template

from knowpay.money import fen_to_yuan, format_cny

register = template.Library()


@register.filter
def cny(fen):
    """1290 -> '¥12.90'; empty for None so optional amounts render blank."""
    return "" if fen is None else format_cny(int(fen))


@register.filter
def yuan(fen):
    """1290 -> '12.90', for form fields and CSV."""
    return "" if fen is None else fen_to_yuan(int(fen))
