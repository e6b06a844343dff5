"""The domain. Functions take the session first and keyword arguments after; they never commit."""
