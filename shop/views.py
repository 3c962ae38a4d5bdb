from shop import bp  # noqa: F401
