from donations import bp  # noqa: F401
