"""``python -m tests.stripe_server [--host 127.0.0.1] [--port 12111]``: the local Stripe for the
demo (``make run`` starts it when STRIPE_API_BASE is not set to something else)."""

from __future__ import annotations

import argparse

from tests.stripe_server.server import LocalStripeServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    options = parser.parse_args()
    server = LocalStripeServer((options.host, options.port))
    print(f"Local Stripe (test mode, nothing is charged) on {server.base}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
