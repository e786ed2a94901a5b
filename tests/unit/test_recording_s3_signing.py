"""The replays' S3 requests are signed as AWS documents Signature Version 4: the examples
of the S3 API reference ("Signature Calculations… Examples"), computed here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from livecommerce.replays.s3 import S3Bucket, S3Config

AWS_EXAMPLE = S3Config(
    endpoint_url="https://examplebucket.s3.amazonaws.com",
    region="us-east-1",
    bucket="examplebucket",
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    prefix="",
)
AT = datetime(2013, 5, 24, tzinfo=UTC)
HOST = "examplebucket.s3.amazonaws.com"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
NO_SESSION: Any = None


def test_a_header_signed_get_matches_the_aws_example() -> None:
    headers = {
        "host": HOST,
        "range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    signed, signature = S3Bucket(AWS_EXAMPLE, NO_SESSION)._signature(
        "GET", "/test.txt", "", headers, EMPTY_SHA256, AT
    )
    assert signed == "host;range;x-amz-content-sha256;x-amz-date"
    assert signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_a_presigned_url_matches_the_aws_example() -> None:
    bucket = S3Bucket(AWS_EXAMPLE, NO_SESSION)
    url = bucket.presigned_get("test.txt", 86_400, now=AT)
    query = url.split("?", 1)[1]
    assert query.startswith(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524"
        "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature="
    )
    # Path-style here (/examplebucket/test.txt); AWS's example is virtual-hosted
    # (/test.txt), so the signature is recomputed for that path to compare.
    unsigned = query.rsplit("&X-Amz-Signature=", 1)[0]
    _, signature = bucket._signature(
        "GET", "/test.txt", unsigned, {"host": HOST}, "UNSIGNED-PAYLOAD", AT
    )
    assert signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    assert url.startswith(f"https://{HOST}/examplebucket/test.txt?")
