"""The command line: the commands of DESIGN.md, thin over the pipeline; `status` and the
progress bar."""
