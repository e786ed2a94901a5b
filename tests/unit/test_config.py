"""Settings: defaults, layering, parsing, validation, and config/default.toml kept in step."""

from __future__ import annotations

import base64
import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from livecommerce.config import (
    AppendFsync,
    ConfigError,
    EndpointConfig,
    IceServer,
    LogFormat,
    LogLevel,
    PortRange,
    SessionRequests,
    Settings,
    _coerce,
    _parse_env,
    build_settings,
    load_settings,
    setting_names,
    settings_as_dict,
    udp_port_range,
)

REPO_ROOT = Path(__file__).parents[2]
DEFAULT_TOML = REPO_ROOT / "config" / "default.toml"
GOOD_SECRET = "0123456789abcdef0123456789abcdef"


def write_config(directory: Path, text: str) -> Path:
    path = directory / "livecommerce.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_naming(error: pytest.ExceptionInfo[ConfigError], *fragments: str) -> None:
    """The message is a single line and names the setting and where it came from."""
    message = str(error.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# Defaults


def test_no_layers_gives_the_code_defaults() -> None:
    settings = load_settings(None, environ={}, flags=None)

    assert settings == Settings()
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8080
    assert settings.server.public_url == ""
    assert settings.store.url == ""
    assert settings.store.key_prefix == "lc:"
    assert settings.auth.secret == ""
    assert settings.auth.token_ttl_s == 86_400
    assert settings.log.level == "info"
    assert settings.log.format == "text"


def test_build_settings_without_layers_equals_load_settings_defaults() -> None:
    assert build_settings([]) == load_settings(None, environ={})


def test_explicit_empty_environ_ignores_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIVECOMMERCE_SERVER_PORT", "9999")

    assert load_settings(None, environ={}).server.port == 8080


def test_environ_none_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVECOMMERCE_SERVER_PORT", "9999")

    assert load_settings(None, environ=None).server.port == 9999


def test_setting_names_lists_every_section_dot_key() -> None:
    names = setting_names()

    assert "server.port" in names
    assert "store.key_prefix" in names
    assert "auth.secret" in names
    assert len(names) == len(set(names))
    assert names == [f"{s}.{k}" for s, keys in settings_as_dict(Settings()).items() for k in keys]


# Layering: defaults → file → env → flags


def test_config_file_overrides_defaults_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[server]\nport = 9001\n[log]\nformat = "json"\n')

    settings = load_settings(path, environ={})

    assert settings.server.port == 9001
    assert settings.log.format == "json"
    assert settings.server.host == "127.0.0.1"
    assert settings.log.level == "info"


def test_config_file_path_may_be_a_string(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nport = 9001\n")

    assert load_settings(str(path), environ={}).server.port == 9001


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nport = 9001\n")

    settings = load_settings(path, environ={"LIVECOMMERCE_SERVER_PORT": "9002"})

    assert settings.server.port == 9002


def test_flags_override_environment_and_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nport = 9001\n")

    settings = load_settings(
        path, environ={"LIVECOMMERCE_SERVER_PORT": "9002"}, flags={"server": {"port": 9003}}
    )

    assert settings.server.port == 9003


def test_flag_value_none_does_not_override_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nport = 9001\n")

    settings = load_settings(
        path, environ={"LIVECOMMERCE_SERVER_PORT": "9002"}, flags={"server": {"port": None}}
    )

    assert settings.server.port == 9002


def test_flag_value_none_does_not_override_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[server]\nport = 9001\nhost = "0.0.0.0"\n')

    settings = load_settings(path, environ={}, flags={"server": {"port": None, "host": None}})

    assert settings.server.port == 9001
    assert settings.server.host == "0.0.0.0"


def test_flag_value_none_does_not_override_default() -> None:
    settings = load_settings(None, environ={}, flags={"log": {"level": None}})

    assert settings.log.level == "info"


def test_each_layer_only_changes_the_settings_it_names(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[server]\nhost = "0.0.0.0"\n')

    settings = load_settings(
        path,
        environ={"LIVECOMMERCE_SERVER_PORT": "9002"},
        flags={"log": {"level": "debug"}},
    )

    assert settings.server.host == "0.0.0.0"
    assert settings.server.port == 9002
    assert settings.log.level == "debug"
    assert settings.store == Settings().store


def test_later_build_settings_layer_wins() -> None:
    settings = build_settings(
        [("first", {"server": {"port": 1000}}), ("second", {"server": {"port": 2000}})]
    )

    assert settings.server.port == 2000


# Environment parsing


def test_environment_integer_is_parsed_to_int() -> None:
    settings = load_settings(None, environ={"LIVECOMMERCE_SERVER_PORT": " 9000 "})

    assert settings.server.port == 9000
    assert type(settings.server.port) is int


@pytest.mark.parametrize(("raw", "expected"), [("2.5", 2.5), ("3", 3.0), ("1e1", 10.0)])
def test_environment_number_is_parsed_to_float(raw: str, expected: float) -> None:
    settings = load_settings(None, environ={"LIVECOMMERCE_STORE_CONNECT_TIMEOUT_S": raw})

    assert settings.store.connect_timeout_s == expected
    assert type(settings.store.connect_timeout_s) is float


def test_environment_string_is_taken_verbatim() -> None:
    settings = load_settings(
        None,
        environ={
            "LIVECOMMERCE_SERVER_HOST": "0.0.0.0",
            "LIVECOMMERCE_STORE_KEY_PREFIX": "lc:prod:",
            "LIVECOMMERCE_STORE_URL": "redis://store.example:6379/0",
        },
    )

    assert settings.server.host == "0.0.0.0"
    assert settings.store.key_prefix == "lc:prod:"
    assert settings.store.url == "redis://store.example:6379/0"


def test_environment_key_with_underscores_maps_to_its_setting() -> None:
    settings = load_settings(None, environ={"LIVECOMMERCE_SERVER_MAX_BODY_BYTES": "2048"})

    assert settings.server.max_body_bytes == 2048


def test_variables_without_the_prefix_are_ignored() -> None:
    settings = load_settings(
        None, environ={"PATH": "/usr/bin", "LIVECOMMERCE": "x", "SERVER_PORT": "1"}
    )

    assert settings == Settings()


# No setting is a bool today, so bool parsing is checked on the parser itself.
@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_environment_true_words_parse_to_true(raw: str) -> None:
    assert _parse_env("x.flag", bool, raw, "from env LIVECOMMERCE_X_FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", " OFF "])
def test_environment_false_words_parse_to_false(raw: str) -> None:
    assert _parse_env("x.flag", bool, raw, "from env LIVECOMMERCE_X_FLAG") is False


@pytest.mark.parametrize("raw", ["maybe", "", "2", "enabled"])
def test_environment_non_bool_word_for_bool_is_rejected(raw: str) -> None:
    with pytest.raises(ConfigError) as error:
        _parse_env("x.flag", bool, raw, "from env LIVECOMMERCE_X_FLAG")

    assert_one_line_naming(error, "x.flag", "LIVECOMMERCE_X_FLAG", "true or false")


@pytest.mark.parametrize("raw", ["abc", "8080.5", "true", "", "0x1f"])
def test_environment_non_integer_for_int_is_rejected(raw: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"LIVECOMMERCE_SERVER_PORT": raw})

    assert_one_line_naming(error, "server.port", "LIVECOMMERCE_SERVER_PORT", "integer")


@pytest.mark.parametrize("raw", ["fast", "", "1,5"])
def test_environment_non_number_for_float_is_rejected(raw: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"LIVECOMMERCE_STORE_CONNECT_TIMEOUT_S": raw})

    assert_one_line_naming(
        error, "store.connect_timeout_s", "LIVECOMMERCE_STORE_CONNECT_TIMEOUT_S", "number"
    )


