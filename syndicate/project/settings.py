"""Settings: one table of every key with its type, default and help; load, override, validate.

Every problem in a config is reported at once, each with the file, the key and a hint.
Environment variables override file values: ``SYNDICATE_<SECTION>__<KEY>``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError
from syndicate.project.mailurl import EXAMPLES, mail_url_problems, shown
from syndicate.urls import canonical_url, host_of

CONFIG_FILE = "syndicate.toml"
MEDIA_DIR = "public/media"


@dataclass(frozen=True)
class Setting:
    """One config key: its type, default and a line of help; the values it may take
    (choices), or the range a number must lie in (low and high inclusive, above: more
    than)."""

    type: type | tuple[type, ...]
    default: Any
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    above: float | None = None


SETTINGS: dict[str, dict[str, Setting]] = {
    "site": {
        "name": Setting(str, "", "the publication's name, shown in feeds and emails"),
        "url": Setting(
            str, None, "the news site's home page, e.g. https://example-news.com/", True
        ),
        "timezone": Setting(str, "UTC", "IANA zone used for dates written without an offset"),
        "language": Setting(str, "en", "the site's main language (BCP 47)"),
        "logo": Setting(str, "", "URL of the site's logo, shown by feed readers"),
        "icon": Setting(str, "", "URL of the site's square icon (favicon), for feed readers"),
        "postal_address": Setting(
            str,
            "",
            "the publisher's postal address, shown in every email's footer (CAN-SPAM asks "
            "commercial mail for one; `mail check` warns while it is empty)",
        ),
    },
    "store": {
        "url": Setting(
            str,
            "sqlite:///syndicate.db",
            "SQLAlchemy URL; relative SQLite paths are relative to the project",
        ),
    },
    "mail": {
        "url": Setting(str, "maildir:public/outbox", "smtp://…, smtps://… or maildir:PATH"),
        "sender": Setting(
            str, "", "default From of digests, e.g. 'News <news@example.com>' (a schedule wins)"
        ),
        "unsubscribe_mailto": Setting(
            str, "", "address for List-Unsubscribe mailto (default unsubscribe@SENDER-DOMAIN)"
        ),
        "dkim_selector": Setting(str, "", "DKIM selector; signing is on when a key file is set"),
        "dkim_domain": Setting(str, "", "DKIM d= domain (default: the sender's domain)"),
        "dkim_key_file": Setting(str, "", "PEM private key for DKIM, relative to the project"),
        "max_attempts": Setting(
            int, 8, "tries of a message before a temporary failure is final", low=1
        ),
        "retry_base": Setting(
            (int, float), 60, "seconds before the first retry, then doubled", above=0
        ),
        "retry_max_age_hours": Setting((int, float), 48, "hours after which retries stop", above=0),
        "send_wait": Setting(
            (int, float), 120, "seconds one `send` waits for deferred messages coming due", low=0
        ),
        "pause_after": Setting(int, 20, "consecutive failures after which a send pauses", low=1),
        "batch": Setting(int, 100, "messages a sender claims from the ledger at a time", above=0),
        "claim_lease": Setting(
            (int, float),
            600,
            "seconds a dead sender's claimed batch waits before another machine takes it "
            "over (on the same machine: at once); live senders renew theirs",
            above=0,
        ),
    },
    "web": {
        "host": Setting(str, "127.0.0.1", "address the web app listens on"),
        "port": Setting(int, 8080, "port the web app listens on", low=0, high=65535),
        "public_url": Setting(
            str, "", "the base of every link in emails and feeds (default http://HOST:PORT)"
        ),
    },
    "daemon": {
        "workers": Setting(int, 4, "threads running jobs at once (gathers, builds, sends)", low=1),
        "shutdown_grace": Setting(
            (int, float), 10, "seconds a stopping daemon waits for running jobs to finish", low=0
        ),
        "log_format": Setting(
            str,
            "auto",
            "json, text, or auto (text on a terminal, else json)",
            choices=("auto", "json", "text"),
        ),
        "send": Setting(
            bool, True, "send the editions it makes; false leaves sending to `syndicate worker`"
        ),
    },
    "worker": {
        "poll": Setting(
            (int, float),
            2,
            "seconds an idle `syndicate worker` waits before looking again",
            above=0,
        ),
    },
    "feeds": {
        "out": Setting(str, "public/feeds", "where `feeds build` writes, relative to the project"),
        "hub": Setting(str, "", "a WebSub hub URL: advertised in feeds and pinged on change"),
        "probe_images": Setting(
            bool, True, "ask image servers for size and type (RSS enclosures need a length)"
        ),
    },
}

SOURCE_KINDS = ("site", "feed")

SOURCE_SETTINGS: dict[str, Setting] = {
    "kind": Setting(
        str, "site", "what to read: 'site' (crawl) or 'feed' (RSS/Atom)", choices=SOURCE_KINDS
    ),
    "url": Setting(
        str, None, "start URL: the site's home page or the feed's URL (default: [site] url)"
    ),
    "max_pages": Setting(int, 10, "listing pages followed per section, pagination included", low=0),
    "concurrency": Setting(int, 4, "requests at a time per host", low=1),
    "delay": Setting(
        (int, float),
        0.0,
        "seconds between requests to one host (robots.txt Crawl-delay wins when larger)",
    ),
    "timeout": Setting((int, float), 10.0, "seconds one request may take in all"),
    "retries": Setting(int, 3, "extra tries after a 5xx answer or a time-out", low=0),
    "max_bytes": Setting(int, 10_000_000, "largest response read; larger ones are skipped", low=1),
    "max_redirects": Setting(int, 5, "redirects followed for one URL"),
    "follow_depth": Setting(
        int, 1, "how far ALSO READ targets are followed when not listed", low=0
    ),
    "max_age_days": Setting(int, 0, "skip stories older than this many days (0: no cutoff)"),
    "allow_private": Setting(
        bool,
        False,
        "allow loopback and private addresses on other hosts than [site] url's, which is "
        "always allowed (tests, intranets)",
    ),
    "allowed_hosts": Setting(list, [], "other hosts whose pages count as the site's own"),
    "recheck": Setting(
        str,
        "all",
        "known stories re-checked each gather: 'all' (conditional GET of each) or 'sitemap' "
        "(only those whose sitemap lastmod is newer than our copy)",
        choices=("all", "sitemap"),
    ),
    "respect_robots": Setting(bool, True, "obey robots.txt rules and Crawl-delay"),
    "iframe_hosts": Setting(
        list, [], "hosts whose iframes survive sanitizing, e.g. www.youtube.com"
    ),
    "user_agent": Setting(
        str,
        "syndicate/0.1 (+https://pypi.org/project/syndicate/)",
        "User-Agent header sent with every request",
    ),
}


@dataclass(frozen=True)
class SourceConfig:
    """Validated settings of one source from ``[sources.NAME]``."""

    name: str
    kind: str
    url: str
    max_pages: int
    concurrency: int
    delay: float
    timeout: float
    retries: int
    max_bytes: int
    max_redirects: int
    follow_depth: int
    max_age_days: int
    allow_private: bool
    allowed_hosts: list[str]
    recheck: str
    respect_robots: bool
    iframe_hosts: list[str]
    user_agent: str


# The sections of syndicate.toml as typed, frozen objects. Their fields carry no defaults:
# each default is written once, in SETTINGS, and a test checks that the fields and the
# table's keys are the same.


@dataclass(frozen=True)
class SiteConfig:
    """The ``[site]`` table."""

    name: str
    url: str
    timezone: str
    language: str
    logo: str
    icon: str
    postal_address: str

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class StoreSettings:
    """The ``[store]`` table (url as written; Config.store_url is the resolved one)."""

    url: str


@dataclass(frozen=True)
class MailSettings:
    """The ``[mail]`` table: the transport, the sender, DKIM, retries and claiming."""

    url: str
    sender: str
    unsubscribe_mailto: str
    dkim_selector: str
    dkim_domain: str
    dkim_key_file: str
    max_attempts: int
    retry_base: float
    retry_max_age_hours: float
    send_wait: float
    pause_after: int
    batch: int
    claim_lease: float


@dataclass(frozen=True)
class WebSettings:
    """The ``[web]`` table."""

    host: str
    port: int
    public_url: str


@dataclass(frozen=True)
class DaemonSettings:
    """The ``[daemon]`` table."""

    workers: int
    shutdown_grace: float
    log_format: str
    send: bool


@dataclass(frozen=True)
class WorkerSettings:
    """The ``[worker]`` table."""

    poll: float


@dataclass(frozen=True)
class FeedsSettings:
    """The ``[feeds]`` table."""

    out: str
    hub: str
    probe_images: bool


SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "store": StoreSettings,
    "mail": MailSettings,
    "web": WebSettings,
    "daemon": DaemonSettings,
    "worker": WorkerSettings,
    "feeds": FeedsSettings,
}


@dataclass
class Config:
    """A whole project's validated settings."""

    project: Path
    site: SiteConfig
    store_url: str
    mail: MailSettings
    web: WebSettings
    daemon: DaemonSettings
    worker: WorkerSettings
    feeds: FeedsSettings
    sources: dict[str, SourceConfig] = field(default_factory=dict)

    @property
    def mail_url(self) -> str:
        """Where mail goes: smtp://…, smtps://… or maildir:PATH ([mail] url)."""
        return self.mail.url

    @property
    def publication(self) -> str:
        """The publication's name, as feed titles and emails show it: [site] name, else the
        site's host (without its www.)."""
        host = (urlsplit(self.site.url).hostname or "").removeprefix("www.")
        return self.site.name or host or self.site.url

    @property
    def public_url(self) -> str:
        """Where the web app is reached from outside, without a trailing slash."""
        url = self.web.public_url or f"http://{self.web.host}:{self.web.port}"
        return url.rstrip("/")

    @property
    def feeds_out(self) -> Path:
        """The directory `feeds build` writes to."""
        return self.project / self.feeds.out

    @property
    def media_dir(self) -> Path:
        """Where the project keeps copies of images its emails show (the web app serves
        them at /media/): the demo keeps its sample site's lead images there."""
        return self.project / MEDIA_DIR


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
    }
    if isinstance(t, tuple):
        return " or ".join(names.get(x, x.__name__) for x in t)
    return names.get(t, t.__name__)


