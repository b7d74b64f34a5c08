"""UnionPay's message rules (ACP 5.1.0) as our client implements them."""

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from payments.gateways.unionpay.protocol import (
    ProtocolError,
    file_content_decode,
    file_content_encode,
    load_signing_cert,
    parse_reply,
    sign_content,
    zm_line,
    zm_parse_line,
)

KEYS = Path(__file__).resolve().parents[3] / "payments" / "simulators" / "keys"


@pytest.fixture(scope="module")
def merchant():
    return load_signing_cert(str(KEYS / "TEST_ONLY_unionpay_merchant.pfx"), "000000")


def test_the_signature_is_sha256withrsa_over_the_lower_case_hex_digest_of_the_sorted_fields(merchant):
    signed = merchant.sign({"txnAmt": "1290", "orderId": "KP1", "merId": "777290058110048", "reqReserved": ""})

    assert signed["certId"] == str(merchant.cert.serial_number)
    assert "reqReserved" not in signed  # empty fields are dropped before signing
    assert sign_content(signed) == f"certId={signed['certId']}&merId=777290058110048&orderId=KP1&txnAmt=1290"
    digest = hashlib.sha256(sign_content(signed).encode()).hexdigest().encode()
    merchant.cert.public_key().verify(
        base64.b64decode(signed["signature"]), digest, padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_wrong_pfx_password_is_a_configuration_problem():
    with pytest.raises(ProtocolError):
        load_signing_cert(str(KEYS / "TEST_ONLY_unionpay_merchant.pfx"), "123456")


def test_replies_keep_ampersands_inside_braces_in_the_value():
    assert parse_reply("respCode=00&reqReserved={a=1&b=2}&riskRateInfo=[x&y]&queryId=1") == {
        "respCode": "00",
        "reqReserved": "{a=1&b=2}",
        "riskRateInfo": "[x&y]",
        "queryId": "1",
    }


def test_a_repeated_field_in_a_reply_is_refused():
    with pytest.raises(ProtocolError):
        parse_reply("respCode=00&respCode=11")


def test_reconciliation_lines_round_trip_through_the_compressed_zip():
    line = zm_line({"trace_time": "1122120010", "amount": "000000001290", "query_id": "Q1", "order_id": "KP1",
                    "fee": "D000000000008", "txn_type": "01", "mer_id": "777290058110048"})  # fmt: skip

    members = file_content_decode(file_content_encode({"INN261122ZM_777290058110048": line + "\r\n"}))

    row = zm_parse_line(next(iter(members.values())).splitlines()[0])
    assert (row.order_id, row.amount, row.fee, row.txn_type, row.mer_id) == ("KP1", 1290, 8, "01", "777290058110048")
