"""The agency admin's form for the agency's own reply mailbox (IMAP)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mailin import imap
from mailin.models import Mailbox, MailboxSecurity


class MailboxForm(forms.Form):
    host = forms.CharField(
        label=_("Mail server"),
        max_length=253,
        help_text=_("Its name, such as imap.example.gov. It must be reachable from the internet."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    security = forms.ChoiceField(
        label=_("Encryption"),
        choices=MailboxSecurity.choices,
        initial=MailboxSecurity.TLS,
        widget=forms.RadioSelect,
    )
    port = forms.IntegerField(
        label=_("Port"),
        min_value=1,
        max_value=65535,
        initial=993,
        help_text=_("993 for TLS, usually 143 for STARTTLS."),
    )
    username = forms.CharField(
        label=_("User name"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=500,
        required=False,
        strip=False,
        # Never sent back to the page: the stored one is kept when this is left empty.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    folder = forms.CharField(
        label=_("Folder"), max_length=200, initial="INBOX", help_text=_("Usually INBOX.")
    )
    enabled = forms.BooleanField(
        label=_("Read this mailbox every five minutes"), required=False, initial=True
    )

    def __init__(self, *args: Any, existing: Mailbox | None = None, **kwargs: Any) -> None:
        self.existing = existing
        super().__init__(*args, **kwargs)
        if existing is not None:
            self.fields["password"].help_text = _("Leave it empty to keep the stored password.")
        else:
            self.fields["password"].required = True

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip().rstrip(".").lower()
        if not host or any(ch.isspace() or ch in "/:@[]" for ch in host):
            raise forms.ValidationError(
                _("Enter the server's name only, such as imap.example.gov.")
            )
        return host

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        host, port = cleaned.get("host"), cleaned.get("port")
        if host and port:
            # Checked when saved (a field error) and again before every connection.
            try:
                imap.checked_address(host, port)
            except imap.MailboxError as error:
                self.add_error("host", str(error))
        return cleaned
