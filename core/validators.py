"""Text a person reads, and email addresses: one set of rules, used by the API's serializers and
by the models (admin forms, full_clean).

- Free text (titles, descriptions, locations, names) may hold any visible character, but no
  invisible or direction-changing one: format characters (Unicode category Cf: soft hyphen,
  zero-width joiner, the bidi overrides U+202A-U+202E and isolates U+2066-U+2069, ...), control
  characters other than the line breaks and tabs a description may hold (Cc), line and paragraph
  separators (Zl, Zp), private-use, unassigned and surrogate code points (Co, Cn, Cs). Text that
  reads one way and is stored another is how listings and names impersonate others.
- An email address is normalised before it is checked for uniqueness and stored (see
  `email_normalize`), so one mailbox is one account however it is spelled."""

import unicodedata

import idna
from confusable_homoglyphs import categories
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp", "Co", "Cn", "Cs"})
LINE_BREAKS_AND_TABS = frozenset("\n\r\t")

# Scripts that legitimately share one domain label: UTS #39's "highly restrictive" level
# (Japanese, Chinese and Korean writing mix these with Latin). Any other mix, such as Latin with
# Cyrillic in "ex\u0430mple", is a confusable.
SCRIPT_MIXES_ALLOWED = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
SCRIPT_NEUTRAL = frozenset({"COMMON", "INHERITED"})

EMAIL_INVALID = "Enter a valid email address."


def invisible_characters(value: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The distinct invisible characters in `value` (see the module docstring), as U+XXXX."""
    found = {
        character
        for character in value
        if character not in allowed and unicodedata.category(character) in INVISIBLE_CATEGORIES
    }
    return sorted(f"U+{ord(character):04X}" for character in found)


@deconstructible
class VisibleTextValidator:
    """Refuses invisible and direction-changing characters; `multiline` allows \\n, \\r, \\t."""

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        found = invisible_characters(
            value, allowed=LINE_BREAKS_AND_TABS if self.multiline else frozenset()
        )
        if found:
            raise ValidationError(
                "Invisible or direction-changing characters are not allowed: %(found)s.",
                code="invisible_characters",
                params={"found": ", ".join(found)},
            )

    def __eq__(self, other):
        return isinstance(other, VisibleTextValidator) and self.multiline == other.multiline


validate_visible_text = VisibleTextValidator()
validate_visible_multiline_text = VisibleTextValidator(multiline=True)


def is_confusable_label(label: str) -> bool:
    """True if a domain label mixes scripts beyond the allowed combinations."""
    scripts = set(categories.unique_aliases(label)) - SCRIPT_NEUTRAL
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in SCRIPT_MIXES_ALLOWED)


def email_normalize(value: str) -> str:
    """The one stored spelling of an address. Raises ValidationError if it has none.

    NFKC first (fullwidth letters become ASCII ones, the long s U+017F is "s"); the local part
    must then be ASCII (what every mail system accepts without SMTPUTF8) and, like the rest, is
    lower-cased: uniqueness ignores case, as it always has here. The domain goes through IDNA
    2008 with UTS #46 mapping and back to its Unicode form (`Bücher.de` and `xn--bcher-kva.de`
    are one domain, stored `bücher.de`); a label mixing scripts is refused (is_confusable_label).
    Invisible characters are refused before any mapping could silently drop them (UTS #46
    deletes a soft hyphen), so they never reach an existing account."""
    validate_visible_text(value)
    value = unicodedata.normalize("NFKC", value)
    if "@" not in value:
        raise ValidationError(EMAIL_INVALID, code="invalid")
    local, domain = value.rsplit("@", 1)
    if not local.isascii():
        raise ValidationError(
            "Use only ASCII letters, digits and punctuation before the @.", code="invalid"
        )
    if not domain.startswith("["):  # an address literal, [192.0.2.1], has no labels
        try:
            domain = idna.decode(idna.encode(domain, uts46=True))
        except idna.IDNAError as exc:
            raise ValidationError(EMAIL_INVALID, code="invalid") from exc
        if any(is_confusable_label(label) for label in domain.split(".")):
            raise ValidationError(
                "The domain mixes alphabets (e.g. Latin and Cyrillic letters) in one label.",
                code="confusable",
            )
    return f"{local}@{domain}".lower()


def validate_email_normalizable(value: str) -> None:
    """Model-level check (admin forms, full_clean): the address has a normal form. The model's
    clean() then stores that form (accounts.models.CaseInsensitiveUserManager.normalize_email)."""
    email_normalize(value)
