"""Reading consent from a person's words is pure: no database.

The labeled replies (tests/data/optout_set.jsonl) and the train split of the qualification set
(tests/data/qualify_set.jsonl; its test split is never read here) pin the rules; the hand-written cases below pin
each kind of rule with phrasings that are in neither file.
"""

import ast
import json
from pathlib import Path

import pytest

import leads.consent_words
from leads.consent_words import ConsentReading, consent_reading, normalise

DATA = Path(__file__).resolve().parents[1] / "data"
OPT_OUT_KINDS = {"keyword", "keyword_noise", "lookalike", "es", "fr", "de", "sentence"}


def rows(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, filter(None, lines)) if "id" in row]  # the first line is a _comment


def labeled(expect: str, kinds=None) -> list:
    return [
        pytest.param(row["text"], id=row["id"])
        for row in rows("optout_set.jsonl")
        if row["expect"] == expect and (kinds is None or row["kind"] in kinds)
    ]


def kind(text: str, **options) -> str:
    return consent_reading(text, **options).kind


@pytest.mark.parametrize("text", labeled("opt_out", OPT_OUT_KINDS))
def test_optout_set_opt_out_reads_opt_out(text):
    assert kind(text) == "opt_out"


@pytest.mark.parametrize("text", labeled("none"))
def test_optout_set_none_never_reads_opt_out(text):
    assert kind(text) != "opt_out"


@pytest.mark.parametrize("text", labeled("opt_in"))
def test_optout_set_opt_in_reads_opt_in(text):
    # The set's replies are isolated and "a bare YES is assumed to answer a re-subscribe prompt" (its _comment).
    assert kind(text, yes_opts_in=True) == "opt_in"


@pytest.mark.parametrize("text", labeled("help"))
def test_optout_set_help_reads_help(text):
    assert kind(text) == "help"


@pytest.mark.parametrize("text", labeled("review"))
def test_optout_set_review_never_reads_opt_out(text):
    assert kind(text) != "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(row["text"], id=row["id"])
        for row in rows("qualify_set.jsonl")
        if row.get("split") == "train" and row["intent"] != "opt_out"
    ],
)
def test_qualify_train_other_intents_never_read_opt_out(text):
    assert kind(text) != "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "ＳＴＯＰ",  # full-width
        "S\u200bT\u200cO\u200dP",  # zero-width space, non-joiner, joiner
        "\u2060STOP\ufeff",  # word joiner, BOM
        "\u200fSTOP\u200e",  # bidi marks
        "\u2066stop\u2069",  # bidi isolates
        "STOP\ufe0f",  # variation selector
        "STO\u00adP",  # soft hyphen
        "ЅТОР",  # Cyrillic capitals
        "ѕтор",  # Cyrillic small letters
        "QUΙT",  # Greek capital iota
        "САΝCEL",  # Cyrillic and Greek
        "sᴛᴏᴘ",  # small capitals
        "𝐒𝐓𝐎𝐏",  # mathematical bold
        "ⓈⓉⓄⓅ",  # circled
        "S\u0336T\u0336O\u0336P\u0336",  # combining strike-through
        "STOP!!!",
        "Stop 🛑",
        "stop ✋🏽",
        "S.T.O.P",
        "S T O P",
        "s-t-o-p",
        "stoppp",
        "stooooop",
        "St0p",
        "$top",
        "qu1t",
        "5TOP",
        "  stop  ",
    ],
)
def test_lookalikes_and_noise_read_as_the_plain_word(text):
    reading = consent_reading(text)
    assert (reading.kind, reading.how, reading.language) == ("opt_out", "keyword", "en")


def test_normalise_keeps_where_each_character_came_from():
    norm, origin = normalise("ＳＴ\u200bＯＰ please")
    assert norm == "stop please"
    assert [origin[i] for i in range(4)] == [0, 1, 3, 4]


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "QUIT",
        "END",
        "REVOKE",
        "OPT OUT",
        "CANCEL",
        "UNSUBSCRIBE",
        "STOPALL",
        "OPTOUT",
        "OPT-OUT",
        "STOP ALL",
        "opt out pls",
        "Stop. Thank you",
        "stop please",
        "please STOP",
        "STOP STOP",
        "Unsubscribe.",
        "Ok, cancel",
        "End!",
        "quit thanks",
        "STOP\nSent from my iPhone",
        "Stop - Dana",
        "REMOVE",
        "No. Stop.",
        "I'm not interested, please stop",
        "STOP. Wrong number",
        "I didn't ask for these, quit",
    ],
)
def test_english_keywords_alone_or_with_courtesy(text):
    assert consent_reading(text) == ConsentReading("opt_out", "keyword", consent_reading(text).words, "en")


