"""The application: the config, one pass (engine), the executor that
applies a plan, the loop that runs passes (runner), the command line, the
service files, reports and notifications."""
