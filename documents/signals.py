"""A new agency gets the usual redaction reasons, however it was created (the Django shell,
the demo seed, a future sign-up): "Redact" must never dead-end for want of a reason."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Agency
from accounts.tenancy import agency_context
from documents.agency_settings.services import reasons_setup_defaults


@receiver(post_save, sender=Agency, dispatch_uid="documents_agency_defaults")
def give_new_agency_redaction_reasons(sender, instance: Agency, created: bool, raw=False, **kwargs):
    if created and not raw:
        with agency_context(instance):
            reasons_setup_defaults(agency=instance)
