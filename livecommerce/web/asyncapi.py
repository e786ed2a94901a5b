"""The AsyncAPI 3.0 document of the room channel, built from the event registry.

Every frame of every area (``channel.events.AREAS``) becomes a message whose payload is
``{"type": NAME, ...fields}``, with the fields' kinds, notes, optional and nullable flags
as the registry states them; server frames are sent by the server (``receive`` for a
client), client frames received by it (``send``). Nothing here is written by hand but the
channel's address and bindings.
"""

from __future__ import annotations

from typing import Any

from livecommerce import __version__
from livecommerce.channel.events import CLIENT_FRAMES, SERVER_FRAMES
from livecommerce.channel.frame_types import Field, FrameSpec, Kind, ServerFrame

JSON_TYPES = {
    Kind.string: "string",
    Kind.integer: "integer",
    Kind.boolean: "boolean",
    Kind.map: "object",
    Kind.list: "array",
}
CHANNEL = "room"


def _field_schema(field: Field) -> dict[str, Any]:
    kind = JSON_TYPES[field.kind]
    schema: dict[str, Any] = {"type": [kind, "null"] if field.nullable else kind}
    if field.note:
        schema["description"] = field.note
    return schema


def message_name(direction: str, frame: FrameSpec) -> str:
    return f"{direction}.{frame.name}"


def _message(direction: str, frame: FrameSpec) -> dict[str, Any]:
    properties = {"type": {"type": "string", "const": frame.name}}
    properties |= {field.name: _field_schema(field) for field in frame.fields}
    required = ["type", *(field.name for field in frame.fields if not field.optional)]
    description = frame.when
    if isinstance(frame, ServerFrame):
        description = f"{frame.when}. To: {frame.audience.value}."
    return {
        "name": frame.name,
        "title": frame.name,
        "summary": frame.when,
        "description": description,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": required,
            "properties": properties,
            "additionalProperties": False,
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every frame both ways."""
    messages = {message_name("server", frame): _message("server", frame) for frame in SERVER_FRAMES}
    messages |= {
        message_name("client", frame): _message("client", frame) for frame in CLIENT_FRAMES
    }

    def refs(direction: str, frames: tuple[FrameSpec, ...]) -> list[dict[str, str]]:
        return [
            {"$ref": f"#/channels/{CHANNEL}/messages/{message_name(direction, f)}"} for f in frames
        ]

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "livecommerce room channel",
            "version": __version__,
            "description": "One WebSocket per room and client: `GET /ws/rooms/{room}` "
            "(`?format=msgpack` by default or `json`, `?token=`, `?resume=`). Each frame "
            "is an object whose `type` names it; the guide is docs/channel.md.",
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "channels": {
            CHANNEL: {
                "address": "/ws/rooms/{room}",
                "parameters": {"room": {"description": "the room's id"}},
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "receiveServerFrames": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "summary": "Frames the server sends to a client",
                "messages": refs("server", SERVER_FRAMES),
            },
            "sendClientFrames": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "summary": "Frames a client sends to the server",
                "messages": refs("client", CLIENT_FRAMES),
            },
        },
        "components": {"messages": messages},
    }
