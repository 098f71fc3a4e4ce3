from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        # Each channel module registers its webhook parser on import.
        from integrations import adsources, mail  # noqa: F401

        # What integrations does about things that happen to leads below it (config.reactions).
        from integrations.outbound import crm_appointment_announce, crm_stage_announce
        from integrations.privacy import integrations_export, integrations_forget
        from leads import reactions

        reactions.LEAD_STAGE_CHANGED.connect(crm_stage_announce, app=self.label)
        reactions.APPOINTMENT_ANNOUNCED.connect(crm_appointment_announce, app=self.label)
        reactions.PERSON_FORGET.connect(integrations_forget, app=self.label)
        reactions.PERSON_EXPORT.connect(integrations_export, app=self.label)
