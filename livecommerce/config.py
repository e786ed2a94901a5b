"""Settings: code defaults → ``--config FILE`` → ``LIVECOMMERCE_<SECTION>_<KEY>`` → flags.

The result is one frozen :class:`Settings` of typed values: choices are enums, lists
are tuples, ICE servers and webhook endpoints are :class:`IceServer` and
:class:`EndpointConfig`, parsed here once so no caller parses them again. Every setting
is declared once, in its section (:mod:`livecommerce.config_sections`), with its type
and validation (checks and value types: :mod:`livecommerce.config_values`);
``config/default.toml`` documents the same defaults (a unit test keeps the two in step).
Unknown keys and bad values raise :class:`ConfigError` whose message is one line naming
the setting.

This module is a leaf: it imports nothing from the package but its sections and their values.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

# Re-exported: callers import the sections with the settings.
from livecommerce.config_sections import AnalyticsSettings as AnalyticsSettings
from livecommerce.config_sections import AuthSettings as AuthSettings
from livecommerce.config_sections import ChannelSettings as ChannelSettings
from livecommerce.config_sections import CommerceSettings as CommerceSettings
from livecommerce.config_sections import DiscoverySettings as DiscoverySettings
from livecommerce.config_sections import FormatsSettings as FormatsSettings
from livecommerce.config_sections import HooksSettings as HooksSettings
from livecommerce.config_sections import ImagesSettings as ImagesSettings
from livecommerce.config_sections import LogSettings as LogSettings
from livecommerce.config_sections import MediaSettings as MediaSettings
from livecommerce.config_sections import MetricsSettings as MetricsSettings
from livecommerce.config_sections import ModerationSettings as ModerationSettings
from livecommerce.config_sections import RecordingSettings as RecordingSettings
from livecommerce.config_sections import RoomsSettings as RoomsSettings
from livecommerce.config_sections import ServerSettings as ServerSettings
from livecommerce.config_sections import StoreSettings as StoreSettings

# Re-exported: callers import the value types and URL helpers with the settings.
from livecommerce.config_values import CLUSTER_SCHEMES as CLUSTER_SCHEMES
from livecommerce.config_values import AppendFsync as AppendFsync
from livecommerce.config_values import EndpointConfig as EndpointConfig
from livecommerce.config_values import IceServer as IceServer
from livecommerce.config_values import LogFormat as LogFormat
from livecommerce.config_values import LogLevel as LogLevel
from livecommerce.config_values import PortRange as PortRange
from livecommerce.config_values import SessionRequests as SessionRequests
from livecommerce.config_values import Validator, choice_check
from livecommerce.config_values import cluster_startup_nodes as cluster_startup_nodes
from livecommerce.config_values import is_cluster_url as is_cluster_url
from livecommerce.config_values import udp_port_range as udp_port_range

ENV_PREFIX = "LIVECOMMERCE_"
# Other programs share the prefix: the clients (LIVECOMMERCE_MOD_TOKEN,
# LIVECOMMERCE_ANCHOR_TOKEN, …) and the test suite (LIVECOMMERCE_TEST_STORE). Their
# variables are ignored because these words name no section, so none may ever be one.
ENV_WORDS_OF_OTHERS = frozenset({"mod", "anchor", "test"})


class ConfigError(ValueError):
    """A setting is unknown or has a bad value; ``str()`` is one line naming it."""


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    rooms: RoomsSettings = field(default_factory=RoomsSettings)
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    channel: ChannelSettings = field(default_factory=ChannelSettings)
    moderation: ModerationSettings = field(default_factory=ModerationSettings)
    commerce: CommerceSettings = field(default_factory=CommerceSettings)
    hooks: HooksSettings = field(default_factory=HooksSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    log: LogSettings = field(default_factory=LogSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    images: ImagesSettings = field(default_factory=ImagesSettings)
    formats: FormatsSettings = field(default_factory=FormatsSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)

    @property
    def public_url(self) -> str:
        """The URL other nodes and redirects use: configured, or derived from host and port."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = self.server.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.port}"

    def replace(self, section: str, **values: object) -> Settings:
        """A copy with some settings of one section changed (validated like any layer)."""
        current = settings_as_dict(self)
        return build_settings([("current", current), ("override", {section: values})])


Layer = tuple[str, Mapping[str, object]]


@dataclass(frozen=True)
class _Declared:
    """One setting as declared: its TOML type as read, and how it becomes its value."""

    read_as: type  # bool, int, float, str or list
    kind: object  # the declared type
    field: dataclasses.Field[Any]

    @property
    def check(self) -> Validator | None:
        check: Validator | None = self.field.metadata["check"]
        if check is None and self.choices is not None:
            return choice_check(self.choices)
        return check

    @property
    def choices(self) -> type[StrEnum] | None:
        """The enum of a choice setting."""
        kind = self.kind
        return kind if isinstance(kind, type) and issubclass(kind, StrEnum) else None

    def value(self, raw: object) -> object:
        """The typed value of a raw value of type ``read_as``; ValueError with the reason."""
        reason = self.check(raw) if self.check else None
        if reason:
            raise ValueError(reason)
        parse = self.field.metadata["parse"]
        if parse is not None:
            return parse(raw)
        if self.choices is not None and isinstance(raw, str):
            return self.choices(raw)
        if isinstance(raw, list):
            return tuple(raw)
        return raw


