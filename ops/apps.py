from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # the tasks' names, the audit event types and the self-scan's own checks
        from ops import audit_events, tasks  # noqa: F401
        from ops.selfscan import dependencies, deploy, headers, register

        register("deploy", "Django check --deploy", deploy.run)
        register("headers", "Security headers and cookies", headers.run)
        register("dependencies", "Dependency audit (pip-audit)", dependencies.run)
