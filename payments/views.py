from payments import bp  # noqa: F401
