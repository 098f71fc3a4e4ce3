"""What a person's own words say about consent to be contacted: opt out, opt back in, help, or a person must look.

Pure: text in, a :class:`ConsentReading` out; no ORM, no I/O. Sources for the words:

- FCC 24-24, Report and Order, CG Docket No. 02-278 (adopted 2024-02-15, 89 FR 15756), 47 CFR 64.1200(a)(10),
  effective 2025-04-11 (89 FR 82518): consent may be revoked by any reasonable means, and a reply of "stop",
  "quit", "end", "revoke", "opt out", "cancel" or "unsubscribe" to a text is a per-se reasonable revocation.
- CTIA Messaging Principles and Best Practices: opt out STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; opt back in
  START, UNSTOP, and YES to a re-subscribe prompt; help HELP, INFO.
- Spanish, French and German short forms (BAJA, ARRET, STOPP…) and requests, as reasonable means in that language.

A keyword counts only where a message, or one clause of it, is that keyword plus courtesy and noise ("Stop. Thank
you", "STOP - Mike"); inside other words it is an ordinary word ("can you stop by tomorrow"). A sentence counts when
it asks in so many words not to be contacted. Where the words also keep a door open (a time, another channel, "but
keep texting me") or only hint ("not interested", "wrong number", a lone 🛑), the reading is "review": hold the sends
and let a person decide.
"""

import re
import unicodedata
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ConsentReading:
    """What the words say about consent; ``kind == ""`` means nothing about it."""

    kind: str  # "opt_out" | "opt_in" | "help" | "review" | ""
    how: str  # "keyword" | "sentence" | "" (a review keeps what it looked like, or "")
    words: str  # the words that decided it, as the person wrote them
    language: str  # "en" | "es" | "fr" | "de" | "": the language of the matched form


NOTHING = ConsentReading("", "", "", "")

# Cyrillic, Greek and small-capital letters that look Latin, typographic apostrophes and dashes.
_LOOKALIKE = str.maketrans(
    "АВСЕНІЈКМОРЅТХУаеіјорѕхусткмнвΑΒΕΖΗΙΚΜΝΟΡΤΥΧαεικνορτυχᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ’‘ʼ`´′‐‑‒–—―−",
    "ABCEHIJKMOPSTXYaeijopsxyctkmhbABEZHIKMNOPTYXaeikvoptuxabcdefghijklmnoprstuvwyz''''''-------",
)
_LEET = str.maketrans("0135@$", "oiesas")
_LEET_AT = r"(?<=[a-z])[0135@$](?=[a-z])|(?<![a-z0-9])(?:[0$@](?=[a-z]{2})|5(?=[a-z]{3}))"  # "St0p", "$top", not "5pm"
_SPACED = r"(?<![a-z'])[a-z](?:[ .\-_*]+[a-z](?![a-z']))+"  # "S.T.O.P", "s t o p"

# Keywords, compared as their letters run together ("opt-out", "OPT OUT", "S.T.O.P").
_STOP_WORDS = {
    "en": "stop stopall quit end revoke optout cancel unsubscribe unsub remove",
    "es": "baja alto para parar cancelar nomas basta detener desuscribir desuscribirme dardebaja nomolestar",
    "fr": "arret arreter arretez desabonner desabonnement desinscrire desinscription",
    "de": "stopp abmelden abbestellen austragen abmeldung ende beenden",
}
_START_WORDS = {"en": "start unstop", "es": "alta"}  # ALTA: BAJA's counterpart in Spanish-language programs
_YES_WORDS = {"en": "yes y yeah yep yup", "es": "si", "fr": "oui", "de": "ja"}
_HELP_WORDS = {"en": "help info", "es": "ayuda", "fr": "aide", "de": "hilfe"}
_COURTESY_WORDS = (
    "please pls plz plse pleas thanks thank thankyou thx thnx tks ty you u ok okay k kk now asap sir maam for just sms "
    "txt hi hello hey sorry por favor porfa porfavor x gracias ya hola buenas svp stp merci s'il vous plait bonjour "
    "bitte danke hallo sofort jetzt"
)
_COURTESY = frozenset(_COURTESY_WORDS.split())
_AGAIN = frozenset({"again", "me", "back"})  # "start again please": courtesy that only opting back in may carry
_SIGNATURE = re.compile(r"^(?:sent from my|get outlook|enviado desde|envoye de mon|von meinem)\b")
# Where an email reply's quoted history starts: "> …" lines, "On … wrote:" and its es/fr/de forms, a forwarded header.
_QUOTED = re.compile(
    r"^ *(?:>|(?:on|el|le|am) (?:.|\n){0,200}?(?:wrote|escribio|a ecrit|schrieb).{0,40}:"
    r"|-{2,} ?(?:original message|forwarded))",
    re.MULTILINE,
)
_STOP_EMOJI = frozenset("🛑✋⛔🚫🤚🖐🙅❌✖🔕")

