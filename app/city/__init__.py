"""A city described in one file (YAML or JSON), applied idempotently in one transaction.

`load` parses and validates the file (errors carry the file position and the field), `plan`
compares it with the database and `apply` makes the changes it lists; `civicloop city apply FILE
[--dry-run]` runs the three.
"""

from app.city.apply import Change, apply
from app.city.parse import CityFileError, LoadedCity, Problem, load

__all__ = ["Change", "CityFileError", "LoadedCity", "Problem", "apply", "load"]
