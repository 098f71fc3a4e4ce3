"""What the demo business hears and says: its channels and sources, the people who write, their words, and the
words its reps use when they edit, reject, quote and book. Data only; the story (routing.demo.story) draws from it."""

# (channel, source, weight): every door the product has, in the mix a home-services business sees.
DOORS = (
    ("form", "website-quote", 24),
    ("call", "twilio-voice", 17),
    ("sms", "twilio-sms", 12),
    ("email", "email", 9),
    ("chat", "website-chat", 8),
    ("ad", "facebook-lead-ads", 9),
    ("ad", "google-ads", 7),
    ("marketplace", "angi", 6),
    ("marketplace", "thumbtack", 4),
    ("api", "crm", 4),
)
# Doors whose form asks for the ZIP code (the rest give it only when the person writes it).
ASKS_ZIP = frozenset({"form", "ad", "marketplace", "api"})
# Which contact fields each door brings: (phone share, email share); at least one is always given.
CONTACT = {
    "form": (0.9, 0.8),
    "call": (1.0, 0.0),
    "sms": (1.0, 0.0),
    "email": (0.25, 1.0),
    "chat": (0.6, 0.6),
    "ad": (0.95, 0.9),
    "marketplace": (0.9, 0.7),
    "api": (0.9, 0.9),
}

# Where the business works: (state ISO code, phone area codes, ZIP codes). Texas is Ana's territory.
PLACES = (
    ("US-TX", ("512", "737"), ("78701", "78704", "78745", "78748", "78613", "78660")),
    ("US-TX", ("210",), ("78207", "78209", "78230")),
    ("US-OK", ("405",), ("73102", "73112", "73160")),
    ("US-LA", ("504",), ("70115", "70119", "70005")),
    ("US-AR", ("501",), ("72201", "72205", "72116")),
    ("US-CO", ("303",), ("80203", "80211", "80220")),
    ("US-NM", ("505",), ("87102", "87110", "87120")),
)

FIRST_NAMES = (
    "Dana", "Marcus", "Priya", "Tom", "Keisha", "Owen", "Lena", "Victor", "Grace", "Hassan", "Nora", "Caleb",
    "Mei", "Jordan", "Ruth", "Andre", "Tessa", "Wade", "Ingrid", "Felix", "Joy", "Samir", "Holly", "Reggie",
    "Colleen", "Dmitri", "Bea", "Terrence", "Lucy", "Omar", "Paige", "Emmett", "Yuki", "Darnell", "Fiona", "Gus",
)  # fmt: skip
LAST_NAMES = (
    "Whitfield", "Okafor", "Raman", "Brennan", "Coleman", "Nguyen", "Hartley", "Alvarez", "Kowalski", "Price",
    "Lindqvist", "Abbott", "Chen", "Delgado", "Fischer", "Grant", "Holloway", "Ibarra", "Jensen", "Kaur", "Larsen",
    "Moreau", "Novak", "Osei", "Patel", "Quinn", "Russo", "Sato", "Tran", "Underwood", "Vance", "Walsh",
)  # fmt: skip
SPANISH_FIRST = ("María", "José", "Lucía", "Alejandro", "Carmen", "Javier", "Rosa", "Diego")
SPANISH_LAST = ("García", "Hernández", "López", "Martínez", "Ramírez", "Torres", "Flores", "Morales")

# What people who may buy write first: (text, weight). The reasoning provider reads each as the pipeline would.
SALES_MESSAGES = (
    ("Hi, I need a quote to replace my roof, about 2,000 sq ft. Budget around $15k.", 6),
    ("Can you give me a ballpark for new gutters on a two-story house?", 5),
    ("Looking to get a price on replacing 8 windows before winter", 5),
    ("Need siding repaired on the north wall, about 300 sq ft", 4),
    ("Do you install seamless gutters? How long does it take?", 4),
    ("Can you stop by Thursday to look at a leak over the garage?", 4),
    ("Interested in a metal roof for a 1,800 sq ft ranch house, want it done this spring", 4),
    ("Window replacement estimate please, 12 double hung windows", 4),
    ("We had hail damage last night, some shingles are missing. Can someone come look?", 3),
    ("I'm a customer from last year, the flashing you installed is leaking again", 2),
    ("Roof repair quote please, a few shingles blew off in the storm", 4),
    ("Need a new roof on a rental property, budget $10-12k, hoping for next month", 3),
)
SPANISH_MESSAGES = (
    ("Hola, necesito un presupuesto para cambiar el techo de mi casa", 1),
    ("Buenas tardes, quisiera una cotización para canaletas nuevas", 1),
)
# Noise: what a person must never be asked to answer (spam, job seekers, vendors).
NOISE_MESSAGES = (
    ("Buy cheap SEO backlinks now!!! Guaranteed first page", 3),
    ("Are you hiring roofers? I have 5 years experience", 2),
    ("We are a lead generation agency and can send you 50 roofing leads a week", 2),
    ("Crypto investment opportunity, 300% returns, reply YES", 1),
)
CALL_MESSAGE = "Inbound call"
# A person's reply to our first message; {zip} is filled when they answer the question for it.
REPLIES = (
    "Sure, {zip}. Weekday mornings are best.",
    "Thanks! Tuesday afternoon works for us. We're in {zip}.",
    "Yes please, call me after 4. Zip is {zip}.",
    "Great, thanks for getting back so fast. {zip}",
)

# How reps change a draft before approving it: (old words, new words); the first that fits is used.
EDITS = (
    ("What's the best time for a quick call about your project?", "Could I call you today or tomorrow about it?"),
    ("Any questions about the quote we sent?", "Did the quote make sense? I can walk you through the numbers."),
    ("Would you like to book a time to get started?", "We have openings next week if you'd like to get started."),
    ("Reply here", "Text me back"),
    ("Happy to walk you through it.", "Happy to go over it on the phone."),
    ("Reply if you need to change it.", "Just text back if the time no longer works."),
    ("Would you leave us a quick review?", "A short review would mean a lot to our crew."),
)
EDIT_TAIL = " Thanks!"
REJECTIONS = (
    "Already talked to them on the phone.",
    "They booked with us by phone yesterday.",
    "Wrong tone for this customer, I'll write myself.",
    "Duplicate: their spouse contacted us too.",
)
# A quote a rep sends: (job, amount in dollars).
QUOTES = (
    ("roof replacement, 2,000 sq ft, architectural shingles", 14800),
    ("seamless gutters, 160 ft with downspouts", 2650),
    ("8 vinyl double-hung windows, installed", 7400),
    ("siding repair, north wall, 300 sq ft", 3900),
    ("roof repair and new flashing around the chimney", 1850),
    ("metal roof, 1,800 sq ft, standing seam", 21500),
)
CALL_NOTES = (
    "Called back, left a voicemail.",
    "Talked to them: wants a visit next week.",
    "Called, they had already hired someone.",
)
LOCATIONS = ("Site visit at the property", "Phone consultation", "Showroom, 1200 Congress Ave")
