"""A small synchronous client of the moderation endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote


class ModerationApiError(Exception):
    """The server answered with an error (or could not be reached)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ModerationApi:
    def __init__(self, server: str, token: str, timeout_s: float = 10.0) -> None:
        self._server = server.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise _failure(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ModerationApiError(
                0, "unreachable", f"cannot reach {self._server}: {reason}"
            ) from None

    def act(self, room: str, action: str, body: dict[str, Any]) -> Any:
        return self._call("POST", f"/api/rooms/{quote(room)}/moderation/{action}", body)

    def delete_message(self, room: str, message_id: str) -> Any:
        return self._call("DELETE", f"/api/rooms/{quote(room)}/messages/{quote(message_id)}")

    def review(self, room: str) -> Any:
        return self._call("GET", f"/api/rooms/{quote(room)}/review")

    def decide(self, room: str, item: str, decision: str, body: dict[str, Any]) -> Any:
        path = f"/api/rooms/{quote(room)}/review/{quote(item, safe='')}/{decision}"
        return self._call("POST", path, body)

    def automod(self, room: str, changes: dict[str, Any] | None = None) -> Any:
        path = f"/api/rooms/{quote(room)}/moderation/automod"
        return self._call("POST", path, changes) if changes else self._call("GET", path)

    def shield(self, room: str, on: bool) -> Any:
        return self._call("POST", f"/api/rooms/{quote(room)}/moderation/shield", {"on": on})

    def log(self, room: str, limit: int) -> Any:
        return self._call("GET", f"/api/rooms/{quote(room)}/moderation/log?limit={limit}")


def _failure(error: urllib.error.HTTPError) -> ModerationApiError:
    try:
        body = json.loads(error.read())
        return ModerationApiError(error.code, body["error"]["code"], body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ModerationApiError(error.code, "http_error", f"HTTP {error.code} {error.reason}")
