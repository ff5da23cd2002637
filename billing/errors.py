"""The one exception every billing service raises when a rule refuses a change (an amount
out of range, an invoice already sent, a payment larger than what is owed). Views catch it
and show its message; nothing of the refused change is kept."""


class BillingError(Exception):
    """A rule refused the change; the message is for the person who asked."""
