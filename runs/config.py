"""Reading experiment and config files, with errors that say what is wrong and where.

Core Objects: load_toml, MAX_BYTES.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

from matryoshka.model.params import ConfigError

MAX_BYTES = 4 * 2**20  # a config or experiment file is a few kilobytes; more is a wrong path


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file.

    Raises:
        ConfigError: The file is missing, not a regular file, larger than ``MAX_BYTES``,
            unreadable or not valid TOML.
    """
    path = Path(path)
    try:
        # checked before opening: opening a pipe would wait for a writer
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(f"config file '{path}' cannot be read: it is not a regular file "
                              "(a directory, device, pipe or socket): expected a TOML file")  # fmt: skip
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # bounded even where the size on disk says nothing (/proc)
        if len(data) > MAX_BYTES:
            raise ConfigError(f"config file '{path}' cannot be read: it is larger than "
                              f"{MAX_BYTES // 2**20} MB: expected a TOML file of a few kilobytes")
        return tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file '{path}' cannot be read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file '{path}' is not valid TOML: {err}") from None
