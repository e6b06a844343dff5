"""The SeeClickFix API v2 read surface: its error shape and its JSON documents."""
