"""Earnings API for creators: the same ledger reads as the dashboard, and payout requests.

Amounts are integer fen. Everything is the caller's own: another creator's payout is a 404.
"""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import knowpay.converters  # noqa: F401 (registers "ref")
from knowpay.api import AsciiIntegerField
from payments import selectors
from payments.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from payments.models import Payout
from payments.services.payouts import payout_request


class IsCreator(permissions.BasePermission):
    message = "Only creators have earnings."

    def has_permission(self, request: Request, view) -> bool:
        return request.user.is_authenticated and request.user.is_creator


class PendingPartOutputSerializer(serializers.Serializer):
    available_on = serializers.DateField(help_text="The local day this part leaves the hold.")
    amount_fen = serializers.IntegerField()


class EarningsSummaryOutputSerializer(serializers.Serializer):
    available_fen = serializers.IntegerField(help_text="Can be withdrawn now; negative after refunds of paid sales.")
    pending_fen = serializers.IntegerField(help_text="On hold after recent sales.")
    in_payout_fen = serializers.IntegerField(help_text="Reserved by payouts not yet paid.")
    paid_out_fen = serializers.IntegerField()
    sales_count = serializers.IntegerField()
    gross_fen = serializers.IntegerField(help_text="What learners paid, lifetime.")
    fees_fen = serializers.IntegerField(help_text="Platform fees of those sales.")
    net_fen = serializers.IntegerField(help_text="Your share of those sales.")
    refunded_fen = serializers.IntegerField(help_text="Given back to learners.")
    refunded_fees_fen = serializers.IntegerField(help_text="Of which fees the platform gave back.")
    refunded_net_fen = serializers.IntegerField(help_text="Of which came out of your share.")
    kept_fen = serializers.IntegerField(help_text="net_fen - refunded_net_fen.")
    pending_parts = PendingPartOutputSerializer(many=True)
    payout_min_fen = serializers.IntegerField()


class SaleOutputSerializer(serializers.Serializer):
    order_no = serializers.CharField(source="payment.order.order_no")
    course = serializers.CharField(source="payment.order.course.slug")
    course_title = serializers.CharField(source="payment.order.course.title")
    created_at = serializers.DateTimeField(help_text="When the sale was posted to the ledger.")
    paid_at = serializers.DateTimeField(source="occurred_at", help_text="When the learner paid.")
    gross_fen = serializers.IntegerField()
    fee_fen = serializers.IntegerField()
    net_fen = serializers.IntegerField()
    refunded_fen = serializers.IntegerField()
    refunded_net_fen = serializers.IntegerField()
    settles_at = serializers.DateTimeField(help_text="When your share leaves the hold.")
    settled_at = serializers.DateTimeField(allow_null=True)


class PayoutSaleOutputSerializer(serializers.Serializer):
    order_no = serializers.CharField(source="sale.payment.order.order_no")
    course_title = serializers.CharField(source="sale.payment.order.course.title")
    amount_fen = serializers.IntegerField()


class PayoutOutputSerializer(serializers.Serializer):
    payout_no = serializers.CharField()
    amount_fen = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Payout.Status.choices)
    method = serializers.ChoiceField(choices=Payout.Method.choices, allow_blank=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    sales = PayoutSaleOutputSerializer(source="allocations", many=True, help_text="The settled sales it pays.")


class PayoutRequestInputSerializer(serializers.Serializer):
    amount_fen = AsciiIntegerField(
        min_value=1, max_value=10**15, help_text="At least payout_min_fen, at most available_fen. ASCII digits only."
    )


class EarningsSummaryApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(operation_id="earnings_retrieve", responses=EarningsSummaryOutputSerializer, tags=["earnings"])
    def get(self, request: Request) -> Response:
        """The caller's balances, what is on hold and until when, and lifetime totals."""
        summary = selectors.earnings_summary(creator=request.user)
        data = {**asdict(summary), "kept_fen": summary.kept_fen, "payout_min_fen": settings.PAYOUT_MIN_FEN}
        return Response(EarningsSummaryOutputSerializer(data).data)


class SaleListApi(ListAPIView):
    permission_classes = [IsCreator]
    serializer_class = SaleOutputSerializer

    def get_queryset(self):
        return selectors.sale_list_for_creator(creator=self.request.user)

    @extend_schema(operation_id="earnings_sales_list", tags=["earnings"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        """The caller's sales, newest first, each with its fee, share, refunds and hold."""
        return super().get(request, *args, **kwargs)


class PayoutListApi(ListAPIView):
    permission_classes = [IsCreator]
    serializer_class = PayoutOutputSerializer
    throttle_scope = "money"

    def get_queryset(self):
        return selectors.payout_list_for_creator(creator=self.request.user)

    @extend_schema(operation_id="earnings_payouts_list", tags=["earnings"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        """The caller's payouts, newest first, each with the sales it pays."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="earnings_payouts_create",
        request=PayoutRequestInputSerializer,
        responses={201: PayoutOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["earnings"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Withdraw part or all of what is available; reserved at once, then reviewed by staff."""
        data = PayoutRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = payout_request(creator=request.user, requested_by=request.user, **data.validated_data)
        payout = selectors.payout_get_for_creator(creator=request.user, payout_no=payout.payout_no)
        return Response(PayoutOutputSerializer(payout).data, status=status.HTTP_201_CREATED)


class PayoutDetailApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(operation_id="earnings_payouts_retrieve", responses=PayoutOutputSerializer, tags=["earnings"])
    def get(self, request: Request, payout_no: str) -> Response:
        payout = selectors.payout_get_for_creator(creator=request.user, payout_no=payout_no)
        return Response(PayoutOutputSerializer(payout).data)


urlpatterns = [
    path("earnings/", EarningsSummaryApi.as_view(), name="earnings"),
    path("earnings/sales/", SaleListApi.as_view(), name="earnings-sales"),
    path("earnings/payouts/", PayoutListApi.as_view(), name="earnings-payouts"),
    path("earnings/payouts/<ref:payout_no>/", PayoutDetailApi.as_view(), name="earnings-payout"),
]
