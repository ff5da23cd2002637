"""People (issue 14): the agency's members and their roles for whoever may see the staff list
(``users.view``); invitations (``users.invite``, the same per-user rate limit as the web);
role changes (``users.manage``, after a recent sign-in, as on the web) and deactivation
(``users.manage``), all through accounts.services as accounts/people_views.py does. The
services keep every rule (no role above your own, never the last admin) and record the
audit events."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access, policy, ratelimits
from accounts.forms import InviteForm, RoleForm
from accounts.models import Membership, Role
from accounts.services import invitations, members
from accounts.services.errors import ServiceError
from accounts.signin import flow
from api.agency_permission import agency_member, needs
from api.validation import json_object, validated

TAG = ["people"]


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership's id.")
    user_id = serializers.IntegerField(source="user.pk")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.full_name")
    role = serializers.ChoiceField(choices=Role.choices)
    is_active = serializers.BooleanField()
    joined_at = serializers.DateTimeField(source="created_at")
    deactivated_at = serializers.DateTimeField(allow_null=True)


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()


class DeactivatedSerializer(MemberSerializer):
    sessions_ended = serializers.IntegerField()


def _grantable(request) -> tuple[str, ...]:
    _, membership = agency_member(request)
    return policy.grantable_roles(membership.role)


def _member(request, membership_id: int) -> Membership:
    return access.get_membership_for(request.user, request.agency, membership_id)


class MemberList(APIView):
    permission_classes = [needs(policy.USERS_VIEW)]

    @extend_schema(
        tags=TAG,
        summary="The agency's members and their roles",
        responses=MemberSerializer(many=True),
    )
    def get(self, request) -> Response:
        people = access.memberships_for(request.user, request.agency)
        return Response(MemberSerializer(people, many=True).data)


class MemberDetail(APIView):
    permission_classes = [needs(policy.USERS_VIEW, policy.USERS_MANAGE)]

    @extend_schema(tags=TAG, summary="One member", responses=MemberSerializer)
    def get(self, request, membership_id: int) -> Response:
        return Response(MemberSerializer(_member(request, membership_id)).data)

    @extend_schema(
        tags=TAG,
        summary="Change a member's role (needs a recent sign-in)",
        request=RoleChangeSerializer,
        responses=MemberSerializer,
    )
    def patch(self, request, membership_id: int) -> Response:
        member = _member(request, membership_id)
        if not flow.recently_authenticated(request):
            raise exceptions.PermissionDenied(
                gettext("Changing a role needs a recent sign-in: confirm it's you, then retry.")
            )
        form = RoleForm(json_object(request.data), roles=_grantable(request))
        role = validated(form)["role"]
        try:
            changed = members.membership_change_role(
                membership=member, actor=request.user, role=role, http_request=request._request
            )
        except ServiceError as error:
            raise exceptions.ValidationError({"role": [str(error)]}) from None
        return Response(MemberSerializer(changed).data)


class MemberDeactivate(APIView):
    permission_classes = [needs(policy.USERS_MANAGE)]

    @extend_schema(
        tags=TAG,
        summary="Deactivate a member (their sessions here end at once)",
        request=None,
        responses=DeactivatedSerializer,
    )
    def post(self, request, membership_id: int) -> Response:
        member = _member(request, membership_id)
        try:
            ended = members.membership_deactivate(
                membership=member, actor=request.user, http_request=request._request
            )
        except ServiceError as error:
            raise exceptions.ValidationError({"non_field_errors": [str(error)]}) from None
        data = dict(MemberSerializer(_member(request, membership_id)).data)
        data["sessions_ended"] = ended
        return Response(data)


class InvitationCreate(APIView):
    permission_classes = [needs(policy.USERS_INVITE)]

    @extend_schema(
        tags=TAG,
        summary="Invite someone to join the agency's staff",
        request=InvitationSerializer,
        responses={201: InvitationSentSerializer},
    )
    def post(self, request) -> Response:
        if ratelimits.limited(
            request._request,
            group="invite_user",
            rate=settings.RATE_LIMIT_INVITE_PER_USER,
            key=lambda group, req: f"user:{req.user.pk}",
        ):
            raise exceptions.Throttled(
                wait=60, detail=gettext("Too many invitations; wait a minute and try again.")
            )
        form = InviteForm(json_object(request.data), roles=_grantable(request))
        data = validated(form)
        try:
            sent = invitations.invitation_create(
                agency=request.agency,
                actor=request.user,
                email=data["email"],
                role=data["role"],
                http_request=request._request,
            )
        except ServiceError as error:
            raise exceptions.ValidationError({"email": [str(error)]}) from None
        invitation = sent.invitation
        return Response(
            {
                "id": invitation.pk,
                "email": invitation.email,
                "role": invitation.role,
                "expires_at": invitation.expires_at.isoformat(),
            },
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [
    path("people/", MemberList.as_view(), name="people"),
    path("people/<int:membership_id>/", MemberDetail.as_view(), name="person"),
    path(
        "people/<int:membership_id>/deactivate/",
        MemberDeactivate.as_view(),
        name="person_deactivate",
    ),
    path("people/invitations/", InvitationCreate.as_view(), name="invitations"),
]