def check_value(where: str, key: str, value: Any, setting: Setting) -> str | None:
    """The problem with one value (its type, choices or range), or None."""
    if isinstance(value, bool) and setting.type is not bool:
        return f"{where}: '{key}' must be {_type_name(setting.type)}, not {value!r}"
    if not isinstance(value, setting.type):
        return f"{where}: '{key}' must be {_type_name(setting.type)}, not {value!r}"
    if setting.choices and value not in setting.choices:
        return f"{where}: '{key}' is {value!r}; use one of {', '.join(setting.choices)}"
    if isinstance(value, int | float):
        low, high, above = setting.low, setting.high, setting.above
        if low is not None and high is not None and not low <= value <= high:
            return f"{where}: '{key}' must be between {low:g} and {high:g}, not {value}"
        if low is not None and high is None and value < low:
            return f"{where}: '{key}' must be {low:g} or more, not {value}"
        if above is not None and value <= above:
            return f"{where}: '{key}' must be more than {above:g}, not {value}"
    return None


def unknown_key(where: str, key: str, known: list[str]) -> str:
    """The line for a key no table knows, with the nearest known key as a hint."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
    return f"{where}: unknown key '{key}'{hint}"


def read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """A TOML file's tables, or None with a problem line when it cannot be read as TOML
    (schedules/*.toml and feeds/*.toml: one bad file is reported with the others)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return None


def read_table(
    where: str,
    table: dict[str, Any],
    settings: dict[str, Setting],
    problems: list[str],
    prefix: str = "",
) -> dict[str, Any]:
    """Check one table against its settings and return every key's value, the default
    where the table has none. Each problem (an unknown key, a wrong type, a value out of
    its choices or range, a required key missing) is added to problems as one line naming
    the file (where) and the key (prefix + key); every table of a project (syndicate.toml,
    its [sources.*], schedules/*.toml, feeds/*.toml) is read by this one function."""
    for key, value in table.items():
        if key not in settings:
            problems.append(unknown_key(where, prefix + key, [prefix + k for k in settings]))
            continue
        if err := check_value(where, prefix + key, value, settings[key]):
            problems.append(err)
    values = {key: table.get(key, setting.default) for key, setting in settings.items()}
    for key, setting in settings.items():
        if setting.required and values[key] in (None, ""):
            problems.append(f"{where}: '{prefix}{key}' is required ({setting.help})")
    return values


def _coerce_env(raw: str, setting: Setting) -> Any:
    t = setting.type if not isinstance(setting.type, tuple) else setting.type[-1]
    if t is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if t is list:
        return [x.strip() for x in raw.split(",") if x.strip()]
    try:
        return t(raw)
    except ValueError:
        return raw


def _env_overrides(data: dict[str, Any], env: dict[str, str]) -> list[str]:
    """Apply SYNDICATE_SECTION__KEY variables; unknown ones are reported, not ignored."""
    problems = []
    for name, raw in env.items():
        if not name.startswith("SYNDICATE_") or "__" not in name:
            continue
        section, _, key = name[len("SYNDICATE_") :].lower().partition("__")
        if section not in SETTINGS or key not in SETTINGS[section]:
            problems.append(f"environment: unknown setting {name}")
            continue
        data.setdefault(section, {})[key] = _coerce_env(raw, SETTINGS[section][key])
    return problems


def load_config(project: Path, env: dict[str, str] | None = None) -> Config:
    """Read, override and validate ``syndicate.toml``; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    path = project / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path}: no {CONFIG_FILE} here",
            "run 'syndicate init DIR' to create a project, or pass --project DIR",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", "fix the syntax at that line") from exc
    problems = _env_overrides(data, env)
    where = str(path)
    for section, table in data.items():
        if section == "sources":
            continue
        if section not in SETTINGS:
            problems.append(
                unknown_key(where, section, [*SETTINGS, "sources"]).replace("key", "table")
            )
        elif not isinstance(table, dict):
            problems.append(f"{where}: '{section}' must be a table ([{section}])")
    values = {
        section: read_table(
            where,
            data[section] if isinstance(data.get(section), dict) else {},
            settings,
            problems,
            f"{section}.",
        )
        for section, settings in SETTINGS.items()
    }
    site = values["site"]
    if isinstance(site.get("url"), str) and not _web_url(site["url"]):
        problems.append(
            f"{where}: 'site.url' must be an http:// or https:// address, not {site['url']!r}"
        )
    try:
        if isinstance(site["timezone"], str):
            ZoneInfo(site["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"{where}: 'site.timezone' {site['timezone']!r} is not an IANA time zone "
            "(e.g. 'Asia/Kolkata', 'UTC')"
        )
    sources = _load_sources(where, data.get("sources"), site.get("url"), problems)
    mail_problems = _mail_url_problems(where, values["mail"]["url"], env)
    problems += mail_problems
    if problems:
        hint = f"fix {path.name} (or the environment) and run again"
        if mail_problems:
            hint += f"; mail.url is {EXAMPLES}"
        raise ConfigError(problems, hint)
    sections = {name: cls(**values[name]) for name, cls in SECTIONS.items()}
    return Config(
        project=project,
        store_url=_resolve_store_url(values["store"]["url"], project),
        sources=sources,
        **{k: v for k, v in sections.items() if k != "store"},
    )


def _mail_url_problems(where: str, url: Any, env: dict[str, str]) -> list[str]:
    """What is wrong with [mail] url (its scheme, host, port, options), checked here so
    that every command refuses a bad one at start-up, not a send after the edition is made.
    A value from the environment is named as such (the file is not where to fix it)."""
    if not isinstance(url, str):
        return []  # read_table said so already
    if any(name.upper() == "SYNDICATE_MAIL__URL" for name in env):
        where = "environment SYNDICATE_MAIL__URL"
    return [f"{where}: 'mail.url' {shown(url)!r} {p}" for p in mail_url_problems(url)]


def _load_sources(
    where: str, table: Any, site_url: str | None, problems: list[str]
) -> dict[str, SourceConfig]:
    if table is None:
        table = {"site": {"kind": "site"}}
    if not isinstance(table, dict):
        problems.append(f"{where}: 'sources' must be a table of [sources.NAME] tables")
        return {}
    out = {}
    for name, raw in table.items():
        if not isinstance(raw, dict):
            problems.append(f"{where}: 'sources.{name}' must be a table")
            continue
        vals = read_table(where, raw, SOURCE_SETTINGS, problems, f"sources.{name}.")
        vals["url"] = vals["url"] or site_url
        if not vals["url"]:
            problems.append(f"{where}: 'sources.{name}.url' is needed (or set [site] url)")
        elif isinstance(vals["url"], str) and not _web_url(vals["url"]):
            problems.append(
                f"{where}: 'sources.{name}.url' must be an http:// or https:// address, "
                f"not {vals['url']!r}"
            )
        out[name] = SourceConfig(name=name, **vals)
    return out


def _web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host that urllib can take apart."""
    canon = canonical_url(url)
    return bool(canon and canon.startswith(("http://", "https://")) and host_of(canon))


def _resolve_store_url(url: str, project: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((project / url[len(prefix) :]).resolve())
    return url
