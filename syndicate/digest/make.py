"""From a schedule to a rendered edition and its message template: what `digest preview`,
`send` and the daemon share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from syndicate.digest.edition import next_edition
from syndicate.digest.mime import (
    DkimKey,
    MessageTemplate,
    Sender,
    mailbox,
    mailbox_header,
    one_line,
)
from syndicate.digest.render import Rendered, Renderer, edition_context, site_context
from syndicate.errors import ConfigError
from syndicate.models import Edition, EditionState, Subscriber
from syndicate.project.archive import edition_path
from syndicate.project.schedules import Schedule
from syndicate.project.secret import secret_key
from syndicate.project.settings import Config
from syndicate.store import EditionStore
from syndicate.tokens import Tokens


@dataclass
class Made:
    """An edition with its one rendering and the template every message is composed from."""

    edition: Edition
    rendered: Rendered
    message: MessageTemplate


def sender_for(config: Config, schedule: Schedule) -> Sender:
    """The From/Reply-To of a digest: the schedule's, else [mail] sender, else the site's."""
    from_addr = schedule.sender or config.mail.sender
    if not from_addr:
        host = (urlsplit(config.site.url).hostname or "localhost").removeprefix("www.")
        if "." not in host or host.replace(".", "").isdigit():
            host = "localhost.localdomain"  # 127.0.0.1 is no mail domain
        from_addr = mailbox(config.site.name or host, f"news@{host}")
    return Sender(
        from_addr=from_addr,
        reply_to=schedule.reply_to,
        public_url=config.public_url,
        unsubscribe_mailto=config.mail.unsubscribe_mailto,
    )


def dkim_key(config: Config, sender: Sender) -> DkimKey | None:
    """The configured DKIM key, or None when signing is off."""
    key_file = config.mail.dkim_key_file
    if not key_file:
        return None
    path = config.project / key_file
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"mail.dkim_key_file {str(path)!r} cannot be read ({exc.strerror})",
            "point it at a PEM private key, or leave it empty to send unsigned",
        ) from exc
    selector = config.mail.dkim_selector
    if not selector:
        raise ConfigError("mail.dkim_selector is empty", "set the DNS selector of the key")
    return DkimKey(selector, config.mail.dkim_domain or sender.domain, key)


def _message_template(
    config: Config, schedule: Schedule, edition: Edition, subject: str, html: str, text: str
) -> MessageTemplate:
    """The template every message of a schedule's edition is composed from: its sender,
    DKIM key, signing key and list name around the edition's subject, HTML and text."""
    sender = sender_for(config, schedule)
    return MessageTemplate(
        subject,
        html,
        text,
        sender,
        schedule.name,
        Tokens(secret_key(config.project)),
        dkim=dkim_key(config, sender),
        list_name=schedule.title,
        # (schedule, slot) names the edition in every store: a copy sent again after a
        # crash gets the Message-ID of the first one.
        edition_key=f"{schedule.name}.{edition.slot.astimezone(UTC):%Y%m%dT%H%M%SZ}",
    )


def browser_link(config: Config, schedule: Schedule, edition: Edition) -> str:
    """The edition's page in the web archive ("View in browser"), or "" when there is
    none to link to: the digest is not public, or [web] public_url is unset (the
    default address, 127.0.0.1, reaches no subscriber). The slot and the schedule name
    the page, so the URL is known before the edition is stored."""
    if not (schedule.public and config.web.public_url):
        return ""
    return config.public_url + edition_path(schedule, edition.slot, config.site.tz)


def render_edition(
    config: Config, schedule: Schedule, edition: Edition, renderer: Renderer | None = None
) -> Made:
    """Render an edition once and prepare its message template."""
    renderer = renderer or Renderer(config.project)
    context = edition_context(config, schedule, edition, browser_link(config, schedule, edition))
    rendered = renderer.render(context, schedule.template, schedule.subject)
    message = _message_template(
        config, schedule, edition, rendered.subject, rendered.html, rendered.text
    )
    edition.subject, edition.html, edition.text = rendered.subject, rendered.html, rendered.text
    return Made(edition, rendered, message)


