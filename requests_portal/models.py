from django.conf import settings
from django.db import models

from accounts.models import TenantOwned


class Department(TenantOwned):
    """A part of the agency that answers requests (Police, City Clerk, ...)."""

    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="DepartmentMember", related_name="departments"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="department_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMember(TenantOwned):
    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    is_point_of_contact = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "department", "user"], name="department_member_unique"
            ),
        ]
