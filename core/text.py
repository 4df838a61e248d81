"""Text as a search compares it: case and accents do not matter ("Zürich" = "zurich")."""

import unicodedata


def fold(text: str) -> str:
    """`text` without accents (NFKD, combining marks dropped), case-folded, with runs of
    whitespace made one space. The same function folds what is stored and what is searched, so
    both databases compare plain strings and agree exactly."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())
