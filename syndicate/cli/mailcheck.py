"""`syndicate mail check`: is the configured mail server (or Maildir) usable, step by step,
before an edition depends on it. Thin: the steps are the transport's (pipeline.check_mail).
cli/main.py adds the group to the root."""

from __future__ import annotations

import click

from syndicate import pipeline
from syndicate.cli.context import project_of
from syndicate.errors import ConfigError

# How each step's outcome is shown; a warning is said and passes.
_SHOWN = {"ok": "ok", "failed": "FAILED", "skipped": "skipped", "warning": "WARNING"}


@click.group()
def mail() -> None:
    """The mail transport ([mail] url)."""


@mail.command("check")
@click.option(
    "--to", "to", help="the test recipient for RCPT TO (default: postmaster@SENDER-DOMAIN)"
)
@click.pass_context
def mail_check(ctx: click.Context, to: str | None) -> None:
    """Connect to the [mail] url's server and try each step a send takes (EHLO, STARTTLS,
    AUTH, MAIL FROM / RCPT TO, then RSET and QUIT), one line each; nothing is sent. For a
    Maildir: whether it can be written. Exit 1 when a step fails."""
    from syndicate import people

    project = project_of(ctx)
    if to is not None:
        try:
            to = people.normalize_address(to)
        except ValueError as exc:
            raise ConfigError(f"--to {to!r} is not an email address: {exc}") from exc
    transport = pipeline.open_transport(project.config)
    click.echo(f"mail check: {transport.describe()}")
    failed = None
    for step in pipeline.check_mail(project, transport, to):
        click.echo(f"  {step.step:<10} {_SHOWN[step.state]:<8} {step.detail}")
        if step.state == "failed":
            failed = failed or step.step
    if failed:
        click.echo(f"mail check: FAILED at {failed}; nothing was sent")
        ctx.exit(1)
    click.echo("mail check: passed; nothing was sent")
