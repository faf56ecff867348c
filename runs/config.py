"""Reading experiment and config files, with errors that say what is wrong and where.

Core Objects: load_toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from matryoshka.model.params import ConfigError


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file.

    Raises:
        ConfigError: The file is missing, unreadable or not valid TOML.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file '{path}' cannot be read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file '{path}' is not valid TOML: {err}") from None
