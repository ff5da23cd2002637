from typing import Any

from django.core.management.base import BaseCommand

from vault import signing


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 key pair for the audit seals: the private key goes into the "
        "environment (AUDIT_SEAL_PRIVATE_KEY) and nowhere else; the public key is published "
        "(AUDIT_SEAL_PUBLIC_KEY, and to the agencies' auditors)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        private = signing.new_private_key_text()
        public = signing.parse_private_key(private).public_key()
        self.stdout.write(f"AUDIT_SEAL_PRIVATE_KEY={private}")
        self.stdout.write(f"AUDIT_SEAL_PUBLIC_KEY={signing.public_key_text(public)}")
        self.stdout.write(f"# key id {signing.key_id(public)}")
