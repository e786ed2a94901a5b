"""Object storage for finished replays: an S3-compatible bucket (AWS, MinIO, Ceph…).

Requests are signed with AWS Signature Version 4 (path-style URLs, so any endpoint
works); reads are handed to players as presigned URLs that expire. Written here
rather than with boto3 to keep the server's dependencies small: four operations
(PUT, GET, DELETE, presign) are all a replay needs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, urlsplit

import aiohttp

from livecommerce.config import RecordingSettings
from livecommerce.replays.storage import StorageError

ALGORITHM: Final = "AWS4-HMAC-SHA256"
UNSIGNED: Final = "UNSIGNED-PAYLOAD"
TIMEOUT: Final = aiohttp.ClientTimeout(total=120)


class S3Error(StorageError):
    """The bucket refused or did not answer."""


@dataclass(frozen=True)
class S3Config:
    endpoint_url: str
    region: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    prefix: str


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class S3Bucket:
    def __init__(self, config: S3Config, session: aiohttp.ClientSession) -> None:
        self.config = config
        self._session = session
        parts = urlsplit(config.endpoint_url.rstrip("/"))
        self._base = f"{parts.scheme}://{parts.netloc}"  # path-style: /BUCKET/KEY
        self._host = parts.netloc

    @property
    def name(self) -> str:
        return self.config.bucket

    def key(self, replay_id: str, name: str) -> str:
        return f"{self.config.prefix}{replay_id}/{name}"

    def _path(self, key: str) -> str:
        return "/" + quote(self.config.bucket, safe="") + "/" + quote(key, safe="/")

    def _signing_key(self, date: str) -> bytes:
        key = _sign(("AWS4" + self.config.secret_access_key).encode(), date)
        for part in (self.config.region, "s3", "aws4_request"):
            key = _sign(key, part)
        return key

    def _signature(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        payload: str,
        now: datetime,
    ) -> tuple[str, str]:
        """(signed header names, signature) of one request."""
        names = sorted(h.lower() for h in headers)
        canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
        signed = ";".join(names)
        request = "\n".join([method, path, query, canonical_headers, signed, payload])
        date = now.strftime("%Y%m%d")
        scope = f"{date}/{self.config.region}/s3/aws4_request"
        to_sign = "\n".join(
            [
                ALGORITHM,
                now.strftime("%Y%m%dT%H%M%SZ"),
                scope,
                hashlib.sha256(request.encode()).hexdigest(),
            ]
        )
        return signed, hmac.new(
            self._signing_key(date), to_sign.encode(), hashlib.sha256
        ).hexdigest()

    async def _request(
        self, method: str, key: str, body: bytes = b"", content_type: str | None = None
    ) -> bytes:
        now = datetime.now(UTC)
        path = self._path(key)
        payload = hashlib.sha256(body).hexdigest()
        headers = {
            "host": self._host,
            "x-amz-content-sha256": payload,
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
        }
        if content_type:
            headers["content-type"] = content_type
        signed, signature = self._signature(method, path, "", headers, payload, now)
        scope = f"{now.strftime('%Y%m%d')}/{self.config.region}/s3/aws4_request"
        headers["authorization"] = (
            f"{ALGORITHM} Credential={self.config.access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        del headers["host"]  # aiohttp sends the same Host itself
        try:
            async with self._session.request(
                method, self._base + path, data=body or None, headers=headers, timeout=TIMEOUT
            ) as response:
                data = await response.read()
                if response.status >= 300 and not (method == "DELETE" and response.status == 404):
                    raise S3Error(f"{method} {key}: {response.status} {data[:200]!r}")
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise S3Error(f"{method} {key}: {exc}") from None

    async def put(self, key: str, body: bytes, content_type: str) -> None:
        await self._request("PUT", key, body, content_type)

    async def get(self, key: str) -> bytes:
        return await self._request("GET", key)

    async def delete(self, key: str) -> None:
        await self._request("DELETE", key)

    def presigned_get(self, key: str, expires_s: int, now: datetime | None = None) -> str:
        """A URL anyone may GET the object with until it expires."""
        now = now or datetime.now(UTC)
        scope = f"{now.strftime('%Y%m%d')}/{self.config.region}/s3/aws4_request"
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{self.config.access_key_id}/{scope}",
            "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
            "X-Amz-Expires": str(expires_s),
            "X-Amz-SignedHeaders": "host",
        }
        query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
        )
        path = self._path(key)
        _, signature = self._signature("GET", path, query, {"host": self._host}, UNSIGNED, now)
        return f"{self._base}{path}?{query}&X-Amz-Signature={signature}"


def s3_config(settings: RecordingSettings) -> S3Config:
    """The bucket of the ``recording.s3_*`` settings."""
    return S3Config(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        bucket=settings.s3_bucket,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        prefix=settings.s3_prefix,
    )
