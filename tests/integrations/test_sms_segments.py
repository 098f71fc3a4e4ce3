"""SMS segments by encoding (3GPP TS 23.038 / 23.040, Twilio's segment rules): pure, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.sms_segments import GSM7, SEPTETS, UCS2, segment, typographic_fix

EXTENSION = "\f^{}\\[~]|€"
HOUSE = "🏠"  # U+1F3E0: outside the BMP, a surrogate pair


def test_the_alphabet_is_the_default_table_and_its_extension():
    assert {char for char, septets in SEPTETS.items() if septets == 2} == set(EXTENSION)
    assert sum(1 for septets in SEPTETS.values() if septets == 1) == 127  # 128 codes less ESC
    assert "\x1b" not in SEPTETS, "ESC escapes to the extension table; it is no character of a text"
    for char in "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà":
        assert SEPTETS[char] == 1, char
    for char in "çÁáóúíÈÀ`’“”–—…\u00a0Łł":
        assert char not in SEPTETS, char


@pytest.mark.parametrize(
    ("text", "segments", "encoding", "units"),
    [
        ("", 0, GSM7, 0),
        ("x", 1, GSM7, 1),
        ("x" * 160, 1, GSM7, 160),
        ("x" * 161, 2, GSM7, 161),
        ("x" * 306, 2, GSM7, 306),
        ("x" * 307, 3, GSM7, 307),
        ("x" * 321, 3, GSM7, 321),  # the draft: 3 GSM-7 segments, within the default limit
        ("x" * 153 * 3, 3, GSM7, 459),
        ("x" * (153 * 3 + 1), 4, GSM7, 460),
        ("€" * 80, 1, GSM7, 160),
        ("€" * 80 + "x", 2, GSM7, 161),
        ("x" * 70, 1, GSM7, 70),
        ("ł" * 70, 1, UCS2, 70),
        ("ł" * 71, 2, UCS2, 71),
        ("ł" * 134, 2, UCS2, 134),
        ("ł" * 135, 3, UCS2, 135),
        ("ł" * 67 * 3, 3, UCS2, 201),
        ("ł" * (67 * 3 + 1), 4, UCS2, 202),
        (HOUSE * 35, 1, UCS2, 70),
        (HOUSE * 35 + "x", 2, UCS2, 71),
        ("x" * 299 + HOUSE, 5, UCS2, 301),  # the other draft: 300 characters, one emoji
    ],
)
def test_boundaries(text, segments, encoding, units):
    result = segment(text)
    assert (result.count, result.encoding, result.units) == (segments, encoding, units)
    assert "".join(result.parts) == text


def test_an_extension_character_at_a_boundary_moves_whole_to_the_next_segment():
    # 152 septets, then € (ESC + e): 154 would not fit in 153, so the escape is not split from its character.
    text = "x" * 152 + "€" + "x" * 10
    result = segment(text)
    assert [len(part) for part in result.parts] == [152, 11]
    assert result.parts[1].startswith("€")
    # The same text with a one-septet character there fills the first segment exactly.
    assert [len(part) for part in segment("x" * 153 + "x" * 10).parts] == [153, 10]
    # 3 x 153 septets of text need a fourth segment when escapes fall on the boundaries.
    assert segment(("x" * 152 + "[") * 3).count == 4
    assert segment(("x" * 151 + "[") * 3).count == 3


def test_a_surrogate_pair_at_a_boundary_moves_whole_to_the_next_segment():
    text = "ł" * 66 + HOUSE + "ł" * 5  # 66 units, then 2 that do not fit in 67
    result = segment(text)
    assert [len(part) for part in result.parts] == [66, 6]
    assert result.parts[1].startswith(HOUSE)
    for part in result.parts:
        assert not ("\ud800" <= part[-1] <= "\udfff"), "Python strings hold code points: no half pair ends a part"
    assert segment("ł" * 65 + HOUSE + "ł" * 5).parts[0].endswith(HOUSE)


def test_the_whole_text_is_ucs2_when_one_character_is_not_gsm7():
    result = segment("Hi Łukasz, your quote is ready")
    assert result.encoding == UCS2 and result.causes == ("Ł",)
    assert result.summary == "1 segment · UCS-2 because of Ł"
    assert segment("Call me {today} at 5 € ok").summary == "1 segment · GSM-7"


@pytest.mark.parametrize(
    ("text", "because_of"),
    [
        ("a🏠b🏠", "🏠"),
        ("’ and 🏠", "’ and 🏠"),
        ("’ 🏠 Ł", "’, 🏠 and Ł"),
        ("’ 🏠 Ł – … ", "’, 🏠, Ł and 2 more"),
        ("price\u00a010", "no-break space"),
        ("👍🏽 thumbs", "👍🏽"),  # a skin tone stays with its emoji
        ("👨‍👩‍👧 family", "👨‍👩‍👧"),  # ZWJ joins
        ("🇵🇱 flag", "🇵🇱"),  # two regional indicators
        ("cafe\u0301", "e\u0301"),  # a combining accent stays with its letter
    ],
)
def test_the_causes_read_as_a_person_sees_them(text, because_of):
    assert segment(text).because_of == because_of


def test_a_typographic_lookalike_is_offered_when_it_makes_the_text_gsm7():
    result = segment("We’ll call you at 5")
    (fix,) = result.lookalikes
    assert (fix.original, fix.replacement, fix.typographic) == ("’", "'", True)
    assert fix.after.summary == "1 segment · GSM-7"


@pytest.mark.parametrize(
    ("char", "twin"),
    [
        ("‘", "'"),
        ("’", "'"),
        ("“", '"'),
        ("”", '"'),
        ("«", '"'),
        ("»", '"'),
        ("–", "-"),
        ("—", "-"),
        ("…", "..."),
        ("\u00a0", " "),
        ("\u202f", " "),
        ("\u200b", ""),
    ],
)
def test_each_typographic_character_has_its_gsm7_twin(char, twin):
    (fix,) = segment(f"a{char}b").lookalikes
    assert fix.replacement == twin and fix.typographic
    assert fix.after.encoding == GSM7


def test_a_letter_lookalike_is_offered_as_a_different_spelling():
    (fix,) = segment("Hi Łukasz").lookalikes
    assert (fix.replacement, fix.typographic) == ("L", False)
    (fix,) = segment("Zażółć").lookalikes[:1]
    assert fix.replacement == "z" and not fix.typographic
    composed = segment("cafe\u0301").lookalikes[0]
    assert composed.replacement == "é" and composed.typographic, "the composed letter is the same letter"


def test_no_lookalike_is_offered_when_another_cause_keeps_the_text_ucs2():
    assert segment("We’ll be there 🏠").lookalikes == ()
    assert segment("🏠").lookalikes == ()


def test_the_limit_error_names_the_count_the_encoding_its_cause_and_the_limit():
    assert segment("x" * 321).limit_error(3) == ""
    assert segment("x" * 299 + HOUSE).limit_error(3) == "5 segments · UCS-2 because of 🏠; the limit is 3."
    assert segment("x" * 300 + "’").limit_error(3) == (
        "5 segments · UCS-2 because of ’; the limit is 3. Use ' instead of ’: 2 segments · GSM-7."
    )
    assert segment("Łukasz’s " * 30).limit_error(3) == (
        "5 segments · UCS-2 because of Ł and ’; the limit is 3. "
        "Use L instead of Ł (a different spelling) and ' instead of ’: 2 segments · GSM-7."
    )


def test_typographic_fix_keeps_names_as_written():
    text = "Hi O’Brien — we’ll call “today”… Łukasz’s quote"
    assert typographic_fix(text, keep=["O’Brien", "Łukasz"]) == "Hi O’Brien - we'll call \"today\"... Łukasz's quote"
    assert typographic_fix("Łódź’s", keep=[]) == "Łódź's", "letters are never changed"


@given(st.text(alphabet=st.sampled_from("ab €[" + "ł" + HOUSE + "’"), max_size=700))
def test_segments_rebuild_the_text_and_each_fits_its_capacity(text):
    result = segment(text)
    assert "".join(result.parts) == text
    single, each = (160, 153) if result.encoding == GSM7 else (70, 67)
    sizes = [sum(segment_units(char, result.encoding) for char in part) for part in result.parts]
    assert sum(sizes) == result.units
    if result.count == 1:
        assert sizes[0] <= single
    else:
        assert all(0 < size <= each for size in sizes)
        # Greedy: a segment closed early only because the next character did not fit.
        for size, following in zip(sizes, result.parts[1:], strict=False):
            assert size + segment_units(following[0], result.encoding) > each


def segment_units(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in EXTENSION else 1
    return len(char.encode("utf-16-le")) // 2
