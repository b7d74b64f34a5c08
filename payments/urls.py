from django.urls import path

import courses.converters  # noqa: F401 (registers "uslug")
import knowpay.converters  # noqa: F401 (registers "ref")
from payments import earnings_views, inbox_views, notify, views

app_name = "payments"

urlpatterns = [
    path("courses/<uslug:slug>/buy/", views.buy, name="buy"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<ref:order_no>/", views.order_detail, name="order_detail"),
    path("orders/<ref:order_no>/pay/", views.order_pay, name="order_pay"),
    path("orders/<ref:order_no>/pay/<ref:out_trade_no>/qr/", views.order_qr, name="order_qr"),
    path("orders/<ref:order_no>/pay/<ref:out_trade_no>/app/", views.order_bridge, name="order_bridge"),
    path("orders/<ref:order_no>/return/", views.order_return, name="order_return"),
    path("orders/<ref:order_no>/status/", views.order_status, name="order_status"),
    path("orders/<ref:order_no>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("orders/<ref:order_no>/check/", views.order_check, name="order_check"),
    path("orders/<ref:order_no>/refund/", views.order_refund, name="order_refund"),
    path("orders/<ref:order_no>/receipt/", views.order_receipt, name="order_receipt"),
    path("orders/<ref:order_no>/receipt.pdf", views.order_receipt_pdf, name="order_receipt_pdf"),
    path("payments/notify/<ref:channel>/", notify.notify, name="notify"),
    path("payments/notify/<ref:channel>/refund/", notify.notify_refund, name="notify_refund"),
    path("payments/authorized/<ref:channel>/", views.payer_authorized, name="payer_authorized"),
    path("earnings/", earnings_views.earnings, name="earnings"),
    path("earnings/sales.csv", earnings_views.sales_csv, name="earnings_sales_csv"),
    path("earnings/payouts.csv", earnings_views.payouts_csv, name="earnings_payouts_csv"),
    path("earnings/payouts/", earnings_views.payout_request_view, name="earnings_payout_request"),
    path("earnings/schedule/", earnings_views.payout_schedule_view, name="earnings_payout_schedule"),
    path("earnings/payouts/<ref:payout_no>/", earnings_views.payout_detail, name="earnings_payout"),
    path("earnings/payouts/<ref:payout_no>/cancel/", earnings_views.payout_cancel_view, name="earnings_payout_cancel"),
    path(
        "earnings/payouts/<ref:payout_no>/statement/", earnings_views.payout_statement, name="earnings_payout_statement"
    ),
    path(
        "earnings/payouts/<ref:payout_no>/statement.pdf",
        earnings_views.payout_statement_pdf_view,
        name="earnings_payout_statement_pdf",
    ),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/read/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:item_id>/read/", inbox_views.inbox_read, name="inbox_read"),
    path("inbox/settings/", inbox_views.inbox_settings, name="inbox_settings"),
]
