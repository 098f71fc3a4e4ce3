"""The demo business and its history (``manage.py seed_demo --history DAYS``): leads on every channel over the
business's days, nights and weekends, before and after automation, written as the services write them.

``seed`` runs it; ``journey`` (a lead's way), ``following`` (replies, quotes, appointments, cadences), ``acting``
(proposals, decisions, sends) and ``story`` (routing, the SLA, the agenda) tell it; ``rows`` writes it in bulk;
``catalog`` and ``clock`` hold its words and its moments.
"""