@pytest.mark.parametrize(
    "text, language",
    [
        ("BAJA", "es"),
        ("baja x favor", "es"),
        ("Alto", "es"),
        ("PARAR", "es"),
        ("cancelar gracias", "es"),
        ("NO MÁS", "es"),
        ("ARRÊT", "fr"),
        ("arret svp", "fr"),
        ("DÉSABONNER", "fr"),
        ("désinscription", "fr"),
        ("STOPP", "de"),
        ("Abmelden bitte", "de"),
        ("ABBESTELLEN", "de"),
        ("austragen", "de"),
    ],
)
def test_short_forms_in_other_languages(text, language):
    reading = consent_reading(text)
    assert (reading.kind, reading.how, reading.language) == ("opt_out", "keyword", language)


def test_stop_sms_is_an_opt_out():
    assert kind("STOP SMS") == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "take me off your list",
        "Please take this number off your texting list",
        "don't text me again",
        "Do NOT message me anymore",
        "never contact me again please",
        "no more messages",
        "no more texts pls",
        "remove my number",
        "Remove me.",
        "lose my number",
        "Erase my number from your database",
        "delete my contact info",
        "unsubscribe me from these emails",
        "I'd like to unsubscribe",
        "how do I unsubscribe",
        "I want to opt out of these texts",
        "I do not consent to receive calls or texts",
        "I withdraw my consent",
        "Stop contacting me",
        "quit calling and texting me",
        "Please stop the texts",
        "stop sending me these messages",
        "i'm tired of these texts",
        "Stop spamming me",
        "cease all communication",
        "leave me alone",
        "Take us off your list",
        "I never signed up for this. Remove me from your list",
        "Put me on your do not call list",
        "Do not text.",
        "I want off your list",
        "I opt out",
        "stop msging me",
        "Stop texting this number",
        "Who is this? Remove me",
    ],
)
def test_english_sentences(text):
    reading = consent_reading(text)
    assert (reading.kind, reading.how, reading.language) == ("opt_out", "sentence", "en")


@pytest.mark.parametrize(
    "text, language",
    [
        ("no me manden más mensajes", "es"),
        ("sáquenme de su lista", "es"),
        ("No me vuelvan a llamar", "es"),
        ("Ya no me manden mensajes", "es"),
        ("quiero darme de baja", "es"),
        ("Por favor bórrenme de su lista", "es"),
        ("dejen de escribirme", "es"),
        ("ne m'envoyez plus de messages", "fr"),
        ("Arrêtez de m'envoyer des SMS", "fr"),
        ("Merci de ne plus me contacter", "fr"),
        ("Je ne veux plus recevoir vos messages", "fr"),
        ("supprimez-moi de votre liste", "fr"),
        ("bitte nicht mehr kontaktieren", "de"),
        ("keine Nachrichten mehr", "de"),
        ("Schreiben Sie mir nicht mehr", "de"),
        ("Rufen Sie mich nie wieder an", "de"),
        ("Bitte entfernen Sie meine Nummer", "de"),
        ("Melden Sie mich ab", "de"),
        ("Cancelar mensajes", "es"),
        ("Ya no quiero mensajes", "es"),
        ("Quítame de tu lista", "es"),
        ("Arrêtez les SMS", "fr"),
        ("je veux me désabonner", "fr"),
        ("Laissez-moi tranquille", "fr"),
        ("Hören Sie auf, mir zu schreiben", "de"),
        ("Lassen Sie mich in Ruhe", "de"),
    ],
)
def test_sentences_in_other_languages(text, language):
    reading = consent_reading(text)
    assert (reading.kind, reading.how, reading.language) == ("opt_out", "sentence", language)


