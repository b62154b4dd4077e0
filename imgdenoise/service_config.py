"""What the web service offers and its limits, in one place: :class:`ServiceConfig`.

Its defaults are the service's, the ``imgdenoise serve`` options' and the ``IMGDENOISE_*`` environment
variables' (how ``serve`` passes the configuration to its worker processes). Standard library only, so
the command line can show the defaults without importing the web stack.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

ENV_PREFIX = "IMGDENOISE_"


@dataclass
class ServiceConfig:
    """What a service offers and its limits. ``models``: shipped model names (the first is the default)."""

    models: list[str] = field(default_factory=lambda: ["default"])
    max_upload_bytes: int = 64 << 20
    max_pixels: int = 64_000_000
    max_work: float = 64.0  # megapixel-passes one request may take (pixels x network passes of its quality)
    max_seconds: float = 300.0  # denoising time one request may take; checked between bands of rows (503)
    threads: int = 1  # images denoised at the same time by this process
    queue: int = 8  # requests that may wait for a free thread; more get 503 + Retry-After
    queue_timeout: float = 60.0  # seconds a request may wait for a thread before 503
    runtime: str = "auto"
    cors_origins: list[str] = field(default_factory=list)  # none: browsers on other sites cannot call us
    warm_up: bool = True  # load and run every model once at start-up; /healthz answers 503 until done

    @classmethod
    def from_env(cls, env=None) -> ServiceConfig:
        """The configuration ``IMGDENOISE_<FIELD>`` variables give (``env``: default ``os.environ``); a field
        without one keeps its default. Lists are comma-separated, booleans ``1``/``0``."""
        env = os.environ if env is None else env
        defaults = cls()
        values = {}
        for f in dataclasses.fields(cls):
            text = env.get(ENV_PREFIX + f.name.upper())
            if text is not None:
                values[f.name] = _parse(text, getattr(defaults, f.name))
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The variables :meth:`from_env` reads back into this configuration."""
        return {ENV_PREFIX + f.name.upper(): _format(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _parse(text: str, like):
    """``text`` as a value of the type of ``like`` (a field's default)."""
    if isinstance(like, bool):
        return text != "0"
    if isinstance(like, list):
        return [item for item in text.split(",") if item]
    return type(like)(text)


def _format(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)
