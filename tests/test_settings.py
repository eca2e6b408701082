"""The settings layer, in process: one table of keys, typed sections built from it, every
problem of every table reported at once by the one reader."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from syndicate.errors import ConfigError
from syndicate.project.settings import (
    SECTIONS,
    SETTINGS,
    SOURCE_SETTINGS,
    SourceConfig,
    load_config,
)
from syndicate.project.starter import init_project

pytestmark = pytest.mark.fast


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "proj"
    init_project(directory, "https://news.example.com/", "UTC", "Harbour News")
    return directory


@pytest.mark.parametrize("section", sorted(SETTINGS))
def test_each_section_has_exactly_the_tables_keys_and_no_second_default(section):
    """A default lives in SETTINGS only: the typed section has a field for each key and
    none of its own defaults (a second copy that could drift)."""
    fields = dataclasses.fields(SECTIONS[section])
    assert [f.name for f in fields] == list(SETTINGS[section])
    assert all(f.default is dataclasses.MISSING for f in fields)


def test_source_settings_match_the_source_config():
    names = [f.name for f in dataclasses.fields(SourceConfig)]
    assert names == ["name", *SOURCE_SETTINGS]


def test_defaults_come_from_the_table(project):
    config = load_config(project, env={})
    assert config.mail.batch == SETTINGS["mail"]["batch"].default
    assert config.daemon.send is True and config.worker.poll == 2
    assert config.web.port == 8080 and config.feeds_out == project / "public" / "feeds"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.mail.batch = 5  # type: ignore[misc]


def test_every_choice_and_range_problem_is_reported_at_once(project):
    cfg = project / "syndicate.toml"
    cfg.write_text(
        '[site]\nurl = "https://news.example.com/"\n'
        "[web]\nport = 99999\n"
        "[mail]\nretry_base = -1\nbatch = 0\n"
        "[daemon]\nworkers = 0\nlog_format = 'xml'\n"
        "[sources.extra]\nkind = 'podcast'\nconcurrency = 0\nrecheck = 'never'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    lines = caught.value.problems
    where = str(cfg)
    assert f"{where}: 'web.port' must be between 0 and 65535, not 99999" in lines
    assert f"{where}: 'mail.retry_base' must be more than 0, not -1" in lines
    assert f"{where}: 'mail.batch' must be more than 0, not 0" in lines
    assert f"{where}: 'daemon.workers' must be 1 or more, not 0" in lines
    assert f"{where}: 'daemon.log_format' is 'xml'; use one of auto, json, text" in lines
    assert f"{where}: 'sources.extra.kind' is 'podcast'; use one of site, feed" in lines
    assert f"{where}: 'sources.extra.concurrency' must be 1 or more, not 0" in lines
    assert f"{where}: 'sources.extra.recheck' is 'never'; use one of all, sitemap" in lines
    assert len(lines) == 8


def test_the_environment_is_checked_by_the_same_rules(project):
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={"SYNDICATE_MAIL__MAX_ATTEMPTS": "0"})
    assert any(
        "'mail.max_attempts' must be 1 or more, not 0" in line for line in caught.value.problems
    )


def test_schedules_and_feed_specs_are_read_by_the_same_reader(project):
    from syndicate.feeds.spec import load_feed_specs
    from syndicate.project.schedules import load_schedules

    (project / "schedules" / "daily.toml").write_text(
        'kind = "digest"\ncron = "0 7 * * *"\ntitle = "Daily"\nmax_stories = 500\nsubjct = "x"\n'
    )
    (project / "feeds" / "all.toml").write_text('title = "All"\nentries = 0\ncontent = "teaser"\n')
    with pytest.raises(ConfigError) as caught:
        load_schedules(project)
    text = "\n".join(caught.value.problems)
    assert "'max_stories' must be between 1 and 100, not 500" in text
    assert "unknown key 'subjct' (did you mean 'subject'?)" in text
    with pytest.raises(ConfigError) as caught:
        load_feed_specs(project)
    text = "\n".join(caught.value.problems)
    assert "'entries' must be between 1 and 1000, not 0" in text
    assert "'content' is 'teaser'; use one of full, summary" in text


def test_reading_the_secret_key_never_makes_one_and_init_makes_it_by_name(tmp_path, monkeypatch):
    from syndicate.project import Project
    from syndicate.project.secret import KEY_FILE, create_secret_key, secret_key

    monkeypatch.delenv("SYNDICATE_SECRET_KEY", raising=False)
    directory = tmp_path / "proj"
    init_project(directory, "https://news.example.com/", "UTC", "Harbour News")
    key_file = directory / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600  # init made it, owner-only
    made = key_file.read_text().strip()
    assert Project.load(directory, env={}).secret == made
    key_file.unlink()
    with pytest.raises(ConfigError) as caught:
        secret_key(directory)
    assert "SYNDICATE_SECRET_KEY is not set" in caught.value.problems[0]
    assert not key_file.exists()  # asking did not make one
    assert create_secret_key(directory) and not create_secret_key(directory)
    assert secret_key(directory) == key_file.read_text().strip() != made
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "from-the-environment")
    assert secret_key(directory) == "from-the-environment"


def test_a_project_loads_its_schedules_once_and_finds_a_new_one_on_demand(project):
    from syndicate.project import Project

    loaded = Project.load(project, env={})
    assert list(loaded.digests) == ["daily"]
    (project / "schedules" / "weekly.toml").write_text(
        'kind = "digest"\ncron = "0 7 * * 1"\ntitle = "Weekly"\n'
    )
    assert list(loaded.digests) == ["daily"]  # not re-read behind the caller's back
    assert loaded.digest("weekly").title == "Weekly"  # asked for by name: looked for once more
    with pytest.raises(ConfigError) as caught:
        loaded.digest("monthly")
    assert caught.value.hint == "digests defined: daily, weekly"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smtpx://mail.example.org", "has an unknown scheme 'smtpx:'; known: maildir:, smtp:"),
        ("mail.example.org:25", "has an unknown scheme 'mail.example.org:'"),
        ("127.0.0.1:25", "has no scheme; known: maildir:, smtp:, smtps:"),
        ("smtp://", "has no host"),
        ("smtp://:587", "has no host"),
        ("smtp://mail.example.org:smtp", "port 'smtp' is not a number from 1 to 65535"),
        ("smtps://mail.example.org:99999", "port '99999' is not a number from 1 to 65535"),
        ("smtp://mail.example.org:0", "port 0 is not a port"),
        ("smtp://mail.example.org?poool=2", "unknown option 'poool' (known: pool, rate, timeout)"),
        ("smtp://mail.example.org?pool=0", "option pool='0' must be a whole number, 1 or more"),
        ("smtp://mail.example.org?rate=fast", "option rate='fast' must be a number, 0 or more"),
        ("smtp://mail.example.org?timeout=0", "option timeout='0' must be a number, more than 0"),
        ("maildir:", "names no directory"),
        ("", "is empty"),
    ],
)
def test_a_bad_mail_url_stops_loading_with_a_line_and_the_known_schemes(project, url, says):
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={"SYNDICATE_MAIL__URL": url})
    [line] = caught.value.problems
    assert line.startswith(f"environment SYNDICATE_MAIL__URL: 'mail.url' {url!r} ")
    assert says in line
    assert "smtp://user:pass@host:587, smtps://host:465 or maildir:PATH" in caught.value.hint


def test_the_file_is_named_for_a_mail_url_written_there_and_a_password_never_shown(project):
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace(
        'url = "maildir:public/outbox"', 'url = "smtp://ann:s3cret@mail.example.org:5x7"'
    )
    cfg.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={})
    [line] = caught.value.problems
    assert line == (
        f"{cfg}: 'mail.url' 'smtp://ann:***@mail.example.org:5x7' port '5x7' is not a number "
        "from 1 to 65535"
    )


@pytest.mark.parametrize(
    "url",
    [
        "maildir:public/outbox",
        "maildir:/var/mail/outbox",
        "smtp://127.0.0.1:2525?pool=2&rate=20&timeout=5",
        "smtp://user%40example.org:p%40ss@mail.example.org",
        "smtps://mail.example.org:465",
    ],
)
def test_good_mail_urls_load(project, url):
    assert load_config(project, env={"SYNDICATE_MAIL__URL": url}).mail_url == url


def test_a_transport_registered_later_is_a_known_scheme(project, monkeypatch):
    from syndicate import deliver
    from syndicate.project import mailurl

    monkeypatch.setattr(deliver, "TRANSPORTS", dict(deliver.TRANSPORTS))
    monkeypatch.setattr(mailurl, "MAIL_SCHEMES", dict(mailurl.MAIL_SCHEMES))
    with pytest.raises(ConfigError):
        load_config(project, env={"SYNDICATE_MAIL__URL": "pigeon://loft"})

    @deliver.register_transport(
        "pigeon", check_url=lambda url: [] if url.endswith("loft") else ["names no loft"]
    )
    def pigeon(url, project):  # pragma: no cover - never opened here
        raise AssertionError

    assert load_config(project, env={"SYNDICATE_MAIL__URL": "pigeon://loft"})
    with pytest.raises(ConfigError) as caught:
        load_config(project, env={"SYNDICATE_MAIL__URL": "pigeon://roof"})
    assert caught.value.problems[0].endswith("'pigeon://roof' names no loft")


def test_the_postal_address_is_a_site_setting(project):
    assert load_config(project, env={}).site.postal_address == ""
    config = load_config(project, env={"SYNDICATE_SITE__POSTAL_ADDRESS": "1 Quay St, Harbour"})
    assert config.site.postal_address == "1 Quay St, Harbour"
