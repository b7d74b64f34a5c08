"""Input validation for the learner pages; the services decide the rest."""

from django import forms

from knowpay.forms import YuanAmountField
from payments.models import Refund


class RefundRequestForm(forms.Form):
    amount = YuanAmountField(required=False, help_text="Empty for all that is left.")
    reason = forms.CharField(max_length=Refund._meta.get_field("reason").max_length, required=False)