_SEP = re.compile(r"[.!?;,:\n()\[\]|/\"]+|\s-+\s*|-{2,}")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+")

# Pieces of the sentence patterns, over the normalised text (case-folded, accents and look-alikes removed).
_NOUN = (
    r"(?:texts?|textin[g']?|txts?|txting|msgs?|msging|messages|messagin[g']?|sms|calls|calling|phone calls|e-?mails"
    r"|e-?mailing|spam|promos?|promotions?|marketing|ads|advertisements?|notifications?|alerts?|reminders?|updates"
    r"|newsletters?|offers"
    r"|solicitations?|robocalls?|communications?|contact|contacting|bothering|bugging|harassing|pestering|spamming"
    r"|mandando|enviando)"
)
_SEND = r"(?:text|txt|messag|msg|call|ring|e-?mail|contact|spam|bother|bug|harass|pester|hound|ping|sms)\w*"
_ME = (
    r"(?:me|us|this (?:number|phone|line|cell)|my (?:phone |cell |mobile )?(?:number|phone|cell|line|info\w*"
    r"|contact(?: info\w*| details)?|details|name|e-?mail(?: address)?|data)|\S+@\S*)"
)
_LISTISH = (
    r"(?:lists?|mailing|distribution|system|database|contacts|records?|files?|crm|roster|texts?|messages|e-?mails"
    r"|newsletters?|marketing|campaigns?|everything|all|these|this)"
)
_ENDS = rf"(?= *(?:$|[.,!;:?\n)]|please|pls|now|asap|thanks|thank|(?:from|off|out of|of) (?:\S+ ){{0,3}}?{_LISTISH}\b))"
_CLAUSE_START = r"(?:^|[.!?,;:\n-] *|\b(?:please|pls|plz|so|and|just|ok|okay|then|kindly|again|now) )"
_ES_ASK = r"(?:manden?|mandes|envien?|envies|escriban?|escribas|llamen?|llames|contacten?|contactes|texteen?|molesten?)"
_FR_SEND = r"(?:envoy|ecri|contact|appel|telephon|harcel|derang|relanc|sollicit|texto)\w*"
_DE_NOUN = r"(?:nachrichten|sms|anrufe|e-?mails|mails|werbung|textnachrichten|kontaktaufnahmen?|newsletter|zusendungen)"
_DE_SEND = r"(?:kontaktier|anruf|anzuruf|ruf|schreib|anschreib|schick|send|simse|belastig|nerv)\w*"
_NEVER_DE = r"(?:nicht mehr|nie wieder|nie mehr|nicht wieder)"

