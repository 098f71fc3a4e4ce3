from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        # What approvals does about things that happen to leads below it (config.reactions).
        from approvals.services import action_undelivered, actions_cancel_waiting
        from approvals.services.privacy import actions_export, actions_forget
        from approvals.services.proposing import actions_cancel_on_opt_out, opt_out_confirm
        from leads import reactions

        reactions.LEAD_CLOSED.connect(actions_cancel_waiting, app=self.label)
        reactions.LEAD_OPTED_OUT.connect(actions_cancel_on_opt_out, app=self.label)
        reactions.LEAD_OPTED_OUT.connect(opt_out_confirm, app=self.label)
        reactions.MESSAGE_UNDELIVERED.connect(action_undelivered, app=self.label)
        reactions.PERSON_FORGET.connect(actions_forget, app=self.label)
        reactions.PERSON_EXPORT.connect(actions_export, app=self.label)
