"""How many SMS segments a text costs, in which encoding, what forces UCS-2, and the GSM-7 look-alikes. Pure.

The rules (3GPP TS 23.038 for the alphabet, TS 23.040 for the user data and its header; Twilio's docs on
segments and its open-source segment calculator for how a provider applies them):

- A text is GSM-7 when every character is in the GSM 7-bit default alphabet or its extension table. An
  extension character (form feed ^ { } \\ [ ~ ] | €) is sent as ESC + a septet: 2 septets. One character
  outside both makes the whole text UCS-2, counted in UTF-16 code units: a character outside the Basic
  Multilingual Plane (most emoji) is a surrogate pair, 2 units.
- One segment carries 140 octets: 160 septets or 70 UCS-2 units. A longer text is concatenated and every
  segment gives 6 octets to the user data header: 153 septets or 67 units each.
- A segment never ends inside a character: an extension escape or a surrogate pair that does not fit moves
  whole to the next segment, so a text can need one more segment than its units divided by 153 (or 67).

The alphabet comes from the ``gsm0338`` codec (TS 23.038's tables by Unicode name), read through its public
decode API once at import.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

GSM7 = "GSM-7"
UCS2 = "UCS-2"
CODEC = "gsm03.38"
ESCAPE = 0x1B

SINGLE = {GSM7: 160, UCS2: 70}
CONCATENATED = {GSM7: 153, UCS2: 67}


def _alphabet() -> dict[str, int]:
    """Each GSM-7 character and its cost in septets: 1 (default alphabet) or 2 (ESC + the extension table)."""
    septets = {}
    for code in range(128):
        # ESC is the escape to the extension table, not a character a text can carry.
        if code != ESCAPE:
            septets[bytes([code]).decode(CODEC)] = 1
    for code in range(128):
        try:
            septets.setdefault(bytes([ESCAPE, code]).decode(CODEC), 2)
        except UnicodeDecodeError:
            continue
    return septets


SEPTETS = _alphabet()

# Typographic characters with a GSM-7 twin that means the same: automatic texts use the twin, and the editor
# offers it. Letters are not here: a name's letter is never changed without a person (see ``lookalike``).
TYPOGRAPHIC = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),  # ‘ ’ ‚ ‛ ′ ‹ ›
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),  # “ ” „ ‟ ″ « »
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens, en and em dash, minus sign
    "\u2026": "...",  # …
    # No-break, figure, thin, hair and narrow no-break spaces, en and em spaces: a plain space.
    **dict.fromkeys("\u00a0\u2002\u2003\u2007\u2009\u200a\u202f", " "),
    # Invisible: soft hyphen, zero-width space, word joiner, byte-order mark.
    **dict.fromkeys("\u00ad\u200b\u2060\ufeff", ""),
}
# Letters Unicode does not decompose into a base letter and a mark.
LETTERS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th"}
ZWJ = "\u200d"
SHOWN_CAUSES = 3


def is_gsm7(text: str) -> bool:
    return all(char in SEPTETS for char in text)


def _clusters(text: str) -> list[str]:
    """``text`` cut where a person sees one character: marks, variation selectors, skin tones and ZWJ joins stay
    with the character before them (so "👍🏽" or "e" + U+0301 is one cause, not two)."""
    clusters: list[str] = []
    joined = False
    for char in text:
        attaches = unicodedata.category(char) in ("Mn", "Me") or "\U0001f3fb" <= char <= "\U0001f3ff"
        # A flag is two regional indicators.
        flag = _regional(char) and clusters and len(clusters[-1]) == 1 and _regional(clusters[-1])
        if clusters and (joined or attaches or flag or char == ZWJ):
            clusters[-1] += char
        else:
            clusters.append(char)
        joined = char == ZWJ
    return clusters


def _regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def label(cluster: str) -> str:
    """How a cause reads on the page: itself, or its Unicode name when it is invisible ("no-break space")."""
    if len(cluster) == 1 and unicodedata.category(cluster)[0] in "ZC":
        return unicodedata.name(cluster, f"U+{ord(cluster):04X}").lower()
    return cluster


@dataclass(frozen=True)
class Lookalike:
    """A GSM-7 replacement for one cause. ``typographic`` ones keep the meaning; a letter's changes a spelling."""

    original: str
    replacement: str
    typographic: bool
    after: "Segmentation"

    @property
    def original_label(self) -> str:
        return label(self.original)

    @property
    def replacement_label(self) -> str:
        return self.replacement if self.replacement.strip() else ("a space" if self.replacement else "nothing")


