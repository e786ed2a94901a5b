"""Chat text cannot carry characters that spoof or hide what others read (issue 11,
item 10). The rule (docs/channel.md, "Chat text"): control characters and lone
surrogates are refused; line and paragraph separators become a newline; format
characters (bidi controls, zero-width characters, …) are removed, except the zero-width
joiner and non-joiner; a message with nothing visible left is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.channel.text import clean_chat_text
from livecommerce.channel.wire import ProtocolError
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster

REFUSED = [
    ("NUL", "a\x00b"),
    ("carriage return", "a\rb"),
    ("escape (terminal sequences)", "\x1b[31mred"),
    ("DEL", "a\x7fb"),
    ("C1 NEL", "a\x85b"),
    ("C1 CSI", "a\x9b31mb"),
]
REMOVED = [
    ("LRE", "\u202a"),
    ("RLE", "\u202b"),
    ("PDF", "\u202c"),
    ("LRO", "\u202d"),
    ("RLO", "\u202e"),
    ("LRI", "\u2066"),
    ("RLI", "\u2067"),
    ("FSI", "\u2068"),
    ("PDI", "\u2069"),
    ("LRM", "\u200e"),
    ("RLM", "\u200f"),
    ("ALM", "\u061c"),
    ("zero-width space", "\u200b"),
    ("word joiner", "\u2060"),
    ("byte-order mark", "\ufeff"),
    ("soft hyphen", "\u00ad"),
    ("tag character", "\U000e0041"),
]
INVISIBLE_ONLY = [
    ("zero-width spaces", "\u200b\u200b\u200b"),
    ("bidi overrides", "\u202e\u202d\u202c"),
    ("joiners", "\u200d\u200c"),
    ("mixed with spaces", " \u200b \ufeff \u2060 "),
    ("Hangul filler", "\u3164\u3164"),
    ("Braille blank", "\u2800"),
    ("line separators", "\u2028\u2029"),
]
KEPT = [
    ("plain", "Is it silk?", "Is it silk?"),
    ("newline and tab", "line one\n\tline two", "line one\n\tline two"),
    ("line separator", "one\u2028two\u2029three", "one\ntwo\nthree"),
    ("emoji family (ZWJ)", "\U0001f468\u200d\U0001f469\u200d\U0001f467", None),
    ("Persian with ZWNJ", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", None),
    ("Arabic", "\u0645\u0631\u062d\u0628\u0627", None),
    ("accents", "cre\u0300me bru\u0302le\u0301e", None),
    ("no-break space", "100\u00a0g", None),
]


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, chat_burst=1000
    ):
        yield value


async def say(client: ChannelClient, text: str) -> dict[str, object]:
    """Send ``text`` as the JSON a hostile client would write; the chat echo or error."""
    mark = len(client.frames)
    await client.send_raw(json.dumps({"type": "chat", "text": text}))
    return await client.wait_for(lambda f: f.get("type") in ("chat", "error"), after=mark)


@pytest.mark.parametrize(("what", "char"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_control_characters_are_refused(cluster: Cluster, what: str, char: str) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "mallory", wire="json")
    answer = await say(client, f"look{char}here")
    assert answer == {**answer, "type": "error", "code": "invalid_field"}, what
    await client.close()


@pytest.mark.parametrize(("what", "char"), REMOVED, ids=[r[0] for r in REMOVED])
async def test_format_characters_are_removed(cluster: Cluster, what: str, char: str) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "mallory", wire="json")
    reader = await cluster.join(room, "reader", node=1)
    answer = await say(client, f"pay{char}me{char} now")
    assert answer["type"] == "chat", (what, answer)
    assert answer["text"] == "payme now"
    assert (await reader.wait_for("chat"))["text"] == "payme now"
    await client.close()
    await reader.close()


@pytest.mark.parametrize(("what", "text"), INVISIBLE_ONLY, ids=[i[0] for i in INVISIBLE_ONLY])
async def test_a_message_with_nothing_visible_is_refused(
    cluster: Cluster, what: str, text: str
) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "mallory", wire="json")
    answer = await say(client, text)
    assert answer == {**answer, "type": "error", "code": "invalid_field"}, what
    await client.close()


@pytest.mark.parametrize(("what", "text", "shown"), KEPT, ids=[k[0] for k in KEPT])
async def test_ordinary_text_in_any_script_is_kept(
    cluster: Cluster, what: str, text: str, shown: str | None
) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "ann", wire="json")
    answer = await say(client, text)
    assert answer["type"] == "chat", (what, answer)
    assert answer["text"] == (shown if shown is not None else text)
    await client.close()


async def test_blocked_terms_match_through_joiners_and_lookalike_widths(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, blocked_terms=["scam"]
    ):
        room = await cluster.room()
        client = await cluster.join(room, "mallory", wire="json")
        for text in ("sc\u200bam", "sc\u200dam", "\uff53\uff43\uff41\uff4d", "S\u00adCAM"):
            answer = await say(client, f"no {text} here")
            assert answer.get("code") == "blocked_term", text
        await client.close()


def test_the_length_limit_counts_the_cleaned_text() -> None:
    assert clean_chat_text("\u200b" * 10 + "hello", 5) == "hello"
    with pytest.raises(ProtocolError) as refused:
        clean_chat_text("hello!", 5)
    assert refused.value.code == "message_too_long"