# Requests in so many words, over the normalised text. An opt-out beats an opt-in, which beats a review.
_OPT_OUT_EN = "|".join(
    [
        rf"\b(?:stop|quit|cease|end|cancel|discontinue|halt)(?: (?:all|any|the|these|those|this|your|ur|with|getting"
        rf"|receiving|sending|me|us))* {_NOUN}\b(?! (?:the|my|his|her|their|him|them|our|other|a|an|it)\b)",
        r"\b(?:stop|quit|cease) sending (?:me|us)\b",
        rf"{_CLAUSE_START}(?:don'?t|do not|dont|never) (?:ever )?(?:{_SEND}|write to|reach out to)(?: (?:me|us"
        r"|this (?:number|phone)|my (?:number|phone|cell)|again)\b"
        r"|(?= *(?:$|[.!,;]|(?:please|pls|thanks|after|before|at|during|on|until|till)\b)))(?! back)",
        rf"\b(?:asked|told) (?:you|u) (?:not to|to not|to stop) {_SEND}",
        rf"\b(?:don'?t|do not|no longer|never) (?:want|wish)(?: to)?(?: (?:get|receive|be getting|have))?"
        rf" (?:any ?more |more |any |these |those |your |ur |the )?{_NOUN}\b",
        r"\b(?:don'?t|do not|no longer) (?:want|wish) to be (?:contacted|texted|called|e-?mailed|messaged|bothered)",
        rf"\bno more {_NOUN}\b|\bleave (?:me|us) alone\b",
        rf"\b(?:enough|done|tired of|sick of)(?: (?:with|getting|receiving|the|these|your|all|those|this))* {_NOUN}\b",
        rf"\b(?:remove|delete|erase|lose|unsubscribe|unenroll|opt) {_ME}(?: out)?{_ENDS}",
        rf"\b(?:take|get|drop|scratch|strike|cross|put) {_ME} (?:off|out of|from) (?:\S+ ){{0,3}}?"
        r"(?:lists?|database|system|contacts|records|crm)\b",
        r"\bwant (?:to be |to get )?(?:off|out of) (?:\S+ ){0,2}?(?:lists?|database|system)\b",
        rf"\b(?:i|we|i'm|im|i am|we're|we are) (?:hereby |now )?opt(?:ing)?[- ]?out{_ENDS}",
        r"\b(?:put|add|place) (?:me|us|my number|this number) (?:on|to) (?:your|the|ur|a)"
        r" (?:do[- ]not[- ](?:call|contact|text)|dnc)\b",
        r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding|retract|cancel|take back)"
        r" (?:my |all |any )?(?:consent|permission|authori[sz]ation)",
        r"\b(?:do not|don'?t|no longer|never|did not|didn'?t) (?:give |have )?(?:my )?consent\w*",
        r"\b(?:want|wish|like|need|how (?:do|can) i|let me|please) (?:to )?(?:unsubscribe|opt[- ]?out|be removed"
        rf"|be taken off)(?: (?:from|of) (?:\S+ ){{0,3}}?(?:{_NOUN}|{_LISTISH})\b|{_ENDS})",
    ]
)
_OPT_OUT_ES = "|".join(
    [
        rf"\bno (?:me |nos )?(?:\w+ )?{_ES_ASK}\b",
        r"\bno (?:me|nos) vuelvan a (?:llamar|escribir|mandar|enviar|contactar)",
        r"\b(?:dejen|deje|deja|paren|pare|para) de (?:mandar|enviar|escribir|llamar|contactar|textear|molestar)",
        r"\bno quiero que me (?:sigan )?(?:manden|envien|escriban|llamen|contacten|molesten)",
        r"\b(?:cancelar|detener|parar|suspender)(?: los| las| sus| todos los| estos)? (?:mensajes|textos|sms|llamadas"
        r"|correos|notificaciones|promociones)\b",
        r"\bno quiero (?:recibir |seguir recibiendo )?(?:\w+ ){0,2}(?:mensajes|textos|sms|llamadas|correos|promociones"
        r"|notificaciones|publicidad)",
        r"\b(?:basta|no mas|nada mas) (?:de )?(?:mensajes|textos|sms|llamadas|correos|promociones)\b",
        r"\b(?:saque|saca|quite|quita|borre|borra|elimine|elimina|retire|remueva)n?(?:me|nos)\b",
        r"\b(?:saque|saca|quite|quita|borre|borra|elimine|elimina|retire|remueva)n? (?:mi|este|mis) (?:numero"
        r"|telefono|celular|correo|contacto|nombre|datos)",
        r"\b(?:darme|denme|deme|dame|darnos) de baja\b|\bdar de baja (?:mi|este|el) (?:numero|telefono|celular)\b",
    ]
)
_OPT_OUT_FR = "|".join(
    [
        rf"\bne (?:m'|me |nous )?{_FR_SEND} (?:\w+ )?plus\b|\bne plus (?:me |m'|nous ){_FR_SEND}",
        r"\bne (?:veux|souhaite|desire) plus (?:recevoir|de |d'|etre (?:contacte|sollicite|appele|derange))",
        rf"\b(?:arretez|arrete|arreter|cessez|stoppez|stop) (?:de |d')(?:m'|me |nous )?{_FR_SEND}",
        r"\b(?:retirez|supprimez|enlevez|effacez|rayez|desinscrivez|desabonnez|radiez|desinscris|desabonne)[- ]"
        r"(?:moi|nous)\b",
        r"\b(?:retirez|supprimez|enlevez|effacez|rayez) (?:mon (?:numero|nom|adresse|contact|telephone)"
        r"|mes coordonnees)",
        r"\b(?:me|nous) (?:retirer|supprimer|enlever|radier|rayer) (?:de|du|des) (?:\w+ ){0,2}(?:liste|fichier"
        r"|base|contacts|envois)|\b(?:me|se) (?:desabonner|desinscrire)\b",
        r"\b(?:arretez|arreter|arrete|stoppez|cessez|stop) (?:les|vos|ces|tous les|toutes les"
        r"|d'envoyer (?:des|les|vos)) (?:messages|sms|textos|appels|mails|e-?mails|courriels|relances)\b",
        r"\blaissez[- ]moi tranquille|\b(?:fichez|foutez)[- ]moi la paix",
        r"(?:^|[.!?,;\n] *)plus (?:de |d')(?:messages|sms|textos|appels|mails|e-?mails|courriels|pub)\b",
    ]
)
_OPT_OUT_DE = "|".join(
    [
        rf"\bkeine (?:weiteren?|mehr) {_DE_NOUN}|\bkeine {_DE_NOUN}(?: \w+){{0,3}}? mehr\b",
        rf"\b{_NEVER_DE}(?: \w+)? {_DE_SEND}|\b{_DE_SEND} (?:sie )?(?:mich|mir|uns)(?: \w+){{0,2}}? {_NEVER_DE}",
        r"\bmelden sie (?:mich|uns) (?:\w+ )?ab\b|\btragen sie (?:mich|uns) (?:\w+ )?aus\b",
        r"\b(?:mich|uns) (?:bitte )?(?:abmelden|austragen|abbestellen)\b",
        rf"\bhor\w* (?:sie )?auf,?(?: \w+){{0,3}} {_DE_SEND}|\blass(?:en sie)? (?:mich|uns) (?:\w+ )?in ruhe\b",
        r"\b(?:losch|loesch|entfern|streich)\w*(?: \w+){0,2}? (?:meine \w*nummer|meine (?:kontakt)?daten"
        r"|meine e-?mail|mich)\b|\bmeine \w*nummer (?:\w+ ){0,2}(?:loschen|loeschen|entfernen|streichen)\b",
    ]
)
_OPT_IN = {
    "en": r"\b(?:start|resume|restart|continue) (?:\w+ )?(?:texting|messaging|sending) (?:me|us)\b|\b(?:get|receive"
    r"|getting|receiving|have|want|like)(?: \w+){0,2} (?:texts|messages|updates|alerts|notifications)(?: \w+){0,2}"
    r" again\b|\b(?:resubscribe|re-subscribe|opt (?:me )?back in|opt in again|sign me (?:back )?up again"
    r"|add me back|subscribe me again|put me back on)",
    "es": r"\bvolver a (?:recibir|suscribirme|estar en)|\bsuscribirme de nuevo|\b(?:reactiven|reanuden)",
    "fr": r"\breabonner|\bme reinscrire|\brecevoir (?:a nouveau|de nouveau|encore)|\brecommencer a",
    "de": r"\bwieder (?:anmelden|bekommen|erhalten|empfangen|aktivieren)|\berneut anmelden"
    r"|\bwieder (?:\w+ ){0,2}(?:nachrichten|sms)\b",
}
_REVIEW = {
    "en": r"\bnot (?:interested|intrested|intersted)\b|\bno need to (?:follow up|reach out|contact|call|text)"
    r"|\bno (?:longer )?interest|\bwrong (?:number|person|guy|#)"
    r"|\b(?:found|hired|went with|chose|picked|going with) (?:someone|somebody|another|a different|other)"
    r"|\balready (?:hired|found|went with|signed with|have (?:a|an|someone|somebody))\b|\btoo many (?:texts"
    r"|messages|calls|e-?mails|msgs)|\binstead of (?:texting|texts?|calling|messaging|sms)|\b(?:e-?mail|call)"
    r" me instead|\bprefer (?:e-?mail|a call|calls|phone)",
    "es": r"\bno (?:me )?interesa|\bno estoy interesad|\bnumero equivocado|\bya contrat|\bdemasiados mensajes"
    r"|\ben vez de (?:mensajes|textos)",
    "fr": r"\bpas interess|\bplus interess|\bmauvais numero|\berreur de numero|\btrop de messages",
    "de": r"\bkein interesse|\bnicht interessiert|\bfalsche nummer|\bzu viele nachrichten",
}
_OPT_OUT = {"en": _OPT_OUT_EN, "es": _OPT_OUT_ES, "fr": _OPT_OUT_FR, "de": _OPT_OUT_DE}
_SENTENCES = [
    (kind, lang, re.compile(pattern))
    for kind, table in (("opt_out", _OPT_OUT), ("opt_in", _OPT_IN), ("review", _REVIEW))
    for lang, pattern in table.items()
]
# Words before a request that turn it round: negated ("don't stop texting me"), or an instruction quoted back ("To stop
# receiving these emails, reply STOP" at the foot of a sales pitch).
_NOT_ASKING = re.compile(
    r"(?:\bdon'?t|\bdo not|\bdont|\bnever|\bdidn'?t|\bdid not|\bdoesn'?t|\bnot|\bno need to)\s+$"
    r"|(?:^|[.!?\n]\s*|\bif you (?:\w+ )?(?:want|wish|would like|prefer) )to\s+$"
    r"|\b(?:reply|text|respond|send)(?: with)?\s*['\"]?$"
)

