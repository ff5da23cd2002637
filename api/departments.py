"""Departments (issue 14): staff read them (``departments.view``); admins create and rename
them (``departments.manage``) through the same form rules and service as the web's
department pages (requests_portal.admin_views)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from api.agency_permission import needs
from api.validation import validated
from requests_portal import access, admin_forms
from requests_portal.models import Department, Visibility
from requests_portal.services import agency_settings

TAG = ["departments"]


class DepartmentMemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.full_name")
    point_of_contact = serializers.BooleanField(source="is_point_of_contact")


class DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    default_visibility = serializers.ChoiceField(
        choices=[("", "The agency's default"), *Visibility.choices],
        required=False,
        allow_blank=True,
        help_text="Who sees requests routed here; empty: the agency's default.",
    )


class DepartmentDetailSerializer(DepartmentSerializer):
    members = DepartmentMemberSerializer(many=True, read_only=True)


def _saved(request, data: dict, department: Department | None = None) -> Department:
    # The web form's own rules (the name trimmed, unique in the agency).
    form = admin_forms.DepartmentForm(
        {"name": data.get("name", ""), "default_visibility": data.get("default_visibility", "")},
        agency=request.agency,
        instance=department,
    )
    cleaned = validated(form)
    return agency_settings.department_save(
        agency=request.agency,
        actor=request.user,
        department=department,
        name=cleaned["name"],
        default_visibility=cleaned["default_visibility"],
        http_request=request._request,
    )


def _detail(request, department: Department) -> dict:
    members = access.department_members_for(request.user, request.agency, department)
    data = dict(DepartmentSerializer(department).data)
    data["members"] = DepartmentMemberSerializer(members, many=True).data
    return data


class DepartmentList(APIView):
    permission_classes = [needs(policy.DEPARTMENTS_VIEW, policy.DEPARTMENTS_MANAGE)]

    @extend_schema(
        tags=TAG, summary="The agency's departments", responses=DepartmentSerializer(many=True)
    )
    def get(self, request) -> Response:
        departments = access.departments_for(request.user, request.agency)
        return Response(DepartmentSerializer(departments, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Create a department",
        request=DepartmentSerializer,
        responses={201: DepartmentDetailSerializer},
    )
    def post(self, request) -> Response:
        body = DepartmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        department = _saved(request, body.validated_data)
        return Response(_detail(request, department), status=status.HTTP_201_CREATED)


class DepartmentDetail(APIView):
    permission_classes = [needs(policy.DEPARTMENTS_VIEW, policy.DEPARTMENTS_MANAGE)]

    @extend_schema(
        tags=TAG, summary="A department and its members", responses=DepartmentDetailSerializer
    )
    def get(self, request, department_id: int) -> Response:
        department = access.get_department_for(request.user, request.agency, department_id)
        return Response(_detail(request, department))

    @extend_schema(
        tags=TAG,
        summary="Rename a department or change its default visibility",
        request=DepartmentSerializer,
        responses=DepartmentDetailSerializer,
    )
    def patch(self, request, department_id: int) -> Response:
        department = access.get_department_for(request.user, request.agency, department_id)
        body = DepartmentSerializer(department, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = {"name": department.name, "default_visibility": department.default_visibility}
        data.update(body.validated_data)
        return Response(_detail(request, _saved(request, data, department)))


urlpatterns = [
    path("departments/", DepartmentList.as_view(), name="departments"),
    path("departments/<int:department_id>/", DepartmentDetail.as_view(), name="department"),
]
