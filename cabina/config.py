"""Loading settings from a TOML file and ``CABINA_*`` environment variables.

Precedence, strongest first: values given by the caller (command-line options), environment
variables, the TOML file, the defaults. A missing or malformed setting stops start-up with a
:class:`SettingsError` that names the setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

S = TypeVar("S", bound=BaseSettings)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


def _describe(exc: ValidationError, env_prefix: str) -> str:
    lines = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err["loc"]) or "(settings)"
        env = env_prefix + name.upper().replace(".", "__")
        lines.append(f"setting {name!r} (environment {env}): {err['msg']}")
    return "; ".join(lines)


def load_settings(
    settings_cls: type[S],
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> S:
    """Build ``settings_cls`` from ``overrides``, the environment and ``config_file``."""
    if config_file is not None:
        if not config_file.is_file():
            raise SettingsError(f"Expected a TOML settings file, but {config_file} does not exist")
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{config_file} is not valid TOML: {exc}") from exc

    class _FromFile(settings_cls):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    _FromFile.__name__ = settings_cls.__name__
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    try:
        return _FromFile(**{k: v for k, v in (overrides or {}).items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(_describe(exc, prefix)) from exc
