"""Problems the domain reports, said in the reader's language on the pages.

The domain (activation/) words its errors in English for the API, the CLI and the logs; the pages
say the ones a caseworker meets in the catalogs' languages. A problem not listed stays as worded.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from web.format import duration, on
from web.glossary import term
from web.i18n import _, ngettext


def _at_least(m: re.Match[str]) -> str:
    return ngettext("At least %(num)d character.", "At least %(num)d characters.", int(m[1]))


def _at_most(m: re.Match[str]) -> str:
    return ngettext("At most %(num)d character.", "At most %(num)d characters.", int(m[1]))


def _rows(m: re.Match[str]) -> str:
    return ngettext("At least %(num)d row.", "At least %(num)d rows.", int(m[1]))


def _length(m: re.Match[str]) -> str:
    values = {"name": m["name"], "length": duration(m["length"]), "source": m["source"], "days": m["days"]}
    if m["bound"] == "may run at most":
        return _("%(name)s may run at most %(length)s (%(source)s); this one runs %(days)s days.", **values)
    return _("%(name)s runs at least %(length)s (%(source)s); this one runs %(days)s days.", **values)


# What the domain says (pydantic's words, activation/records.py, services.py, access.py), in the
# reader's language; a problem not listed here is shown as the domain words it.
PROBLEMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Field required$"), lambda m: _("Required.")),
    (re.compile(r"^String should have at least (\d+) characters?$"), _at_least),
    (re.compile(r"^String should have at most (\d+) characters?$"), _at_most),
    (re.compile(r"^List should have at least (\d+) items?"), _rows),
    (re.compile(r"^Input should be a valid date"), lambda m: _("A date, please.")),
    (re.compile(r"^Input should be a valid (integer|number)"), lambda m: _("A whole number, please.")),
    (re.compile(r"^Input should be greater than or equal to (\d+)"), lambda m: _("At least %(n)s.", n=m[1])),
    (re.compile(r"^Input should be less than or equal to (\d+)"), lambda m: _("At most %(n)s.", n=m[1])),
    (re.compile(r"^Input should be '"), lambda m: _("Choose one of the options.")),
    (re.compile(r"^a date between (\S+) and (\S+), please$"),
     lambda m: _("A date between %(first)s and %(last)s, please.", first=on(m[1]), last=on(m[2]))),
    (re.compile(r"^ends_on must be after starts_on$"), lambda m: _("The end date must come after the start date.")),
    (re.compile(r"^sub-goals cannot be empty$"), lambda m: _("A sub-goal cannot be empty.")),
    (re.compile(r"^(.*): scores run from 1 to 10$"),
     lambda m: _("%(indicator)s: scores run from 1 to 10.", indicator=m[1])),
    (re.compile(r"^unknown target group"), lambda m: _("Choose one of the municipality's target groups.")),
    (re.compile(r"is not in the catalogue"), lambda m: _("Choose an intervention from the municipality's catalogue.")),
    (re.compile(r"^(?P<name>.+) (?P<bound>may run at most|runs at least) (?P<length>.+?) \((?P<source>.*)\); "
                r"this one runs (?P<days>\d+) days$"), _length),
    (re.compile(r"^No case (\S+) visible to you\.$"), lambda m: _("No case %(id)s visible to you.", id=m[1])),
    (re.compile(r"^No to-do (\S+) visible to you\.$"), lambda m: _("No to-do %(id)s visible to you.", id=m[1])),
    (re.compile(r"^Only the team's lead can reassign its cases\.$"),
     lambda m: _("Only the team's lead can reassign its cases.")),
    (re.compile(r"^'(.+)' is not a caseworker in team (\S+)$"),
     lambda m: _("%(who)s is not a caseworker in team %(team)s.", who=m[1], team=m[2])),
    (re.compile(r"^to-do \S+ is already (\w+) with outcome '(\w+)'$"),
     lambda m: _("This to-do is already %(status)s as %(outcome)s.", status=term("status", m[1]),
                 outcome=term("outcome", m[2]))),
]  # fmt: skip


def problem_text(problem: str) -> str:
    """Say a validation problem in the reader's language."""
    for pattern, say in PROBLEMS:
        found = pattern.search(problem)
        if found:
            return say(found)
    return problem