@pytest.mark.parametrize(
    "text",
    [
        "can you stop by tomorrow",
        "the leak won't stop",
        "cancel my Tuesday appointment",
        "end of the month works",
        "stop the water before it ruins the floor",
        "I want to cancel my old quote",
        "is there an end date?",
        "Stop sign got knocked into my fence, can you fix it?",
        "HELP my basement is flooding",
        "Opt out of the extended warranty",
        "Please don't stop texting me updates",
        "if you don't text me back by Friday I'll go with someone else",
        "I told my husband to stop calling the other company",
        "We want to stop the leak in the basement asap",
        "Stop by whenever, gate code is 1234",
        "Take the couch off the list",
        "Please remove the old shingles first",
        "no more than 3 coats of paint",
        "La cita se canceló",
        "Arrêtez-vous chez moi demain",
        "Das Ende ist nah",
        "Stop! The crew left the gate open, can you send someone back?",
        "Cancel. Can we do Thursday instead?",
        "Subject: leads for you\nBook a call this week.\nTo stop receiving these emails, reply STOP.",
        "Can you remove me from the 8am slot and put me at 10?",
        "Stop calling it a deck, it's a patio",
        "my husband said stop texting him",
        "I'm done with the old quote, send a new one",
        "Para el martes?",
        "Cancelar la cita",
        "Arrêtez-vous à 10h",
        "Hören Sie, das Dach ist undicht",
        "I opt out of the extended warranty",
        "Do not call the office number, it is closed",
        "Don't text my wife",
    ],
)
def test_never_a_false_opt_out(text):
    assert kind(text) != "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "can you stop by tomorrow",
        "HELP my basement is flooding",
        "Opt out of the extended warranty",
        "Stop sign got knocked into my fence, can you fix it?",
        "Can you send more info on the financing?",
        "Yes, Thursday at 10 works",
        "start the job monday?",
    ],
)
def test_keywords_inside_other_words_say_nothing(text):
    assert consent_reading(text) == ConsentReading("", "", "", "")


@pytest.mark.parametrize(
    "text",
    [
        "not interested",
        "wrong number",
        "I found someone else",
        "we went with another company",
        "🛑",
        "✋",
        "can you email me instead of texting?",
        "too many texts",
        "Don't text me before 9am",
        "please don't call me at work",
        "Stop texting me, email me instead",
        "unsubscribe me from the newsletter but keep texting me about my quote",
        "no me interesa",
        "pas intéressé",
        "kein Interesse",
        "Don't call me, text me",
        "No more messages to my old number, use my new one",
        "Please stop the calls, just text me",
        "Do not text after 8",
        "stop texting me at work",
        "we're all set, no need to follow up",
    ],
)
def test_for_a_person_to_decide(text):
    assert kind(text) == "review"


def test_a_review_keeps_what_it_looked_like():
    assert consent_reading("Don't text me after 8pm please").how == "sentence"
    assert consent_reading("🛑") == ConsentReading("review", "", "🛑", "")


@pytest.mark.parametrize(
    "text", ["START", "start", "Unstop", "start again please", "Start - Dana", "resubscribe me", "ALTA"]
)
def test_opting_back_in(text):
    assert kind(text) == "opt_in"


@pytest.mark.parametrize(
    "text, language", [("YES", "en"), ("yes please", "en"), ("Sí", "es"), ("oui", "fr"), ("Ja", "de")]
)
def test_yes_opts_in_only_after_a_resubscribe_prompt(text, language):
    assert consent_reading(text, yes_opts_in=True) == ConsentReading("opt_in", "keyword", text, language)
    assert kind(text) == ""


@pytest.mark.parametrize(
    "text, language",
    [("HELP", "en"), ("help!", "en"), ("Info", "en"), ("AYUDA", "es"), ("aide", "fr"), ("Hilfe", "de")],
)
def test_help(text, language):
    assert consent_reading(text) == ConsentReading("help", "keyword", text.rstrip("!"), language)


def test_the_words_are_as_the_person_wrote_them():
    assert consent_reading("Hi. Please STOP texting me!!").words == "Please STOP texting me"
    assert consent_reading("ＳＴ\u200bＯＰ").words == "ＳＴ\u200bＯＰ"
    assert consent_reading("STOP\n\nSent from my iPhone").words == "STOP"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Stop\n\n> On Mon, Jun 2, 2025 at 9:01 AM Acme Decks <hi@acme.example> wrote:\n> Any questions?", "opt_out"),
        ("Thursday works\n\nOn Mon, Jun 2, 2025, Acme Decks <hi@acme.example>\nwrote:\n> Reply STOP to opt out", ""),
        ("Sounds good\n-----Original Message-----\nFrom: Acme\nStop by anytime. Reply STOP to unsubscribe.", ""),
        ("Bien, gracias\n\nEl lun, 2 jun 2025, Acme <hi@acme.example> escribió:\n> BAJA para no recibir más", ""),
    ],
)
def test_an_email_reply_is_read_without_its_quoted_history(text, expected):
    assert kind(text) == expected


def test_an_opt_out_wins_over_a_review():
    assert kind("Stop messaging me please, I'm not interested") == "opt_out"
    assert kind("wrong person, pls remove this number from your list") == "opt_out"


def test_the_module_imports_only_the_standard_library():
    tree = ast.parse(Path(leads.consent_words.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"re", "unicodedata", "dataclasses"}
