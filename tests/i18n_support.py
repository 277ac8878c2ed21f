"""What a reader sees on a page, and the English phrases of the catalogs that must not be among it."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from web import i18n

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")  # read out or shown on hover


class VisibleText(HTMLParser):
    """Collect the text a reader sees: text, labels read out, and a closed <details>' summary only."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0  # inside <script>, <style> or a closed <details> (outside its <summary>)
        self._details: list[bool] = []  # per open <details>: is its summary being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "details":
            self._details.append(False)
            self._hidden += 1
        elif tag == "summary" and self._details:
            self._hidden -= 1
        if not self._hidden:
            self.parts.extend(v for k, v in attrs if k in SHOWN_ATTRIBUTES and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1
        elif tag == "summary" and self._details:
            self._hidden += 1
        elif tag == "details" and self._details:
            self._details.pop()
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    """Return a page's visible text, one part per line."""
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def forms(value: object) -> tuple[str, ...]:
    """Return a catalog entry's id or string as a tuple of texts (one, or one per plural form)."""
    if isinstance(value, (tuple, list)):
        return tuple(str(v or "") for v in value)
    return (str(value or ""),)


@cache
def english_phrases(language: str) -> tuple[tuple[str, str], ...]:
    """Return (phrase, message) for each English phrase of the catalogs that reads differently in language.

    A phrase is a message's text between its placeholders; a phrase the translation also uses
    ("Team", "Status", "Motivation") is left out, and so is one shorter than three letters.
    """
    with i18n.catalog_path("en").open("rb") as f:
        english = {(m.context, m.id): m for m in read_po(f, locale="en") if m.id}
    with i18n.catalog_path(language).open("rb") as f:
        translated = {(m.context, m.id): m for m in read_po(f, locale=language) if m.id}
    phrases = []
    for key, message in english.items():
        ids = forms(message.id)
        texts = [s or i for s, i in zip(forms(message.string), ids, strict=False)] or list(ids)
        theirs = " ".join(forms(translated[key].string))
        for text in texts:
            for piece in PLACEHOLDER.split(text):
                phrase = piece.strip(" .,:;()·–→“”\"'")
                if sum(c.isalpha() for c in phrase) >= 3 and phrase.lower() not in theirs.lower():
                    phrases.append((phrase, str(ids[0])))
    return tuple(sorted(set(phrases)))


def english_left(text: str, language: str) -> list[tuple[str, str]]:
    """Return the English phrases (with their message) found as whole words in a page's visible text."""
    return [
        (phrase, message)
        for phrase, message in english_phrases(language)
        if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    ]
