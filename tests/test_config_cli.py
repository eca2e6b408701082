"""Config validation, environment overrides, init, and the CLI's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_cli

from syndicate.errors import ConfigError
from syndicate.project.settings import load_config


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    run_cli(
        "init",
        str(project),
        "--site-url",
        "https://example-news.com/",
        "--timezone",
        "Asia/Kolkata",
        check=0,
    )
    return project


def test_init_writes_a_working_project(tmp_path):
    project = _project(tmp_path)
    for rel in (
        "syndicate.toml",
        "feeds/all.toml",
        "feeds/sections.toml",
        "schedules/daily.toml",
        "schedules/gather.toml",
        "templates/README.md",
        "templates/email/digest.mjml.j2",
        "templates/web/page.html",
        "templates/web/unsubscribe.html",
        "templates/web/preferences.html",
    ):
        assert (project / rel).is_file(), rel
    cfg = load_config(project, env={})
    assert cfg.site.url == "https://example-news.com/"
    assert cfg.site.timezone == "Asia/Kolkata"
    assert cfg.sources["site"].kind == "site" and cfg.sources["site"].concurrency == 4
    assert cfg.store_url == f"sqlite:///{(project / 'syndicate.db').resolve()}"
    assert 'timezone = "Asia/Kolkata"' in (project / "schedules/daily.toml").read_text()
    # init never overwrites a project
    again = run_cli("init", str(project), "--site-url", "https://x.com/")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_init_rejects_bad_arguments(tmp_path):
    proc = run_cli(
        "init", str(tmp_path / "x"), "--site-url", "example.com", "--timezone", "Mars/Olympus"
    )
    assert proc.returncode == 2
    assert "--site-url" in proc.stderr and "Mars/Olympus" in proc.stderr


def test_every_problem_reported_at_once_with_file_key_and_hint(tmp_path):
    project = _project(tmp_path)
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace('timezone = "Asia/Kolkata"', 'timezone = "Nowhere/City"')
    text = text.replace("concurrency = 4", 'concurency = 4\nretries = "many"')
    cfg.write_text(text + '\n[sources.blog]\nkind = "podcast"\n')
    proc = run_cli("stories", project=project)
    assert proc.returncode == 2
    err = proc.stderr
    assert str(cfg) in err
    assert "'site.timezone'" in err and "Nowhere/City" in err
    assert "did you mean 'sources.site.concurrency'" in err
    assert "'sources.site.retries' must be a whole number" in err
    assert "'sources.blog.kind' is 'podcast'" in err
    assert "hint:" in err


def test_broken_toml_names_the_line(tmp_path):
    project = _project(tmp_path)
    (project / "syndicate.toml").write_text("[site\nurl = 1\n")
    proc = run_cli("gather", project=project)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr and "line 1" in proc.stderr


def test_missing_project_is_a_usage_error(tmp_path):
    proc = run_cli("gather", project=tmp_path / "nowhere")
    assert proc.returncode == 2 and "syndicate init" in proc.stderr


def test_environment_overrides_the_file(tmp_path):
    project = _project(tmp_path)
    db = tmp_path / "other.db"
    cfg = load_config(
        project,
        env={
            "SYNDICATE_STORE__URL": f"sqlite:///{db}",
            "SYNDICATE_SITE__TIMEZONE": "Europe/London",
        },
    )
    assert cfg.store_url == f"sqlite:///{db}" and cfg.site.timezone == "Europe/London"
    with pytest.raises(ConfigError) as exc:
        load_config(project, env={"SYNDICATE_STORE__URLL": "x"})
    assert "SYNDICATE_STORE__URLL" in str(exc.value)
    proc = run_cli("stories", project=project, env={"SYNDICATE_STORE__URL": f"sqlite:///{db}"})
    assert proc.returncode == 0 and db.exists()


def test_unknown_source_is_a_usage_error(tmp_path):
    project = _project(tmp_path)
    proc = run_cli("gather", "--source", "nope", project=project)
    assert proc.returncode == 2 and "no source named 'nope'" in proc.stderr


def test_bad_since_is_a_usage_error(tmp_path):
    proc = run_cli("stories", "--since", "yesterday-ish", project=_project(tmp_path))
    assert proc.returncode == 2 and "--since" in proc.stderr


def test_unknown_command_exits_2():
    assert run_cli("frobnicate").returncode == 2


@pytest.mark.parametrize(
    "command",
    [
        ["stories"],
        ["status"],
        ["gather"],
        ["feeds", "build"],
        ["digest", "preview", "daily"],
        ["send", "daily"],
        ["subscribers", "list"],
        ["bounces", "process", "bounces"],
        ["mail", "check"],
        ["worker", "--once"],
        ["run", "--port", "0"],
        ["serve", "--port", "0"],
        ["db", "upgrade"],
    ],
)
def test_a_bad_mail_url_stops_every_command_at_start_up(tmp_path, command):
    """Before any work (no store is made, no edition): exit 2, the problem and the known
    schemes."""
    project = _project(tmp_path)
    env = {"SYNDICATE_MAIL__URL": "smtpx://mail.example.org", "SYNDICATE_SECRET_KEY": "k"}
    proc = run_cli(*command, project=project, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    error, hint = proc.stderr.splitlines()[-2:]
    assert error == (
        "error: environment SYNDICATE_MAIL__URL: 'mail.url' 'smtpx://mail.example.org' has an "
        "unknown scheme 'smtpx:'; known: maildir:, smtp:, smtps:"
    )
    assert hint.startswith("hint: ") and "smtps://host:465 or maildir:PATH" in hint
    assert not (project / "syndicate.db").exists()