def test_environment_value_out_of_range_names_the_variable() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"LIVECOMMERCE_SERVER_PORT": "70000"})

    assert_one_line_naming(error, "server.port", "LIVECOMMERCE_SERVER_PORT", "70000")


# Unknown names


def test_unknown_section_in_config_file_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[nope]\nx = 1\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "nope", "unknown section", str(path))


def test_unknown_key_in_config_file_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\ncolour = 1\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "server.colour", "unknown setting", str(path))


def test_section_that_is_not_a_table_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server = 8080\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "server", "table", str(path))


@pytest.mark.parametrize(
    ("variable", "name"),
    [
        ("LIVECOMMERCE_SERVER_NOPE", "server.nope"),
        ("LIVECOMMERCE_STORE_URLL", "store.urll"),
        ("LIVECOMMERCE_SERVER_", "server."),
    ],
)
def test_unknown_key_of_a_known_section_in_the_environment_is_rejected(
    variable: str, name: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={variable: "1"})

    assert_one_line_naming(error, name, "unknown setting", variable)


def test_unknown_flag_is_rejected() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={}, flags={"server": {"colour": "blue"}})

    assert_one_line_naming(error, "server.colour", "command-line flags")


def test_unknown_key_with_newline_still_gives_a_one_line_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[server]\n"port\\nx" = 1\n')

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "server.", str(path))


