from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Importing directory and reasoning connects the signals that invalidate the cached configuration.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save
        from django_q.signals import post_spawn

        from approvals.reactions import ACTION_BOOK, ACTION_QUIET_HOURS, ACTION_SENT
        from integrations.outbound import SLACK_CHANNEL_FOR
        from leads import reactions
        from routing import cadences, directory, quiet, reasoning  # noqa: F401
        from routing.booking.actions import booking_action_carry
        from routing.booking.conversation import offers_close_on_opt_out
        from routing.handover import owner_deactivated
        from routing.privacy import routing_export, routing_forget
        from routing.sla import sla_on_first_touch
        from routing.tasks import worker_warm

        # What routing does about things that happen below it (config.reactions); tests/test_architecture.py
        # pins every receiver and its order.

        app = self.label
        reactions.LEAD_REPLIED.connect(cadences.cadences_on_reply, app=app)
        reactions.LEAD_STAGE_CHANGED.connect(cadences.cadences_on_stage, app=app)
        reactions.LEAD_FIRST_TOUCH.connect(sla_on_first_touch, app=app)
        reactions.LEAD_OPTED_OUT.connect(cadences.cadences_on_opt_out, app=app)
        reactions.LEAD_OPTED_OUT.connect(offers_close_on_opt_out, app=app)
        reactions.APPOINTMENT_BOOKED.connect(cadences.cadences_on_booking, app=app)
        reactions.APPOINTMENT_MOVED.connect(cadences.cadences_on_appointment_moved, app=app)
        reactions.APPOINTMENT_CANCELLED.connect(cadences.cadences_on_appointment_cancelled, app=app)
        ACTION_SENT.connect(cadences.cadences_on_sent, app=app)
        # The executor (approvals) asks here whether a text may go now: the law's rules and the lead's clock live here.
        ACTION_QUIET_HOURS.connect(quiet.action_quiet_hours, app=app)
        # The executor (approvals) carries out a Booking action here: free times, hosts and their locks live here.
        ACTION_BOOK.connect(booking_action_carry, app=app)
        SLACK_CHANNEL_FOR.connect(directory.team_slack_channel, app=app)
        reactions.PERSON_FORGET.connect(routing_forget, app=app)
        reactions.PERSON_EXPORT.connect(routing_export, app=app)
        # A Django signal, not a reaction: the user model is Django's, below every floor. After the directory's own
        # receiver (connected on import above), so the snapshot already knows the user cannot log in.
        post_save.connect(owner_deactivated, sender=get_user_model(), dispatch_uid="routing-owner-deactivated")
        # A django-q2 signal: each worker loads the models the first lead would otherwise wait for.
        post_spawn.connect(worker_warm, dispatch_uid="routing-worker-warm")
