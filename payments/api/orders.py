"""Orders API: what the learner's browser does (buy, pay, cancel, "I have paid", refunds), over JSON."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

import knowpay.converters  # noqa: F401 (registers "ref")
from knowpay.api import AsciiIntegerField
from knowpay.money import format_cny
from knowpay.ratelimit import client_ip
from payments import selectors
from payments.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from payments.gateways import gateway_list
from payments.gateways.base import GatewayError
from payments.models import Order, Refund
from payments.services.checkout import payment_start
from payments.services.orders import order_cancel, order_create
from payments.services.refunds import refund_request
from payments.services.sync import order_sync


class GatewayFailure(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The payment service could not complete this request."
    default_code = "gateway_error"


def _gateway_failure(exc: GatewayError) -> GatewayFailure:
    return GatewayFailure(detail=exc.user_message, code=exc.code or "gateway_error")


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["refund_no", "amount_fen", "kind", "status", "reason", "created_at", "succeeded_at"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    course_title = serializers.CharField(source="course.title", read_only=True)
    amount_display = serializers.SerializerMethodField()
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "order_no",
            "course",
            "course_title",
            "amount_fen",
            "amount_display",
            "currency",
            "status",
            "refunded_fen",
            "created_at",
            "expires_at",
            "paid_at",
            "closed_at",
            "close_reason",
            "refunds",
        ]
        read_only_fields = fields

    def get_amount_display(self, order: Order) -> str:
        return format_cny(order.amount_fen)


class OrderCreateSerializer(serializers.Serializer):
    course = serializers.SlugField(allow_unicode=True, help_text="The slug of a published paid course.")


class PaymentStartSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=20)
    method = serializers.CharField(max_length=20)


class PaymentStartedSerializer(serializers.Serializer):
    out_trade_no = serializers.CharField()
    kind = serializers.ChoiceField(choices=["redirect", "form", "qr", "bridge"])
    url = serializers.CharField(allow_blank=True)
    html = serializers.CharField(allow_blank=True)
    qr_content = serializers.CharField(allow_blank=True)
    bridge_params = serializers.DictField(
        child=serializers.CharField(), help_text="For `bridge`: WeChat's getBrandWCPayRequest parameters, signed."
    )


class RefundRequestSerializer(serializers.Serializer):
    amount_fen = AsciiIntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="Omit for all that is left. ASCII digits only."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ChannelsView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Channel",
            {
                "channel": serializers.CharField(),
                "name": serializers.CharField(),
                "methods": serializers.ListField(child=serializers.DictField(child=serializers.CharField())),
            },
            many=True,
        )
    )
    def get(self, request):
        """The payment channels and methods offered at checkout."""
        return Response(
            [
                {
                    "channel": gateway.channel,
                    "name": gateway.display_name,
                    "methods": [{"code": m.code, "label": m.label} for m in gateway.methods],
                }
                for gateway in gateway_list()
            ]
        )


class OrderListCreateView(ListAPIView):
    serializer_class = OrderSerializer
    throttle_scope = "money"

    def get_queryset(self):
        return selectors.order_list_for_learner(learner=self.request.user)

    @extend_schema(
        request=OrderCreateSerializer, responses={201: OrderSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER]
    )
    @idempotent
    def post(self, request):
        """Buy a course: returns the learner's pending order for it (an existing one is reused)."""
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        course = selectors.course_get_for_purchase(slug=data.validated_data["course"])
        order = order_create(learner=request.user, course=course, client_ip=client_ip(request))
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request, order_no: str):
        order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
        return Response(OrderSerializer(order).data)


class OrderPayView(APIView):
    throttle_scope = "money"

    @extend_schema(
        request=PaymentStartSerializer,
        responses={200: PaymentStartedSerializer, 502: OpenApiResponse(description="The gateway failed.")},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, order_no: str):
        """Start paying (a repeated call returns the same attempt).

        Follow `url`, render `html`, show `qr_content`, or hand `bridge_params` to WeChat's
        getBrandWCPayRequest. A method that needs the payer's openid answers 400
        `payer_authorization_required` until the learner has been through WeChat's authorisation.
        """
        order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
        data = PaymentStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            payment, started = payment_start(order=order, client_ip=client_ip(request), **data.validated_data)
        except GatewayError as exc:
            raise _gateway_failure(exc) from exc
        return Response({"out_trade_no": payment.out_trade_no, **started.as_dict()})


class OrderCancelView(APIView):
    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, order_no: str):
        order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
        return Response(OrderSerializer(order_cancel(order=order)).data)


class OrderCheckView(APIView):
    throttle_scope = "money"

    @extend_schema(
        request=None,
        responses={
            200: OrderSerializer,
            202: OpenApiResponse(OrderSerializer, description="Some gateway is still being asked; poll the order."),
            502: OpenApiResponse(description="Gateway down."),
        },
    )
    def post(self, request, order_no: str):
        """ "I have paid": ask the gateways now and return the order as it stands afterwards."""
        order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
        try:
            result = order_sync(order=order)
        except GatewayError as exc:
            raise _gateway_failure(exc) from exc
        still_checking = result.still_checking and result.order.paid_at is None
        return Response(
            OrderSerializer(result.order).data,
            status=status.HTTP_202_ACCEPTED if still_checking else status.HTTP_200_OK,
        )


class OrderRefundView(APIView):
    throttle_scope = "money"

    @extend_schema(
        request=RefundRequestSerializer, responses={201: RefundSerializer}, parameters=[IDEMPOTENCY_KEY_PARAMETER]
    )
    @idempotent
    def post(self, request, order_no: str):
        """Ask for (part of) the money back within the refund window; staff review it."""
        order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
        data = RefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_request(order=order, learner=request.user, client_ip=client_ip(request), **data.validated_data)
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("channels/", ChannelsView.as_view(), name="channels"),
    path("orders/", OrderListCreateView.as_view(), name="orders"),
    path("orders/<ref:order_no>/", OrderDetailView.as_view(), name="order"),
    path("orders/<ref:order_no>/pay/", OrderPayView.as_view(), name="order-pay"),
    path("orders/<ref:order_no>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<ref:order_no>/check/", OrderCheckView.as_view(), name="order-check"),
    path("orders/<ref:order_no>/refunds/", OrderRefundView.as_view(), name="order-refunds"),
]
