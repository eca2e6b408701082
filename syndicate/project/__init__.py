"""The project directory: its settings (syndicate.toml), schedules, the secret key, slot
arithmetic, and the starter that `syndicate init` writes.

A face (the CLI, the daemon, a worker, the web app) loads one Project at start and passes
it on; nothing below re-reads the files. The daemon's SIGHUP calls Project.reload().
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.project.schedules import Schedule, load_schedules, pick_digest
from syndicate.project.secret import create_secret_key, secret_key
from syndicate.project.settings import Config, load_config


@dataclass
class Project:
    """One project, loaded once: its validated settings; its schedules, read when first
    asked for; its secret key, read when first needed."""

    root: Path
    config: Config
    _schedules: dict[str, Schedule] | None = field(default=None, repr=False)
    _key: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, root: Path, env: dict[str, str] | None = None) -> Project:
        """Read and validate syndicate.toml (a ConfigError lists every problem)."""
        return cls(root, load_config(root, env))

    @property
    def schedules(self) -> dict[str, Schedule]:
        """schedules/*.toml by name, read and validated on first use."""
        if self._schedules is None:
            self.reload()
        return self._schedules  # type: ignore[return-value]

    def reload(self) -> dict[str, Schedule]:
        """Read schedules/ again (SIGHUP); a ConfigError leaves the old ones in place."""
        schedules = load_schedules(self.root)
        with self._lock:
            self._schedules = schedules
        return schedules

    @property
    def digests(self) -> dict[str, Schedule]:
        """The digest schedules by name, in file order."""
        return {name: s for name, s in self.schedules.items() if s.kind == "digest"}

    def schedule(self, name: str) -> Schedule | None:
        """The schedule of that name. One not known yet is looked for on disk once more (a
        file added since start, as a worker meets an edition of a new digest)."""
        found = self.schedules.get(name)
        if found is None and (self.root / "schedules" / f"{name}.toml").is_file():
            found = self.reload().get(name)
        return found

    def digest(self, name: str) -> Schedule:
        """The digest schedule of that name, or a ConfigError naming the ones there are."""
        self.schedule(name)  # a file added since start is read first
        return pick_digest(self.schedules, self.root, name)

    def make_secret(self) -> bool:
        """Make the project's key file if there is no key yet (see create_secret_key)."""
        return create_secret_key(self.root)

    @property
    def secret(self) -> str:
        """The key that signs every link: $SYNDICATE_SECRET_KEY, else the project's key
        file (see project/secret.py)."""
        if self._key is None:
            self._key = secret_key(self.root)
        return self._key