def preview(
    config: Config,
    store: EditionStore,
    schedule: Schedule,
    now: datetime,
    slot: datetime | None = None,
    *,
    again: bool = False,
) -> Made | None:
    """The next edition (of slot, default now) as it would be made now; None when nothing
    is new and the schedule skips empty editions. Nothing is stored."""
    edition = next_edition(store, schedule, slot or now, now, again=again)
    if not edition.stories and schedule.skip_if_empty:
        return None
    return render_edition(config, schedule, edition)


def create_edition(
    config: Config,
    store: EditionStore,
    schedule: Schedule,
    slot: datetime,
    now: datetime,
    recipients: Callable[[], list[Subscriber]] | None = None,
    *,
    again: bool = False,
) -> tuple[Made | None, bool]:
    """Make and store the edition of (schedule, slot), once: (made, True) when this call
    made it, (the existing one, False) when it existed, (None, False) when nothing is new.
    A new edition is stored with a ledger row for each of ``recipients()`` in the same
    transaction, or as a draft with none when the schedule asks for approval."""
    existing = store.edition(schedule.name, slot)
    if existing is not None:
        return remade(config, schedule, existing), False
    edition = next_edition(store, schedule, slot, now, again=again)
    if not edition.stories and schedule.skip_if_empty:
        return None, False
    edition.state = EditionState.DRAFT if schedule.approve else EditionState.READY
    made = render_edition(config, schedule, edition)
    wanted = recipients() if recipients is not None and edition.state.sendable else None
    stored, created = store.save_edition(made.edition, wanted)
    if not created:  # another process made it first: use theirs
        return remade(config, schedule, stored), False
    return made, True


def remade(config: Config, schedule: Schedule, edition: Edition) -> Made:
    """A stored edition's message template, from its stored HTML and text (not re-rendered):
    what a resumed send or a send worker composes from."""
    message = _message_template(
        config, schedule, edition, edition.subject, edition.html, edition.text
    )
    return Made(edition, Rendered(edition.subject, "", edition.html, edition.text), message)


def confirmation(config: Config, schedule: Schedule, sub: Subscriber, link: str) -> bytes:
    """The double opt-in mail asking sub to follow link (templates/email/confirm.*)."""
    context = {
        "digest": {"title": schedule.title, "name": schedule.name},
        "site": site_context(config),
        "subscriber": {"name": sub.name or "there"},
        "links": {"confirm": link},
    }
    html, text = Renderer(config.project).render_mail("confirm", context)
    sender = sender_for(config, schedule)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mailbox_header(sender.from_addr, "sender")
    if sender.reply_to:
        msg["Reply-To"] = mailbox_header(sender.reply_to, "reply-to")
    msg["To"] = formataddr((one_line(sub.name), sub.email), charset="utf-8")
    msg["Subject"] = one_line(f"Confirm your subscription to {schedule.title}")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def envelope_sender(sender: Sender) -> str:
    """The bare address mail from this sender is sent with (SMTP MAIL FROM)."""
    return sender.address


def write_preview(made: Made, out: Path, subscriber) -> None:
    """Write the preview file the extension asks for: .html, .txt, .mjml or .eml."""
    suffix = out.suffix.lower()
    if suffix == ".eml":
        data = made.message.compose(subscriber)
    elif suffix in (".html", ".htm"):
        data = made.message.personalize(subscriber)[0].encode("utf-8")
    elif suffix == ".txt":
        data = made.message.personalize(subscriber)[1].encode("utf-8")
    elif suffix == ".mjml":
        data = made.rendered.mjml.encode("utf-8")
    else:
        raise ConfigError(
            f"--out {out}: unknown kind {suffix or '(none)'}", "use .html, .eml, .txt or .mjml"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
