from members import bp  # noqa: F401
