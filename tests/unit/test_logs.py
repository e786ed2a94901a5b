"""Log lines: ``log.format = "json"`` writes one JSON object per line."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from livecommerce.logs import CHATTY_LIBRARIES, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in chatty.items():
        logging.getLogger(name).setLevel(value)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_per_line_with_the_exception_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    log = logging.getLogger("livecommerce.test")
    log.debug("below the level")
    log.info("room %s went live\nwith a second line", "r1")
    try:
        raise ValueError("bad frame")
    except ValueError:
        log.exception("channel session failed")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"ts", "level", "logger", "message"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert (first["level"], first["logger"]) == ("info", "livecommerce.test")
    assert first["message"] == "room r1 went live\nwith a second line"
    assert (second["level"], second["message"]) == ("error", "channel session failed")
    assert second["exc"].startswith("Traceback (most recent call last):")
    assert second["exc"].endswith("ValueError: bad frame")


@pytest.mark.usefixtures("restore_logging")
def test_text_logs_are_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("warning", "text")
    logging.getLogger("livecommerce.test").info("hidden")
    logging.getLogger("livecommerce.test").warning("store unavailable")
    err = capsys.readouterr().err
    assert err.endswith(" WARNING livecommerce.test: store unavailable\n")
    assert "hidden" not in err
    assert logging.getLogger("aiortc").level == logging.WARNING


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_keep_the_extra_fields_of_the_call(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = logging.getLogger("livecommerce.test")

    class Room:
        def __str__(self) -> str:
            return "room r1"

    log.info(
        "sale %s sold out",
        "s1",
        extra={"room": "r1", "units": 500, "ok": True, "ratio": 0.5, "where": Room(), "ts": "x"},
    )
    log.warning("no extras")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "sale s1 sold out"
    assert {k: first[k] for k in ("room", "units", "ok", "ratio", "where")} == {
        "room": "r1",
        "units": 500,
        "ok": True,
        "ratio": 0.5,
        "where": "room r1",
    }
    assert first["ts"] != "x"  # an extra field never replaces one of the five
    assert set(first) == {
        "ts",
        "level",
        "logger",
        "message",
        "room",
        "units",
        "ok",
        "ratio",
        "where",
    }
    assert set(second) == {"ts", "level", "logger", "message"}
