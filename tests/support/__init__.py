"""Helpers the tests share: one clearly named builder per purpose (no test imports another
test module or conftest.py; pytest fixtures stay in conftest.py and use these).

- cli: the real `syndicate` command in a subprocess, and where the repository and the shared
  fixtures are.
- projects: site_project (a project that crawls a served fixture site), mail_project (a
  project with stories and active subscribers, mail to a test SMTP server), add_stories.
- pages: small article pages for the extractor's in-process tests.
- summary: tables shown at the end of the run.
"""
