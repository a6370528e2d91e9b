"""Every write and check of ClearML API credentials and of the tokens ``auth.login`` answers with.

A token is a JWT (HS256, PyJWT) with the claims ClearML's client reads (``api_version``, ``feature_set``,
``server_version``, ``exp``) plus the user and the credential it was issued for. Each call checks the
signature, the expiry and that the credential is still active, so revoking a pair ends its tokens at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from clearml_api.models import ApiCredential
from hyperdatasets.exceptions import InvalidInput, NotFound

ACCESS_KEY_LENGTH = 24
SECRET_LENGTH = 40
# What the tokens claim: the API version ClearML's Hyper-Datasets calls need (the client picks its v2_23
# services from it), the enterprise feature set they check for, and a server version at which
# field_mappings are allowed (3.25).
API_VERSION = "2.31"
SERVER_VERSION = "3.25.0"
FEATURE_SET = "advanced"
BAD_CREDENTIALS_MESSAGE = "Unauthorized (invalid credentials)"
TOKEN_SECONDS = 24 * 3600
TOKEN_MAX_SECONDS = 30 * 24 * 3600
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signing_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"clearml-api-tokens", hashlib.sha256).digest()


def credential_create(user, label: str = "") -> tuple[ApiCredential, str]:
    """A new pair for ``user``: the credential (its ``access_key``) and the secret, which is not kept."""
    if user is None or not user.is_active:
        raise InvalidInput.for_field("user", "must be an active user")
    label = (label or "").strip()
    if len(label) > 255 or not label.isprintable():
        raise InvalidInput.for_field("label", "must be printable text of at most 255 characters")
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    while True:
        key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(ACCESS_KEY_LENGTH))
        if not ApiCredential.objects.filter(access_key=key).exists():
            break
    credential = ApiCredential.objects.create(user=user, access_key=key, secret_sha256=_sha256(secret), label=label)
    return credential, secret


def credential_revoke(credential: ApiCredential) -> ApiCredential:
    if credential.revoked is None:
        credential.revoked = timezone.now()
        credential.save(update_fields=["revoked"])
    return credential


def credential_for_user(user, credential_id) -> ApiCredential:
    found = ApiCredential.objects.filter(user=user, pk=credential_id).first()
    if found is None:
        raise NotFound(f"credential {credential_id} does not exist")
    return found


def credential_check(access_key: str, secret: str) -> ApiCredential | None:
    """The active credential of this pair whose user is active, or None (the same answer for every mismatch)."""
    active = ApiCredential.objects.select_related("user").filter(revoked__isnull=True)
    credential = active.filter(access_key=access_key).first()
    expected = credential.secret_sha256 if credential is not None else _sha256("")
    matches = hmac.compare_digest(expected, _sha256(secret))
    if credential is None or not matches or not credential.user.is_active:
        return None
    now = timezone.now()
    if credential.last_used is None or now - credential.last_used > timedelta(minutes=1):
        ApiCredential.objects.filter(pk=credential.pk).update(last_used=now)
    return credential


def token_issue(credential: ApiCredential, expiration_sec: int | None = None) -> str:
    seconds = TOKEN_SECONDS if expiration_sec is None else expiration_sec
    if type(seconds) is not int or not 1 <= seconds <= TOKEN_MAX_SECONDS:
        raise InvalidInput.for_field("expiration_sec", f"must be an integer from 1 to {TOKEN_MAX_SECONDS}")
    now = int(time.time())
    user = credential.user
    claims = {"user": str(user.pk), "cred": str(credential.pk), "identity": {
        "user": str(user.pk), "user_name": user.get_username(), "company": "hyperdatasets", "role": "user"},
        "api_version": API_VERSION, "server_version": SERVER_VERSION, "feature_set": FEATURE_SET,
        "iat": now, "exp": now + seconds}
    return jwt.encode(claims, _signing_key(), algorithm="HS256")


class TokenRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TokenUser:
    user: object
    credential_id: str


def token_user(token: str) -> TokenUser:
    """The user a token was issued to, while it is unexpired and its credential active (else TokenRefused)."""
    try:
        claims = jwt.decode(token, _signing_key(), algorithms=["HS256"], options={"require": ["exp", "cred"]})
    except jwt.ExpiredSignatureError:
        raise TokenRefused("the token has expired") from None
    except jwt.PyJWTError:
        raise TokenRefused("the token is not valid") from None
    credential = ApiCredential.objects.select_related("user").filter(pk=claims["cred"], revoked__isnull=True).first()
    if credential is None or not credential.user.is_active or str(credential.user_id) != str(claims.get("user")):
        raise TokenRefused("the token's credential was revoked")
    return TokenUser(credential.user, str(credential.pk))


def user_by_name(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user