# Words that keep a door open: a time or place, another channel, "but keep texting me". An opt-out that comes with
# them is for a person to read.
_DOOR_OPEN = re.compile(
    r"\b(?:at|during|while at|from) work\b|\b(?:after|before|past|until|till|til|between) (?:\d|noon|dark|work|hours"
    r"|business|[a-z]+day\b)|\bon (?:the )?weekends?\b|\bat night\b|\bin the (?:morning|evening)|\bduring the (?:day"
    r"|week)|\binstead\b|\b(?:keep|still) (?:texting|messaging|sending|calling|e-?mailing|me posted|me updated|want"
    r"|need)\b|\bbut (?:please |pls )?(?:text|call|e-?mail|keep|you can|still)\b|\b(?:call|text|e-?mail|reach|contact)"
    r" me (?:at|on|via|through)\b|\b(?:call|text|e-?mail|contact|reach) my (?:wife|husband|partner|office|assistant"
    r"|son|daughter|other|work|home)\b|\bmy (?:work|office) (?:phone|number|line|cell)\b|\bjust (?:e-?mail|call|text)\b"
    r"|(?<!t )(?<!not )(?<!never )\b(?:text|e-?mail|call) me\b|\b(?:new|other|different|old) (?:number|phone|cell)\b"
    r"|\b(?:en el|al|del) trabajo\b|\b(?:despues|antes) de las\b|\bfines? de semana\b|\ben vez de\b|\bpero (?:si"
    r"|sigan|manden|escriban|llamen)\b|\bau (?:travail|bureau)\b|\b(?:apres|avant) \d|\ble week-?end|\bplutot\b"
    r"|\bau lieu de\b|\bmais (?:continuez|envoyez|appelez|ecrivez)\b|\b(?:bei der|auf der) arbeit\b|\b(?:nach|vor)"
    r" \d|\bam wochenende\b|\bstatt(?:dessen)?\b|\baber (?:weiter|schreiben|anrufen)\b"
)
# Beside a bare keyword, a question or a plan means the keyword may be about something else ("Cancel. Can we do 11?").
_BUSINESS = re.compile(
    r"\?|\b(?:can|could|would|will) (?:you|u|we)\b|\breschedul|\bappointment|\bquote|\bestimate|\bwait\b|\bhold on"
    r"|\blet me\b|\bactually\b|\bi mean\b|\bnever ?mind\b"
)


