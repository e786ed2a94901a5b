"""`livecommerce hooks` takes its store options before or after the action, as
`livecommerce token` takes its options anywhere: `hooks dead-letters --data-dir DIR` is
what people type."""

from __future__ import annotations

import pytest

from livecommerce.cli import _parser


@pytest.mark.parametrize(
    "argv",
    [
        ["hooks", "--data-dir", "/d", "--config", "c.toml", "dead-letters"],
        ["hooks", "dead-letters", "--data-dir", "/d", "--config", "c.toml"],
        ["hooks", "--data-dir", "/d", "dead-letters", "--config", "c.toml"],
    ],
)
def test_store_options_are_read_on_either_side_of_the_action(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    assert (args.hooks_command, args.data_dir, args.config, args.redis_url) == (
        "dead-letters",
        "/d",
        "c.toml",
        None,
    )


def test_replay_takes_them_after_its_ids() -> None:
    args = _parser().parse_args(["hooks", "replay", "e1", "e2", "--redis-url", "redis://h"])
    assert (args.ids, args.redis_url, args.data_dir) == (["e1", "e2"], "redis://h", None)
