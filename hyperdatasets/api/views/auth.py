from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from hyperdatasets.api.bodies import OrjsonParser
from hyperdatasets.api.views.common import APIView


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token (throttled)."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    parser_classes = [OrjsonParser]

    @extend_schema(
        request=inline_serializer("TokenIn", {"username": serializers.CharField(),
                                              "password": serializers.CharField()}),
        responses=inline_serializer("TokenOut", {"token": serializers.CharField()}),
    )
    def post(self, request, *args, **kwargs):
        credentials = self.get_serializer(data=request.data)
        if not credentials.is_valid() and set(credentials.errors) == {"non_field_errors"}:
            # Well-formed, but not a user's username and password: not signed in, like a bad token.
            raise AuthenticationFailed("these credentials do not match an active user")
        return super().post(request, *args, **kwargs)


class MeView(APIView):
    @extend_schema(responses=inline_serializer("MeOut", {
        "username": serializers.CharField(), "is_superuser": serializers.BooleanField()}))
    def get(self, request):
        return Response({"username": request.user.get_username(), "is_superuser": request.user.is_superuser})