# Types


@pytest.mark.parametrize(
    ("section", "key", "value", "expected_type"),
    [
        ("server", "port", "8080", "an integer"),
        ("server", "port", True, "an integer"),
        ("server", "port", 8080.0, "an integer"),
        ("server", "host", 1, "a string"),
        ("server", "shutdown_timeout_s", "5", "a number"),
        ("server", "shutdown_timeout_s", False, "a number"),
        ("log", "level", ["info"], "a string"),
    ],
)
def test_value_of_the_wrong_type_is_rejected(
    section: str, key: str, value: Any, expected_type: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings([("from test", {section: {key: value}})])

    assert_one_line_naming(error, f"{section}.{key}", f"must be {expected_type}", "from test")


def test_string_for_int_in_config_file_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[server]\nport = "8080"\n')

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "server.port", "must be an integer", str(path))


def test_bool_for_int_in_config_file_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nport = true\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "server.port", "must be an integer", str(path))


@pytest.mark.parametrize("value", [1, 0, "true", 1.0])
def test_non_bool_for_bool_is_rejected(value: Any) -> None:
    # No setting is a bool today, so the type check is exercised directly.
    with pytest.raises(ConfigError) as error:
        _coerce("x.flag", bool, value, "from test")

    assert_one_line_naming(error, "x.flag", "must be true or false", "from test")


@pytest.mark.parametrize("value", [True, False])
def test_bool_for_bool_is_accepted(value: bool) -> None:
    assert _coerce("x.flag", bool, value, "from test") is value


def test_integer_for_float_setting_becomes_float(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server]\nshutdown_timeout_s = 3\n")

    settings = load_settings(path, environ={})

    assert settings.server.shutdown_timeout_s == 3.0
    assert type(settings.server.shutdown_timeout_s) is float


# Values


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("server", "port", 70000),
        ("server", "port", -1),
        ("server", "public_url", "ftp://live.example"),
        ("server", "public_url", "live.example"),
        ("server", "max_body_bytes", 0),
        ("server", "shutdown_timeout_s", 0.0),
        ("store", "url", "http://x"),
        ("store", "url", "redis://"),
        ("store", "url", "unix://"),
        ("store", "url", "redis+cluster://"),
        ("store", "url", "redis+cluster://10.0.0.1:7000,10.0.0.2:x"),
        ("store", "url", "redis+cluster://10.0.0.1:7000/1"),
        ("store", "key_prefix", "app:"),
        ("store", "key_prefix", ""),
        ("store", "key_prefix", "lc:{r}:"),
        ("store", "key_prefix", "lc: x"),
        ("store", "retries", -1),
        ("store", "connect_timeout_s", -0.5),
        ("auth", "secret", "too-short"),
        ("auth", "secret", "x" * 31),
        ("auth", "token_ttl_s", 0),
        ("rooms", "list_limit", 0),
        ("log", "level", "loud"),
        ("log", "level", "INFO"),
        ("log", "format", "xml"),
    ],
)
def test_bad_value_is_rejected_naming_the_setting(section: str, key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings([("from test", {section: {key: value}})])

    assert_one_line_naming(error, f"{section}.{key}", repr(value), "from test")


def test_bad_value_in_config_file_names_the_setting_and_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[log]\nlevel = "loud"\n')

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "log.level", "'loud'", str(path))


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("server", "port", 0),
        ("server", "port", 65535),
        ("server", "public_url", "https://live.example.com"),
        ("store", "url", "redis://localhost:6379/0"),
        ("store", "url", "rediss://user:pw@store.example:6380"),
        ("store", "url", "unix:///run/valkey/valkey.sock"),
        ("store", "url", "redis+cluster://10.0.0.1:7000,10.0.0.2:7000,[::1]:7001"),
        ("store", "url", "rediss+cluster://user:pw@store.example:6380/0"),
        ("store", "key_prefix", "lc:t-0123abcd:"),
        ("store", "retries", 0),
        ("auth", "secret", "x" * 32),
        ("auth", "secret", ""),
        ("log", "level", "debug"),
        ("log", "format", "json"),
    ],
)
def test_good_value_is_accepted(section: str, key: str, value: Any) -> None:
    settings = build_settings([("from test", {section: {key: value}})])

    assert getattr(getattr(settings, section), key) == value


