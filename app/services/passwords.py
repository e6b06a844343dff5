"""Password strength: a password must be hard to guess, judged by the zxcvbn estimator."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable

from zxcvbn import zxcvbn

from app import i18n
from app.errors import FieldText, ValidationFailed, fields_detail

# zxcvbn's scale: 0 too guessable … 4 very unguessable. 3 resists an offline attack on a slow
# hash (about 10^8 guesses or more), which is what a stolen argon2 table gives an attacker.
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); a longer password is at least as
# strong as its first 72 characters, so those are what is judged.
ESTIMATED_LENGTH = 72

# zxcvbn's feedback is English text (gettext with no catalog); each sentence it can say has a
# key in the app's catalogs, so the reader gets it in Thai or English.
FEEDBACK_KEYS = {
    "Use a few words, avoid common phrases.": "few_words",
    "No need for symbols, digits, or uppercase letters.": "no_symbols_needed",
    "Add another word or two. Uncommon words are better.": "add_words",
    "Straight rows of keys are easy to guess.": "straight_rows",
    "Short keyboard patterns are easy to guess.": "short_patterns",
    "Use a longer keyboard pattern with more turns.": "longer_pattern",
    'Repeats like "aaa" are easy to guess.': "repeated_character",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "repeated_text",
    "Avoid repeated words and characters.": "avoid_repeats",
    'Sequences like "abc" or "6543" are easy to guess.': "sequences",
    "Avoid sequences.": "avoid_sequences",
    "Recent years are easy to guess.": "recent_years",
    "Avoid recent years.": "avoid_recent_years",
    "Avoid years that are associated with you.": "avoid_your_years",
    "Dates are often easy to guess.": "dates",
    "Avoid dates and years that are associated with you.": "avoid_your_dates",
    "This is a top-10 common password.": "top_10",
    "This is a top-100 common password.": "top_100",
    "This is a very common password.": "very_common",
    "This is similar to a commonly used password.": "similar_to_common",
    "A word by itself is easy to guess.": "single_word",
    "Names and surnames by themselves are easy to guess.": "names_alone",
    "Common names and surnames are easy to guess.": "common_names",
    "Capitalization doesn't help very much.": "capitalization",
    "All-uppercase is almost as easy to guess as all-lowercase.": "all_uppercase",
    "Reversed words aren't much harder to guess.": "reversed",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": "substitutions",
}

# zxcvbn keeps the caller's inputs in a module-level dictionary while it matches: two
# estimates at once (the thread pool serves requests in parallel) would judge one password
# against the other person's e-mail and name.
_estimating = threading.Lock()


def check_strength(password: str, *, user_inputs: Iterable[str], field: str) -> None:
    """Refuse a password an attacker would guess (a common one, a pattern, the person's own
    e-mail or name) with a 422 naming the field and saying how to do better."""
    inputs = [value for value in user_inputs if value]
    # The e-mail's local part is what people reuse ("somchai" from somchai@example.org).
    inputs += [value.split("@", 1)[0] for value in inputs if "@" in value]
    with _estimating:
        result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return
    feedback = result["feedback"]
    sentences = [s for s in [feedback["warning"], *feedback["suggestions"]] if s]
    keys = [FEEDBACK_KEYS.get(s, "add_words") for s in sentences] or ["add_words"]
    # Sentences follow one another (a list would be joined with commas).
    advice = functools.reduce(
        lambda first, then: i18n.text("password.then", first=first, then=then),
        [i18n.text(f"password.feedback.{key}") for key in keys],
    )
    problem = FieldText(field, i18n.text("error.password.weak", advice=advice), "weak_password")
    raise ValidationFailed(fields_detail([problem]), errors=[problem])
