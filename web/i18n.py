"""The pages' languages: Babel message catalogs in web/locale, one language per request.

The English text in the code is the message id; web/locale/<da|sv|en>/LC_MESSAGES/messages.po hold
the translations (README "Languages" says how to extract, update and compile them). The .po files
are the only source: they are compiled in memory when first used, so a compiled file can never lag
behind them. The language of a request lives in a context variable, set once by the sign-in
middleware, so templates, filters and Python code translate without passing the request around.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("da", "sv", "en")
DEFAULT = "en"
# Babel locales for dates and numbers: English in its European form (day before month, 24-hour clock).
LOCALES = {"da": "da_DK", "sv": "sv_SE", "en": "en_GB"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# The glossary's marker: T_(context, term); extraction needs it as a keyword (babel.cfg, README).
KEYWORDS = {"T_": ((1, "c"), 2)}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("activation_language", default=DEFAULT)


def catalog_path(language: str) -> Path:
    """Return the .po file of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """Return a language's translations, compiled in memory from its .po file."""
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


def use(language: str) -> None:
    """Make language the language of everything translated from here on in this context."""
    _language.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    """Return the language of the current request."""
    return _language.get()


def locale() -> Locale:
    """Return the Babel locale of the current request, for dates and numbers."""
    return Locale.parse(LOCALES[current()])


def _(message: str, **values: Any) -> str:
    """Translate a message into the current language; %(name)s placeholders are filled from values."""
    text = translations(current()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """Translate a message whose form depends on a number; %(num)d is the number."""
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def pgettext(context: str, message: str, **values: Any) -> str:
    """Translate a message within a context (the glossary's kinds: stage, outcome, ...)."""
    text = str(translations(current()).pgettext(context, message))
    return text % values if values else text


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; translate it with _() where it is shown."""
    return message


def negotiate(accept_language: str | None) -> str:
    """Pick a language from a browser's Accept-Language header (before anyone is signed in)."""
    wanted = []
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag:
            wanted.append(tag)
    found = negotiate_locale(wanted, list(LANGUAGES), sep="_") if wanted else None
    return found.split("_")[0] if found else DEFAULT


def language_of(user_language: str | None, municipality_language: str | None) -> str:
    """Return the language a user reads: their own choice, else their municipality's, else English."""
    for choice in (user_language, municipality_language):
        if choice in LANGUAGES:
            return choice
    return DEFAULT


def jinja_callables() -> Mapping[str, Any]:
    """Return gettext functions for Jinja2's i18n extension that follow the request's language."""
    return {
        "gettext": lambda message: translations(current()).gettext(message),
        "ngettext": lambda singular, plural, n: translations(current()).ngettext(singular, plural, n),
        "pgettext": lambda context, message: translations(current()).pgettext(context, message),
        "npgettext": lambda context, singular, plural, n: translations(current()).npgettext(
            context, singular, plural, n
        ),
    }
