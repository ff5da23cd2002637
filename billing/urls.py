"""Billing's pages, under the namespace "billing" (config/urls.py includes them)."""

from django.urls import path

from billing.views import reports

app_name = "billing"

urlpatterns = [
    path("staff/billing/reports/fees/", reports.fee_report, name="fee_report"),
]