def _words(forms: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each form (letters run together) to its language, exactly and with repeated letters squeezed."""
    exact = {word: lang for lang, words in forms.items() for word in words.split()}
    return exact, {_squeeze(word): lang for word, lang in reversed(exact.items())}  # the first form wins: STOP, en


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def _sub(pattern: str, replace, text: str, origin: list[int]) -> tuple[str, list[int]]:
    """``re.sub`` that keeps, for each character, the index of the original character it came from."""
    out, where, last = [], [], 0
    for match in re.finditer(pattern, text):
        new = replace(match)
        out += [text[last : match.start()], new]
        where += origin[last : match.start()] + [origin[match.start()]] * (len(new) - 1)
        where += [origin[match.end() - 1]] if new else []
        last = match.end()
    return "".join(out) + text[last:], where + origin[last:]


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as matched, and for each of its characters the index of the character of ``text`` it came from.

    NFKC (full-width letters), look-alike Cyrillic and Greek letters to Latin, case-folded, accents, zero-width
    characters, bidi marks and variation selectors dropped; digits inside words read as letters ("St0p"), spaced or
    dotted letters joined ("S.T.O.P"), a letter repeated three times or more read once ("stooop").
    """
    chars, origin = [], []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char).translate(_LOOKALIKE).casefold()
        for part in unicodedata.normalize("NFD", folded):
            if unicodedata.category(part) not in ("Mn", "Me", "Cf"):
                chars.append(part)
                origin.append(index)
    text = "".join(chars)
    text, origin = _sub(_LEET_AT, lambda m: m.group().translate(_LEET), text, origin)
    text, origin = _sub(_SPACED, lambda m: _only_letters(m.group()), text, origin)
    text, origin = _sub(r"([a-z])\1{2,}", lambda m: m.group(1), text, origin)
    return _sub(r"[^\S\n]+", lambda m: " ", text, origin)