# The --config file itself


def test_missing_config_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "--config", "not found", str(path))


def test_invalid_toml_config_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[server\nport = = 1\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "--config", str(path), "not valid TOML")


def test_config_path_that_is_a_directory_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path, environ={})

    assert_one_line_naming(error, "--config", str(tmp_path))


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"server\.port"):
        build_settings([("from test", {"server": {"port": 70000}})])


# Frozen settings and replace()


def test_settings_sections_cannot_be_reassigned() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.server = settings.server  # type: ignore[misc]


def test_settings_values_cannot_be_assigned() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.server.port = 1  # type: ignore[misc]
    assert settings.server.port == 8080


def test_replace_returns_a_copy_with_the_new_value() -> None:
    original = load_settings(None, environ={"LIVECOMMERCE_SERVER_HOST": "0.0.0.0"})

    changed = original.replace("server", port=9000)

    assert changed.server.port == 9000
    assert changed.server.host == "0.0.0.0"
    assert changed.store == original.store
    assert changed.log == original.log


def test_replace_leaves_the_original_unchanged() -> None:
    original = Settings()

    original.replace("server", port=9000)
    original.replace("log", level="debug")

    assert original.server.port == 8080
    assert original.log.level == "info"
    assert original == Settings()


def test_replace_validates_the_new_value() -> None:
    with pytest.raises(ConfigError) as error:
        Settings().replace("server", port=70000)

    assert_one_line_naming(error, "server.port", "70000")


def test_replace_rejects_an_unknown_key() -> None:
    with pytest.raises(ConfigError) as error:
        Settings().replace("server", colour="blue")

    assert_one_line_naming(error, "server.colour", "unknown setting")


def test_replace_rejects_an_unknown_section() -> None:
    with pytest.raises(ConfigError) as error:
        Settings().replace("nope", port=1)

    assert_one_line_naming(error, "nope", "unknown section")


# public_url


def test_configured_public_url_wins_without_trailing_slash() -> None:
    settings = build_settings(
        [("from test", {"server": {"public_url": "https://live.example.com/", "port": 9000}})]
    )

    assert settings.public_url == "https://live.example.com"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("node-1.internal", 9000, "http://node-1.internal:9000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("::", 8080, "http://127.0.0.1:8080"),
        ("", 8080, "http://127.0.0.1:8080"),
        ("::1", 8081, "http://[::1]:8081"),
    ],
)
def test_public_url_is_derived_from_host_and_port(host: str, port: int, expected: str) -> None:
    settings = build_settings([("from test", {"server": {"host": host, "port": port}})])

    assert settings.public_url == expected


# config/default.toml


def default_toml() -> dict[str, Any]:
    with DEFAULT_TOML.open("rb") as handle:
        return tomllib.load(handle)


def test_default_toml_loads_as_a_config_file() -> None:
    assert load_settings(DEFAULT_TOML, environ={}) == Settings()


def test_default_toml_has_exactly_the_declared_settings() -> None:
    documented = [f"{s}.{k}" for s, keys in default_toml().items() for k in keys]

    assert sorted(documented) == sorted(setting_names())


def test_default_toml_values_equal_the_code_defaults() -> None:
    code = settings_as_dict(Settings())

    for section, values in default_toml().items():
        for key, value in values.items():
            assert value == code[section][key], f"{section}.{key}"
            assert type(value) is type(code[section][key]), f"{section}.{key}"


def test_every_key_in_default_toml_has_a_comment_line_above_it() -> None:
    lines = DEFAULT_TOML.read_text(encoding="utf-8").splitlines()
    key_line = re.compile(r"^\s*[A-Za-z0-9_-]+\s*=")
    keys_seen = 0

    for number, line in enumerate(lines):
        if key_line.match(line):
            keys_seen += 1
            previous = lines[number - 1].strip() if number else ""
            assert previous.startswith("# "), f"line {number + 1} {line!r} has no comment above"

    assert keys_seen == len(setting_names())


@pytest.mark.parametrize("raw", ["inf", "nan", "-inf"])
def test_non_finite_durations_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"server\.shutdown_timeout_s: must be a finite number"):
        load_settings(environ={"LIVECOMMERCE_SERVER_SHUTDOWN_TIMEOUT_S": raw})


