"""Routing's screens and doors, one module each: cadences, the lead screens, Twilio Voice."""
