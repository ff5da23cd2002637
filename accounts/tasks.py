from typing import Unpack

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

from accounts.jobs import Email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(**email: Unpack[Email]) -> None:
    """Send one rendered email (accounts.jobs.send_email queues it)."""
    message = EmailMultiAlternatives(
        email["subject"], email["body"], email.get("from_email"), email["to"]
    )
    if html_body := email.get("html_body"):
        message.attach_alternative(html_body, "text/html")
    message.send()
