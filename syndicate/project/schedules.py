"""Schedules: schedules/*.toml, one per file (file stem = name): a gather, a feeds build,
or a digest. The daemon fires them; `digest preview` and `send` use the digest ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, TemplateSyntaxError

from syndicate.errors import ConfigError
from syndicate.project.settings import Setting, read_table, read_toml
from syndicate.project.timing import When, cron_problem, parse_span

ScheduleKind = Literal["gather", "feeds", "digest"]
KINDS: tuple[ScheduleKind, ...] = ("gather", "feeds", "digest")
_WHEN: dict[str, Setting] = {
    "kind": Setting(str, None, "gather, feeds or digest", True),
    "cron": Setting(str, "", "a crontab line, e.g. '0 7 * * *' (in timezone)"),
    "every": Setting(str, "", "an interval, e.g. '15m', '2h', '1d'"),
    "timezone": Setting(str, "", "zone of the cron times (default: [site] timezone)"),
}
_FEEDS_WHEN = {
    **_WHEN,
    "cron": Setting(str, "", "a crontab line; without cron or every: after each gather"),
    "every": Setting(str, "", "an interval, e.g. '30m'; without cron or every: after each gather"),
}
DIGEST_SETTINGS: dict[str, Setting] = {
    **_WHEN,
    "title": Setting(str, None, "the digest's name, shown at the top of every edition", True),
    "sections": Setting((str, list), "all", '"all", or a list of section slugs'),
    "max_stories": Setting(int, 12, "most stories in one edition", low=1, high=100),
    "subject": Setting(
        str, "{{ edition.title }}: {{ edition.lead.title }}", "Jinja template of the subject"
    ),
    "template": Setting(str, "digest", "templates/email/NAME.mjml.j2 and NAME.txt.j2"),
    "sender": Setting(str, "", "From address, e.g. 'Daily News <news@example.com>'"),
    "reply_to": Setting(str, "", "Reply-To address (default: none)"),
    "skip_if_empty": Setting(bool, True, "make no edition when nothing is new"),
    "lateness": Setting(
        str, "2h", "how late a missed edition may still go out (e.g. '2h'); older ones are skipped"
    ),
    "overflow": Setting(
        str,
        "carry",
        "stories beyond max_stories: 'carry' them to the next edition, or 'list' their "
        "headlines under More stories",
        choices=("carry", "list"),
    ),
    "carry_for": Setting(
        str, "7d", "how long an unsent story waits for an edition (e.g. '3d') before it ages out"
    ),
    "approve": Setting(bool, False, "make each scheduled edition a draft an editor approves"),
    "editors": Setting(list, [], "addresses that get a test copy of each draft"),
    "approve_by": Setting(
        str, "2h", "how long after its slot a draft waits for approval (e.g. '90m')"
    ),
    "unapproved": Setting(
        str,
        "skip",
        "what a draft not approved by approve_by does: 'send' anyway, or 'skip'",
        choices=("send", "skip"),
    ),
    "public": Setting(
        bool, True, "list its sent editions on the web app's /editions/ archive, with a feed"
    ),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Schedule:
    """One schedule file. Digest fields are empty for the other kinds."""

    name: str
    kind: ScheduleKind
    cron: str = ""
    every: str = ""
    timezone: str = ""
    title: str = ""
    sections: tuple[str, ...] | None = None
    max_stories: int = 12
    subject: str = ""
    template: str = "digest"
    sender: str = ""
    reply_to: str = ""
    skip_if_empty: bool = True
    lateness: str = "2h"
    overflow: Literal["carry", "list"] = "carry"
    carry_for: str = "7d"
    approve: bool = False
    editors: tuple[str, ...] = ()
    approve_by: str = "2h"
    unapproved: Literal["send", "skip"] = "skip"
    public: bool = True

    def when(self, default_tz: tzinfo) -> When | None:
        """When it fires (None: a feeds build that follows each gather)."""
        if self.cron:
            return When(cron=self.cron, tz=ZoneInfo(self.timezone) if self.timezone else default_tz)
        if self.every:
            return When(every=parse_span(self.every))
        return None

    @property
    def max_lateness(self) -> timedelta:
        """How late a digest slot may still be sent."""
        return timedelta(seconds=parse_span(self.lateness))

    @property
    def carry_span(self) -> timedelta:
        """How long an unsent story stays a candidate for the next editions."""
        return timedelta(seconds=parse_span(self.carry_for))

    @property
    def approval_span(self) -> timedelta:
        """How long after its slot a draft waits for an editor."""
        return timedelta(seconds=parse_span(self.approve_by))


def load_schedules(project: Path) -> dict[str, Schedule]:
    """Read and validate every schedules/*.toml; raise ConfigError listing every problem."""
    problems: list[str] = []
    found = {}
    for path in sorted((project / "schedules").glob("*.toml")):
        schedule = _load_one(path, problems)
        if schedule is not None:
            found[schedule.name] = schedule
    if problems:
        raise ConfigError(problems, "fix the schedule file(s) named above and run again")
    return found


def digest_schedule(project: Path, name: str) -> Schedule:
    """The digest schedule called name, read from schedules/ now (see pick_digest)."""
    return pick_digest(load_schedules(project), project, name)


def pick_digest(schedules: dict[str, Schedule], project: Path, name: str) -> Schedule:
    """The digest schedule called name among schedules, or a usage error naming the
    digests there are."""
    schedule = schedules.get(name)
    if schedule is None or schedule.kind != "digest":
        known = ", ".join(s.name for s in schedules.values() if s.kind == "digest") or "none"
        raise ConfigError(
            f"no digest schedule named {name!r} in {project / 'schedules'}",
            f"digests defined: {known}",
        )
    return schedule


def _load_one(path: Path, problems: list[str]) -> Schedule | None:
    where = str(path)
    if not _NAME.match(path.stem):
        problems.append(f"{where}: the file name is the schedule's name; use a-z, 0-9, '-', '_'")
        return None
    data = read_toml(path, problems)
    if data is None:
        return None
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(f"{where}: 'kind' is {kind!r}; use one of {', '.join(KINDS)}")
        return None
    settings = {"digest": DIGEST_SETTINGS, "feeds": _FEEDS_WHEN}.get(kind, _WHEN)
    before = len(problems)
    v: dict[str, Any] = read_table(where, data, settings, problems)
    if len(problems) == before:
        _check_when(where, kind, v, problems)
    if kind == "digest" and len(problems) == before:
        _check_digest(where, v, problems)
    if len(problems) > before:
        return None
    sections = v.get("sections", "all")
    fields = {k: v[k] for k in settings if k not in ("sections", "editors")}
    if "editors" in v:
        fields["editors"] = tuple(v["editors"])
    return Schedule(
        name=path.stem,
        **fields,
        sections=None if sections == "all" else tuple(sections),
    )


def _check_when(where: str, kind: str, v: dict[str, Any], problems: list[str]) -> None:
    if v["cron"] and v["every"]:
        problems.append(f"{where}: set 'cron' or 'every', not both")
    elif not v["cron"] and not v["every"] and kind != "feeds":
        problems.append(f"{where}: set 'cron' (e.g. \"0 7 * * *\") or 'every' (e.g. \"15m\")")
    if v["cron"] and (problem := cron_problem(v["cron"])):
        problems.append(f"{where}: 'cron' {problem}")
    if v["every"]:
        try:
            parse_span(v["every"])
        except ValueError as exc:
            problems.append(f"{where}: 'every' {exc}")
    if v["timezone"]:
        try:
            ZoneInfo(v["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"{where}: 'timezone' {v['timezone']!r} is not an IANA zone (e.g. Asia/Kolkata)"
            )
    if kind == "digest":
        for key in ("lateness", "carry_for", "approve_by"):
            try:
                parse_span(v[key])
            except ValueError as exc:
                problems.append(f"{where}: '{key}' {exc}")


def _check_digest(where: str, v: dict[str, Any], problems: list[str]) -> None:
    if isinstance(v["sections"], str) and v["sections"] != "all":
        problems.append(f"{where}: 'sections' is {v['sections']!r}; use \"all\" or a list")
    if not re.match(r"^[a-z0-9][a-z0-9_-]*$", v["template"]):
        problems.append(f"{where}: 'template' {v['template']!r} must be a plain name, e.g. digest")
    for address in v["editors"]:
        if not isinstance(address, str) or "@" not in address:
            problems.append(f"{where}: 'editors' has {address!r}; list email addresses")
    if v["approve"] and not v["editors"]:
        problems.append(
            f"{where}: 'approve' is true but 'editors' is empty; list who approves drafts"
        )
    try:
        Environment().parse(v["subject"])
    except TemplateSyntaxError as exc:
        problems.append(f"{where}: 'subject' is not a valid Jinja template ({exc.message})")