@dataclass(frozen=True)
class Segmentation:
    """``text`` as the network carries it: its encoding, units (septets or UTF-16 code units) and segments."""

    text: str
    encoding: str
    units: int
    parts: tuple[str, ...]
    # The characters (as a person sees them) that make the text UCS-2, each once, in order of appearance.
    causes: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.parts)

    @property
    def because_of(self) -> str:
        """ "🏠", "’ and 🏠", "’, 🏠 and Ł", "’, 🏠, Ł and 2 more" ("" for GSM-7)."""
        shown = [label(cause) for cause in self.causes[:SHOWN_CAUSES]]
        hidden = len(self.causes) - len(shown)
        if hidden:
            return f"{', '.join(shown)} and {hidden} more"
        return " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else "".join(shown)

    @property
    def summary(self) -> str:
        """ "1 segment · GSM-7", "3 segments · UCS-2 because of 🏠"."""
        noun = "segment" if self.count == 1 else "segments"
        cause = f" because of {self.because_of}" if self.causes else ""
        return f"{self.count} {noun} · {self.encoding}{cause}"

    @cached_property
    def lookalikes(self) -> tuple[Lookalike, ...]:
        """One GSM-7 look-alike per cause, offered only when every cause has one (else the text stays UCS-2
        whatever is replaced). ``after`` is the text with that one cause replaced everywhere."""
        pairs = [(cause, lookalike(cause)) for cause in self.causes]
        if not pairs or any(twin is None for _, twin in pairs):
            return ()
        return tuple(
            Lookalike(cause, twin, same, segment(self.text.replace(cause, twin))) for cause, (twin, same) in pairs
        )

    def over(self, limit: int) -> bool:
        return self.count > limit

    def limit_error(self, limit: int) -> str:
        """ "" within ``limit`` segments, else what a person reads: the count, the encoding and its cause, the limit,
        and the look-alike that would shorten it, if one exists."""
        if not self.over(limit):
            return ""
        message = f"{self.summary}; the limit is {limit}."
        if fixes := self.lookalikes:
            uses = " and ".join(
                f"{fix.replacement_label} instead of {fix.original_label}"
                + ("" if fix.typographic else " (a different spelling)")
                for fix in fixes
            )
            message += f" Use {uses}: {segment(lookalikes_apply(self.text, fixes)).summary}."
        return message


def gsm7_capacity(segments: int) -> int:
    """The most GSM-7 characters of the default alphabet ``segments`` segments hold (160, 306, 459…)."""
    return SINGLE[GSM7] if segments == 1 else CONCATENATED[GSM7] * segments


def lookalike(cause: str) -> tuple[str, bool] | None:
    """The GSM-7 text that looks like ``cause`` and whether it means the same, or None.

    The same: a typographic twin, or the composed form of a letter typed with a combining mark ("e" + U+0301 ->
    "é"). A different spelling: the letter without its accent or stroke ("Ł" -> "L", "ą" -> "a").
    """
    if cause in TYPOGRAPHIC:
        return TYPOGRAPHIC[cause], True
    composed = unicodedata.normalize("NFC", cause)
    if composed != cause and is_gsm7(composed):
        return composed, True
    if cause in LETTERS:
        return LETTERS[cause], False
    bare = "".join(c for c in unicodedata.normalize("NFKD", cause) if not unicodedata.combining(c))
    return (bare, False) if bare and bare != cause and is_gsm7(bare) else None


def lookalikes_apply(text: str, fixes: Iterable[Lookalike]) -> str:
    for fix in fixes:
        text = text.replace(fix.original, fix.replacement)
    return text


def _cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return SEPTETS[char]
    return 2 if ord(char) > 0xFFFF else 1


def segment(text: str) -> Segmentation:
    """Split ``text`` into the segments an SMS of it is sent as (see the module's rules). Never raises."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    costs = [_cost(char, encoding) for char in text]
    units = sum(costs)
    if units <= SINGLE[encoding]:
        parts = (text,) if text else ()
    else:
        capacity, found, start, used = CONCATENATED[encoding], [], 0, 0
        for index, cost in enumerate(costs):
            if used + cost > capacity:
                found.append(text[start:index])
                start, used = index, 0
            used += cost
        found.append(text[start:])
        parts = tuple(found)
    causes = () if encoding == GSM7 else tuple(dict.fromkeys(c for c in _clusters(text) if not is_gsm7(c)))
    return Segmentation(text=text, encoding=encoding, units=units, parts=parts, causes=causes)


def typographic_fix(text: str, *, keep: Iterable[str] = ()) -> str:
    """``text`` with its typographic characters replaced by their GSM-7 twins (and composed, NFC), except inside
    ``keep`` (people's names, as written: "O’Brien" stays). Letters are never changed."""
    names = sorted({name for name in keep if name}, key=len, reverse=True)
    if not names:
        return _typographic(text)
    pieces = re.split(f"({'|'.join(map(re.escape, names))})", text)
    # re.split with one group alternates: text, name, text, name, ...
    return "".join(piece if index % 2 else _typographic(piece) for index, piece in enumerate(pieces))


def _typographic(text: str) -> str:
    # NFC first: a letter typed as base + combining mark becomes the one character GSM-7 may have ("é").
    return "".join(TYPOGRAPHIC.get(char, char) for char in unicodedata.normalize("NFC", text))