# Media


def test_media_defaults_use_no_ice_server() -> None:
    settings = load_settings(None, environ={})

    assert settings.media.ice_servers == ()
    assert settings.media.cors_origins == ("*",)
    assert settings.auth.viewer_token_required is False


def test_ice_servers_take_tables_with_urls(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[media]\nice_servers = [{urls = ["stun:stun.example.org:3478"]},'
        ' {urls = "turn:t.example.org", username = "u", credential = "p"}]\n',
    )

    servers = load_settings(path, environ={}).media.ice_servers

    assert servers == (
        IceServer(urls=("stun:stun.example.org:3478",)),
        IceServer(urls=("turn:t.example.org",), username="u", credential="p"),
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('["stun:x"]', "must be a list of tables"),
        ("[{urls = []}]", "needs urls"),
        ('[{urls = "http://x"}]', "is not a stun:"),
        ('[{urls = "stun:x", password = "p"}]', "unknown key 'password'"),
        ('[{urls = "turn:x", username = 1}]', "username must be a string"),
    ],
)
def test_bad_ice_servers_name_the_setting(tmp_path: Path, value: str, reason: str) -> None:
    path = write_config(tmp_path, f"[media]\nice_servers = {value}\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "media.ice_servers", reason)


def test_ice_servers_come_from_the_environment_as_toml() -> None:
    settings = load_settings(
        None, environ={"LIVECOMMERCE_MEDIA_ICE_SERVERS": '[{urls = "stun:s.example:3478"}]'}
    )

    assert settings.media.ice_servers == (IceServer(urls=("stun:s.example:3478",)),)


@pytest.mark.parametrize(
    ("key", "raw", "reason"),
    [
        ("public_ip", "example.org", "IPv4 address"),
        ("public_ip", "::1", "IPv4 address"),
        ("udp_ports", "50000", "50000-50999"),
        ("udp_ports", "50999-50000", "low <= high"),
        ("udp_ports", "80-90", "1024-65535"),
        ("udp_ports", "5e4-6e4", "50000-50999"),
    ],
)
def test_nat_settings_are_checked(key: str, raw: str, reason: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={f"LIVECOMMERCE_MEDIA_{key.upper()}": raw})

    assert_one_line_naming(error, f"media.{key}", reason)


def test_nat_settings_parse() -> None:
    settings = load_settings(
        None,
        environ={
            "LIVECOMMERCE_MEDIA_PUBLIC_IP": "203.0.113.7",
            "LIVECOMMERCE_MEDIA_UDP_PORTS": "50000-50999",
        },
    )

    assert settings.media.public_ip == "203.0.113.7"
    assert settings.media.udp_ports == PortRange(50000, 50999) == (50000, 50999)
    assert udp_port_range("50000-50999") == (50000, 50999)
    assert udp_port_range("") is None
    assert load_settings(None, environ={}).media.udp_ports is None


# Typed values: parsed once, here


def test_choice_settings_are_enums() -> None:
    settings = load_settings(
        None,
        environ={
            "LIVECOMMERCE_LOG_LEVEL": "debug",
            "LIVECOMMERCE_LOG_FORMAT": "json",
            "LIVECOMMERCE_STORE_EMBEDDED_APPENDFSYNC": "everysec",
            "LIVECOMMERCE_MEDIA_SESSION_REQUESTS": "redirect",
        },
    )

    assert settings.log.level is LogLevel.debug
    assert settings.log.format is LogFormat.json
    assert settings.store.embedded_appendfsync is AppendFsync.everysec
    assert settings.media.session_requests is SessionRequests.redirect
    assert Settings().log.level is LogLevel.info


@pytest.mark.parametrize(
    ("section", "key", "value", "choices"),
    [
        ("store", "embedded_appendfsync", "sometimes", "always, everysec, no"),
        ("media", "session_requests", "proxy", "forward, redirect"),
        ("log", "level", "loud", "debug, info, warning, error"),
        ("log", "format", "xml", "text, json"),
    ],
)
def test_a_bad_choice_lists_the_choices(section: str, key: str, value: str, choices: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings([("from test", {section: {key: value}})])

    assert str(error.value) == (
        f"{section}.{key}: must be one of {choices}, got {value!r} (from test)"
    )


def test_list_settings_are_tuples_so_the_frozen_settings_cannot_change() -> None:
    settings = build_settings([("from test", {"channel": {"blocked_terms": ["scam"]}})])

    assert settings.channel.blocked_terms == ("scam",)
    assert settings.server.frame_ancestors == ("'self'",)
    assert isinstance(settings.server.trusted_proxies, tuple)


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_YW5vdGhlciBzZWNyZXQ="


def test_endpoints_are_parsed_with_their_keys(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        f'[hooks]\nendpoints = [{{url = "https://a.example/h", secret = "{SECRET}"}},'
        f' {{url = "https://b.example/h", secrets = ["{OTHER_SECRET}", "{SECRET}"]}}]\n',
    )

    first, second = load_settings(path, environ={}).hooks.endpoints

    assert first == EndpointConfig("https://a.example/h", (SECRET,))
    assert first.keys == (base64.b64decode(SECRET.removeprefix("whsec_")),)
    assert second.secrets == (OTHER_SECRET, SECRET)
    assert second.keys == (b"another secret", first.keys[0])
    assert SECRET not in repr(first)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[{url = 1}]", "endpoint 1 needs an http:// or https:// url"),
        ('[{url = ["https://a.example"], secret = "S"}]', "endpoint 1 needs an http:// or"),
        ('[{url = "ftp://a.example", secret = "S"}]', "endpoint 1 needs an http:// or"),
        ('[{url = "https://a.example"}]', "endpoint 1 has a secret that is not a whsec_"),
        ('[{url = "https://a.example", secrets = []}]', "endpoint 1 needs a secret"),
        ('[{url = "https://a.example", secret = "whsec_===="}]', "endpoint 1 has a secret"),
        ('[{url = "https://a.example", secret = "whsec_YWI"}]', "endpoint 1 has a secret"),
        ('[{url = "https://a.example", secret = "whsec_not*base64!"}]', "endpoint 1 has a"),
        ('[{url = "https://a.example", secret = "S", colour = 1}]', "must be a table with url"),
        ('["https://a.example"]', "endpoint 1 must be a table with url and secret"),
        ('[{url = "https://a.example", secret = "S"}] * 2', "lists the same url twice"),
    ],
)
def test_bad_endpoints_name_the_setting(tmp_path: Path, value: str, reason: str) -> None:
    table, _, times = value.partition(" * ")
    listed = ", ".join([table.strip("[]")] * int(times or 1))
    path = write_config(tmp_path, f"[hooks]\nendpoints = [{listed.replace('S', SECRET)}]\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})

    assert_one_line_naming(error, "hooks.endpoints", reason, str(path))


def test_typed_settings_round_trip_through_settings_as_dict() -> None:
    settings = build_settings(
        [
            (
                "from test",
                {
                    "hooks": {"endpoints": [{"url": "https://a.example/h", "secret": SECRET}]},
                    "media": {
                        "ice_servers": [{"urls": "turn:t.example", "username": "u"}],
                        "udp_ports": "50000-50999",
                        "session_requests": "redirect",
                    },
                    "log": {"level": "error"},
                },
            )
        ]
    )

    plain = settings_as_dict(settings)

    assert plain["hooks"]["endpoints"] == [{"url": "https://a.example/h", "secrets": [SECRET]}]
    assert plain["media"]["ice_servers"] == [{"urls": ["turn:t.example"], "username": "u"}]
    assert plain["media"]["udp_ports"] == "50000-50999"
    assert plain["log"]["level"] == "error"
    assert type(plain["log"]["level"]) is str
    assert build_settings([("again", plain)]) == settings
    assert settings.replace("server", port=9000).hooks == settings.hooks


@pytest.mark.parametrize(
    ("section", "key", "value", "reason"),
    [
        ("server", "public_url", "http://[::1", "must be an http:// or https:// URL"),
        ("server", "connect_origins", ["https://[::1"], "must be a list of origins"),
        ("store", "url", "redis://[::1", "must be a redis://"),
        ("store", "url", "redis+cluster://[user@h:7000", "bad cluster URL"),
        (
            "hooks",
            "endpoints",
            [{"url": "http://[x", "secret": SECRET}],
            "endpoint 1 needs an http:// or https:// url",
        ),
    ],
)
def test_a_url_that_cannot_be_split_names_the_setting(
    section: str, key: str, value: Any, reason: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings([("from test", {section: {key: value}})])

    assert_one_line_naming(error, f"{section}.{key}: {reason}", "from test")
