from django.urls import path

from requests_portal import (
    admin_views,
    converters,  # noqa: F401  (registers <number:...>)
)
from requests_portal.views import actions, archive, departments, queue, resident, staff_request

public_urlpatterns = [
    path("requests/new/", resident.request_new, name="request_new"),
    path("requests/similar/", resident.request_similar, name="request_similar"),
    path("requests/mine/", resident.my_requests, name="my_requests"),
    path("requests/<number:number>/", resident.request_detail, name="request_detail"),
    path("requests/<number:number>/reply/", resident.request_reply, name="request_reply"),
    path("archive/", archive.archive, name="archive"),
]

staff_urlpatterns = [
    path("departments/", departments.department_list, name="department_list"),
    path(
        "departments/<int:department_id>/", departments.department_detail, name="department_detail"
    ),
    path("departments/new/", admin_views.department_new, name="department_new"),
    path(
        "departments/<int:department_id>/edit/",
        admin_views.department_edit,
        name="department_edit",
    ),
    path(
        "departments/<int:department_id>/members/",
        admin_views.department_member,
        name="department_member",
    ),
    path("settings/", admin_views.request_settings, name="settings"),
    path("reports/", admin_views.report, name="report"),
    path("settings/templates/", admin_views.templates, name="templates"),
    path(
        "settings/templates/<int:template_id>/delete/",
        admin_views.template_delete,
        name="template_delete",
    ),
    path("settings/request-types/", admin_views.request_types, name="request_types"),
    path(
        "settings/request-types/<int:type_id>/toggle/",
        admin_views.request_type_toggle,
        name="request_type_toggle",
    ),
    path("settings/custom-fields/", admin_views.custom_fields, name="custom_fields"),
    path(
        "settings/custom-fields/<int:field_id>/toggle/",
        admin_views.custom_field_toggle,
        name="custom_field_toggle",
    ),
    path("notifications/", admin_views.notification_preferences, name="notifications"),
    path("settings/holidays/", admin_views.holidays, name="holidays"),
    path(
        "settings/holidays/defaults/",
        admin_views.holidays_load_defaults,
        name="holidays_load_defaults",
    ),
    path(
        "settings/holidays/<int:holiday_id>/remove/",
        admin_views.holiday_remove,
        name="holiday_remove",
    ),
    path("settings/closure-reasons/", admin_views.closure_reasons, name="closure_reasons"),
    path(
        "settings/closure-reasons/<int:reason_id>/toggle/",
        admin_views.closure_reason_toggle,
        name="closure_reason_toggle",
    ),
    path("requests/", queue.staff_queue, name="request_queue"),
    path("requests/new/", staff_request.staff_request_new, name="request_new"),
    path("requests/<number:number>/", staff_request.staff_request_detail, name="request_detail"),
    path(
        "requests/<number:number>/acknowledge/",
        actions.staff_acknowledge,
        name="request_acknowledge",
    ),
    path("requests/<number:number>/message/", actions.staff_message, name="request_message"),
    path("requests/<number:number>/route/", actions.staff_route, name="request_route"),
    path("requests/<number:number>/pause/", actions.staff_pause, name="request_pause"),
    path("requests/<number:number>/resume/", actions.staff_resume, name="request_resume"),
    path("requests/<number:number>/extend/", actions.staff_extend, name="request_extend"),
    path("requests/<number:number>/due-date/", actions.staff_due_date, name="request_due_date"),
    path("requests/<number:number>/close/", actions.staff_close, name="request_close"),
    path("requests/<number:number>/reopen/", actions.staff_reopen, name="request_reopen"),
    path(
        "requests/<number:number>/visibility/", actions.staff_visibility, name="request_visibility"
    ),
    path(
        "requests/<number:number>/description-review/",
        actions.staff_release_description,
        name="request_description_review",
    ),
    path("requests/<number:number>/tasks/", actions.staff_task_add, name="request_task_add"),
    path(
        "requests/<number:number>/tasks/<int:task_id>/done/",
        actions.staff_task_done,
        name="request_task_done",
    ),
    path("requests/<number:number>/tags/", actions.staff_tags, name="request_tags"),
    path("requests/<number:number>/time/", actions.staff_time_log, name="request_time_log"),
    path(
        "requests/<number:number>/time/<int:entry_id>/",
        actions.staff_time_update,
        name="request_time_update",
    ),
]
