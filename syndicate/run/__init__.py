"""The long-running faces: the daemon (APScheduler and the web app), what each schedule
does when it fires, send workers, heartbeats and structured logs."""
