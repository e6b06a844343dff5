from tests.known import known, settings

__all__ = ["known", "settings"]