def _only_letters(run: str) -> str:
    letters = re.sub(r"[^a-z]", "", run)
    return letters if len(letters) >= 3 else run  # "S.T.O.P" joins; "a b" stays two words


_STOP, _START, _YES, _HELP = (_words(forms) for forms in (_STOP_WORDS, _START_WORDS, _YES_WORDS, _HELP_WORDS))


def consent_reading(text: str, *, yes_opts_in: bool = False) -> ConsentReading:
    """Read what ``text``, an inbound reply, says about consent.

    ``yes_opts_in``: the message answers a re-subscribe prompt, so a bare YES (SI, OUI, JA) opts back in (CTIA);
    anywhere else a YES says nothing about consent.
    """
    norm, origin = normalise(text or "")
    quoted = _QUOTED.search(norm)
    norm = norm[: quoted.start()] if quoted and quoted.start() else norm  # the person's words, not what they answer

    def said(start: int, end: int) -> str:
        """The clause around norm[start:end], as written."""
        start = max((m.end() for m in _SEP.finditer(norm, 0, start)), default=0)
        end = next((m.start() for m in _SEP.finditer(norm, end)), len(norm))
        return text[origin[start] : origin[end - 1] + 1].strip(" \t\n.,;:!?-") if end > start else ""

    if not re.search(r"[^\W_]", norm):
        emoji = next((char for char in text if char in _STOP_EMOJI), "")
        return ConsentReading("review", "", emoji, "") if emoji else NOTHING
    found: dict[str, tuple[ConsentReading, str]] = {}  # kind -> (reading, the rest of the message)
    for kind, lang, pattern in _SENTENCES:
        match = kind not in found and next(
            (m for m in pattern.finditer(norm) if not _NOT_ASKING.search(norm, max(0, m.start() - 60), m.start())), None
        )
        if match:
            reading = ConsentReading(kind, "sentence" if kind != "review" else "", said(*match.span()), lang)
            found[kind] = (reading, norm[: match.start()] + " " + norm[match.end() :])
    if "opt_out" in found:
        reading, rest = found["opt_out"]
        return replace(reading, kind="review") if _DOOR_OPEN.search(rest) else reading

    clauses = _clauses(norm)
    for start, end, tokens in clauses:
        lang = _lookup(_STOP, tokens)
        if lang:
            others = " ".join(norm[s:e] for s, e, _ in clauses if s != start)
            # Beside other words, a keyword may be about something else, or be a footer quoted in a long email.
            busy = _DOOR_OPEN.search(others) or _BUSINESS.search(others) or len(_TOKEN.findall(others)) > 25
            kind = "review" if busy else "opt_out"
            return ConsentReading(kind, "keyword", said(start, end), lang)
    # Opting back in and asking for help take the whole message ("HELP my basement is flooding" is not HELP), but for
    # a signature of a word or two after a dash or on its own line ("START - Mike").
    signed = len(clauses) == 2 and len(clauses[1][2]) <= 2 and re.search(r"[-\n]", norm[clauses[0][1] : clauses[1][0]])
    alone = clauses[:1] if len(clauses) == 1 or signed else []
    for start, end, tokens in alone:
        for table, kind in ((_START, "opt_in"), (_HELP, "help")) + (((_YES, "opt_in"),) if yes_opts_in else ()):
            lang = _lookup(table, [t for t in tokens if t not in _AGAIN] if kind == "opt_in" else tokens)
            if lang:
                return ConsentReading(kind, "keyword", said(start, end), lang)
    return (found.get("opt_in") or found.get("review") or (NOTHING, ""))[0]


def _clauses(norm: str) -> list[tuple[int, int, list[str]]]:
    """The clauses of the message (start, end, words without courtesy), signatures ("Sent from my iPhone") left out.

    A keyword said twice counts once ("STOP STOP").
    """
    clauses, start = [], 0
    for end, after in [m.span() for m in _SEP.finditer(norm)] + [(len(norm), len(norm))]:
        words = [w for w in _TOKEN.findall(norm[start:end]) if w not in _COURTESY]
        words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
        if words and not _SIGNATURE.match(norm[start:end].strip()):
            clauses.append((start, end, words))
        start = after
    return clauses


def _lookup(table: tuple[dict[str, str], dict[str, str]], tokens: list[str]) -> str:
    """The language of the keyword the words run together make ("opt out", "S T O P"), or ""."""
    letters = "".join(tokens)
    exact, squeezed = table
    return exact.get(letters) or squeezed.get(_squeeze(letters)) or ""