def _read_as(kind: object, declared: dataclasses.Field[Any]) -> type:
    """What TOML gives for a setting of type ``kind``: enums are strings, tuples lists."""
    read_as: type | None = declared.metadata["read_as"]
    if read_as is not None:
        return read_as
    if isinstance(kind, type) and issubclass(kind, StrEnum):  # a choice
        return str
    if typing.get_origin(kind) is tuple:
        return list
    if kind in (bool, int, float, str):
        return typing.cast(type, kind)
    raise TypeError(f"{declared.name}: declare read_as for a setting of type {kind}")


def _section_types() -> dict[str, dict[str, _Declared]]:
    result: dict[str, dict[str, _Declared]] = {}
    for section in dataclasses.fields(Settings):
        cls = typing.get_type_hints(Settings)[section.name]
        hints = typing.get_type_hints(cls)
        result[section.name] = {
            f.name: _Declared(_read_as(hints[f.name], f), hints[f.name], f)
            for f in dataclasses.fields(cls)
        }
    return result


_SCHEMA = _section_types()


def setting_names() -> list[str]:
    """Every setting as ``section.key``, in declaration order."""
    return [f"{s}.{k}" for s, keys in _SCHEMA.items() for k in keys]


def _type_name(kind: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, str(kind)
    )


def _coerce(name: str, kind: type, value: object, origin: str) -> object:
    """Check a value from a file/override against the declared type as read."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if kind is list and not isinstance(value, list):
        raise ConfigError(f"{name}: must be a list, got {value!r} ({origin})")
    return value


def _parse_env(name: str, kind: type, raw: str, origin: str) -> object:
    """Turn an environment string into the declared type as read."""
    text = raw.strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: must be true or false, got {raw!r} ({origin})")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name}: must be an integer, got {raw!r} ({origin})") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{name}: must be a number, got {raw!r} ({origin})") from None
    if kind is str:
        return raw
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: must be a TOML value, got {raw!r} ({origin}): {exc}") from None


def _shown(name: object) -> str:
    """A section or key name as it may appear in a one-line message."""
    text = str(name)
    return text if text.isprintable() and text.isascii() else repr(text)


def build_settings(layers: list[Layer]) -> Settings:
    """Apply layers of ``{section: {key: value}}`` over the defaults, in order."""
    merged: dict[str, dict[str, object]] = {s: {} for s in _SCHEMA}
    for origin, layer in layers:
        if not isinstance(layer, Mapping):
            raise ConfigError(f"configuration must be a table ({origin})")
        for section, values in layer.items():
            if section not in _SCHEMA:
                raise ConfigError(f"{_shown(section)}: unknown section ({origin})")
            if not isinstance(values, Mapping):
                raise ConfigError(f"{section}: must be a table ({origin})")
            for key, value in values.items():
                name = f"{section}.{_shown(key)}"
                if key not in _SCHEMA[section]:
                    raise ConfigError(f"{name}: unknown setting ({origin})")
                declared = _SCHEMA[section][key]
                value = _coerce(name, declared.read_as, value, origin)
                try:
                    merged[section][key] = declared.value(value)
                except ValueError as exc:
                    raise ConfigError(f"{name}: {exc}, got {value!r} ({origin})") from None
    sections = {
        section: typing.get_type_hints(Settings)[section](**values)
        for section, values in merged.items()
    }
    return Settings(**sections)


def _file_layer(path: Path) -> Layer:
    origin = f"from {path}"
    try:
        with path.open("rb") as handle:
            return origin, tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"--config: file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML: {exc}") from None


def _env_setting(variable: str) -> tuple[str, str] | None:
    """``(section, key)`` of a ``LIVECOMMERCE_<SECTION>_<KEY>`` variable, or None when
    it does not start with a known section (another program's variable)."""
    if not variable.startswith(ENV_PREFIX):
        return None
    rest = variable[len(ENV_PREFIX) :].lower()
    for section in sorted(_SCHEMA, key=len, reverse=True):
        if rest.startswith(f"{section}_"):
            return section, rest[len(section) + 1 :]
    return None


def _env_layers(environ: Mapping[str, str]) -> list[Layer]:
    """One layer per ``LIVECOMMERCE_<SECTION>_<KEY>`` variable; an unknown key of a known
    section is an error (a typo), a variable naming no section is not ours."""
    layers: list[Layer] = []
    for variable, raw in sorted(environ.items()):
        setting = _env_setting(variable)
        if setting is None:
            continue
        section, key = setting
        origin = f"from env {variable}"
        if key not in _SCHEMA[section]:
            raise ConfigError(f"{section}.{_shown(key)}: unknown setting ({origin})")
        value = _parse_env(f"{section}.{key}", _SCHEMA[section][key].read_as, raw, origin)
        layers.append((origin, {section: {key: value}}))
    return layers


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, object]] | None = None,
) -> Settings:
    """Build the settings from every layer; raises :class:`ConfigError` on the first problem."""
    layers: list[Layer] = []
    if config_file is not None:
        layers.append(_file_layer(Path(config_file)))
    layers.extend(_env_layers(os.environ if environ is None else environ))
    if flags:
        cleaned = {s: {k: v for k, v in kv.items() if v is not None} for s, kv in flags.items()}
        layers.append(("from command-line flags", cleaned))
    return build_settings(layers)


def settings_as_dict(settings: Settings) -> dict[str, dict[str, object]]:
    """Settings as plain TOML values ``{section: {key: value}}`` (for tests and overrides);
    :func:`build_settings` reads them back to equal settings."""
    return {
        section: {
            key: declared.field.metadata["dump"](getattr(getattr(settings, section), key))
            for key, declared in keys.items()
        }
        for section, keys in _SCHEMA.items()
    }
