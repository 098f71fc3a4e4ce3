"""What happens to a lead that the floors above react to, declared where it happens (see config.reactions).

Each reaction lists, in order, the apps whose receivers run; they connect in ``AppConfig.ready()``.
Receivers run in the sender's transaction. Keyword arguments are given with each reaction.
"""

from config.reactions import Reaction

# lead, event: the lead wrote or called again (inside capture's transaction). Cadences that stop on a reply stop.
LEAD_REPLIED = Reaction("lead.replied", order=("routing",))
# lead, before, by: the lead's stage changed, whoever changed it. The CRM hears of it; cadences stop or start.
LEAD_STAGE_CHANGED = Reaction("lead.stage_changed", order=("integrations", "routing"))
# lead, reason: a person or the CRM closed the lead. Receivers return how many waiting actions they cancelled.
LEAD_CLOSED = Reaction("lead.closed", order=("approvals",), required=True)
# lead, how, actor, at: a person's first touch of the lead (its time is on the lead). The SLA clock stops.
LEAD_FIRST_TOUCH = Reaction("lead.first_touch", order=("routing",))
# lead, channel, reason: the lead opted out of a channel ("sms") or of everything (""). Receivers return how many
# waiting actions they cancelled; cadences stop.
LEAD_OPTED_OUT = Reaction("lead.opted_out", order=("approvals", "routing"), required=True)
# appointment, user: booked, before the lead's stage moves. Follow-ups a booking answers stop; reminders start.
APPOINTMENT_BOOKED = Reaction("appointment.booked", order=("routing",))
# appointment, user: sent last, once the booking and its stage change are applied: the CRM hears of the stage first.
APPOINTMENT_ANNOUNCED = Reaction("appointment.announced", order=("integrations",))
# appointment: moved (reminders are counted again) or cancelled (reminders stop).
APPOINTMENT_MOVED = Reaction("appointment.moved", order=("routing",))
APPOINTMENT_CANCELLED = Reaction("appointment.cancelled", order=("routing",))
# message: the provider reported an outbound message undelivered or failed. Its action fails (and may fall back).
MESSAGE_UNDELIVERED = Reaction("message.undelivered", order=("approvals",), required=True)
# person, leads, user: a person is being forgotten (leads.services.erasure), in its transaction, before the leads'
# own rows are blanked. Each app blanks its rows about the person (leads.privacy.Person) and returns
# {what: how many}. Required: an erasure that left an app's copies behind would pass for complete.
PERSON_FORGET = Reaction("person.forget", order=("integrations", "approvals", "routing"), required=True)
# person, leads: everything held about a person is being gathered (leads.services.export). Each app returns
# {section: [rows as dicts]}.
PERSON_EXPORT = Reaction("person.export", order=("integrations", "approvals", "routing"), required=True)
