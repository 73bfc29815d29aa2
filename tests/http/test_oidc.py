"""Single sign-on against a real local OpenID Connect provider (issue 5, ``http/oidc.py``).

The provider is an aiohttp application on a loopback port: discovery, a JWKS with an RSA
key made here, ``/authorize`` that redirects straight back with a code (it checks
``response_type``, the client and the PKCE method), and ``/token`` that checks the client
secret, the redirect URI and the PKCE verifier, hands each code out once, and signs an
id_token with claims the test chooses. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from switchboard.accounts.model import Account, Role
from switchboard.http.app import build_app
from switchboard.http.context import SIGN_IN_PROVIDER
from switchboard.http.oidc import OidcConfigError
from switchboard.settings.config import ConfigError, load_settings
from switchboard.settings.http import HttpSettings
from switchboard.settings.oidc import OidcSettings, Provision
from switchboard.settings.resources import bundled
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Seeded, StepClock, open_env, open_seeded

CLIENT_ID = "switchboard-test"
CLIENT_SECRET = "s3cret value/with+odd:chars"  # noqa: S105 - the fake provider's test secret
SECRET_ENV = "SB_TEST_OIDC_SECRET"  # noqa: S105 - a variable name
RECEPTION_GROUP = "6f1c0a8e-reception"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Code:
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class FakeProvider:
    """A small but strict OpenID provider; tests steer it through its attributes."""

    clock: StepClock
    issuer: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    kid: str = "key-1"
    published: list[tuple[str, rsa.RSAPrivateKey]] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    """Added to (or replacing) the standard claims of the next id_tokens."""
    token_hook: Callable[[dict[str, Any]], str] | None = None
    """When set, makes the id_token from the claims instead of signing with ``key``."""
    codes: dict[str, Code] = field(default_factory=dict)
    pkce_checked: int = 0
    pkce_failures: int = 0
    jwks_fetches: int = 0

    def __post_init__(self) -> None:
        self.published.append((self.kid, self.key))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        self.jwks_fetches += 1
        keys = []
        for kid, key in self.published:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": keys})

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != CLIENT_ID
            or q.get("code_challenge_method") != "S256"
            or "openid" not in q.get("scope", "").split()
        ):
            return web.Response(status=400, text="bad authorization request")
        code = secrets.token_urlsafe(16)
        self.codes[code] = Code(q["redirect_uri"], q["code_challenge"], q["nonce"])
        back = URL(q["redirect_uri"]).update_query(code=code, state=q["state"])
        return web.Response(status=302, headers={"Location": str(back)})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        code = self.codes.pop(str(form.get("code")), None)  # each code works once
        if code is None or form.get("redirect_uri") != code.redirect_uri:
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        self.pkce_checked += 1
        if _b64(hashlib.sha256(verifier.encode()).digest()) != code.challenge:
            self.pkce_failures += 1
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(self.clock.now().timestamp())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "00000000-sub",
            "iat": now,
            "exp": now + 600,
            "nonce": code.nonce,
            **self.claims,
        }
        if self.token_hook is not None:
            id_token = self.token_hook(claims)
        else:
            id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return web.json_response(
            {"access_token": "at", "token_type": "Bearer", "id_token": id_token}
        )

    def rotate(self) -> None:
        """A new signing key under a new kid, published beside the old one."""
        self.key, self.kid = _new_key(), f"key-{len(self.published) + 1}"
        self.published.append((self.kid, self.key))


@dataclass
class Sso:
    seeded: Seeded
    provider: FakeProvider
    client: TestClient[web.Request, web.Application]
    app: web.Application

    async def account(self, username: str) -> Account | None:
        return await self.seeded.runtime.accounts.find(username)

    async def audit_actions(self, subject: str) -> list[str]:
        entries = await self.seeded.runtime.engine.store.audit(1000, subject)
        return [e.action for e in entries]

    def person_id(self, extension: str) -> str:
        person = self.seeded.runtime.engine.view.person_by_extension(extension)
        assert person is not None
        return person.person_id


def settings_for(issuer: str, provision: Provision = "link") -> OidcSettings:
    return OidcSettings(
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret_env=SECRET_ENV,
        display_name="Sign in with Microsoft",
        roles=MappingProxyType({RECEPTION_GROUP: Role.RECEPTIONIST}),
        provision=provision,
    )


@contextlib.asynccontextmanager
async def open_sso(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provision: Provision = "link"
) -> AsyncIterator[Sso]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    async with open_seeded(tmp_path) as seeded:
        fake = FakeProvider(seeded.clock)
        async with TestServer(fake.app()) as provider_server:
            fake.issuer = str(provider_server.make_url("")).rstrip("/")
            settings = HttpSettings(oidc=settings_for(fake.issuer, provision))
            app = build_app(seeded.runtime, settings)
            async with TestClient(TestServer(app)) as client:
                yield Sso(seeded, fake, client, app)


@pytest.fixture
async def sso(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sso]:
    async with open_sso(tmp_path, monkeypatch) as opened:
        yield opened


ANNA = {"sub": "sub-anna", "preferred_username": "t.anna", "email": "anna.berg@sotenas.example"}


async def to_callback(sso: Sso) -> str:
    """Start a sign-in and pass the provider: the callback URL, not yet visited."""
    start = await sso.client.get("/signin/oidc", allow_redirects=False)
    assert start.status == 302, await start.text()
    authorize = await sso.client.session.get(start.headers["Location"], allow_redirects=False)
    assert authorize.status == 302, await authorize.text()
    return authorize.headers["Location"]


async def callback(sso: Sso, url: str) -> ClientResponse:
    return await sso.client.session.get(url, allow_redirects=False, headers={"Accept": "text/html"})


async def sign_in(sso: Sso) -> ClientResponse:
    return await callback(sso, await to_callback(sso))


def session_cookie(response: ClientResponse) -> str | None:
    morsel = response.cookies.get("sb_session")
    return morsel.value if morsel is not None and morsel.value else None


async def assert_refused(response: ClientResponse, status: int = 400) -> str:
    """A refusal: the status, an error id, no session cookie; returns the body."""
    body = await response.text()
    assert response.status == status, body
    assert '<code id="error-id">' in body  # the framed error page (issue 16)
    assert session_cookie(response) is None
    return body


async def preview_status(sso: Sso, extension: str) -> int:
    url = f"/api/v1/people/{sso.person_id(extension)}/route-preview"
    return (await sso.client.get(url)).status


# -- success ----------------------------------------------------------------------------------


async def test_sign_in_following_redirects_makes_a_session_with_roles_from_groups(
    sso: Sso,
) -> None:
    sso.provider.claims = {**ANNA, "groups": [RECEPTION_GROUP, "some-other-group"]}
    response = await sso.client.get("/signin/oidc?next=/api/v1/people")
    assert response.status == 200, await response.text()
    steps = [(r.status, r.url.path) for r in response.history]
    assert steps == [(302, "/signin/oidc"), (302, "/authorize"), (302, "/signin/oidc/callback")]
    assert response.url.path == "/api/v1/people"  # the ?next= path, read with the new session
    assert response.history[-1].cookies["sb_session"]["httponly"]
    assert sso.provider.pkce_checked == 1
    assert sso.provider.pkce_failures == 0

    # Matched by username to t.anna; receptionist from the group.
    anna = await sso.account("t.anna")
    assert anna is not None
    assert anna.roles == {Role.EMPLOYEE, Role.RECEPTIONIST}
    assert await preview_status(sso, OTHER_EXT) == 200  # a receptionist previews anyone
    actions = await sso.audit_actions("account:t.anna")
    assert "account_roles_changed" in actions
    assert "signed_in" in actions

    # Next sign-in without the group: the role goes again (and that is audited too).
    sso.provider.claims = {**ANNA, "groups": ["some-other-group"]}
    again = await sign_in(sso)
    assert again.status == 302
    assert again.headers["Location"] == "/"
    assert session_cookie(again) is not None
    anna = await sso.account("t.anna")
    assert anna is not None
    assert anna.roles == {Role.EMPLOYEE}
    assert await preview_status(sso, OTHER_EXT) == 403
    assert await preview_status(sso, EMPLOYEE_EXT) == 200
    assert (await sso.audit_actions("account:t.anna")).count("account_roles_changed") == 2


async def test_sign_in_rotates_the_session(sso: Sso) -> None:
    sso.provider.claims = dict(ANNA)
    first = session_cookie(await sign_in(sso))
    second = session_cookie(await sign_in(sso))
    assert first
    assert second
    assert first != second
    assert await sso.seeded.runtime.accounts.session(first) is None  # revoked
    assert await sso.seeded.runtime.accounts.session(second) is not None


def test_the_sign_in_page_learns_the_provider(sso: Sso) -> None:
    provider = sso.app[SIGN_IN_PROVIDER]
    assert provider.display_name == "Sign in with Microsoft"
    assert provider.start_url == "/signin/oidc"


# -- the flow refused -------------------------------------------------------------------------


async def test_wrong_state_is_refused(sso: Sso) -> None:
    sso.provider.claims = dict(ANNA)
    url = URL(await to_callback(sso))
    forged = url.update_query(state="x" * 43)
    body = await assert_refused(await callback(sso, str(forged)))
    assert "expired or was already used" in body
    assert sso.provider.pkce_checked == 0  # the code was never even exchanged


async def test_replayed_callback_is_refused(sso: Sso) -> None:
    sso.provider.claims = dict(ANNA)
    url = await to_callback(sso)
    assert session_cookie(await callback(sso, url)) is not None
    await assert_refused(await callback(sso, url))


async def test_callback_from_another_browser_is_refused(sso: Sso) -> None:
    """Login CSRF: an attacker's callback URL opened in the victim's browser."""
    sso.provider.claims = dict(ANNA)
    url = await to_callback(sso)
    sso.client.session.cookie_jar.clear()
    await assert_refused(await callback(sso, url))


async def test_pkce_binds_the_code_to_the_flow_that_asked_for_it(sso: Sso) -> None:
    """A code obtained in one flow, injected into another's callback, fails at the token
    endpoint: the verifier sent is the other flow's (RFC 7636 section 1)."""
    sso.provider.claims = dict(ANNA)
    code_a = URL(await to_callback(sso)).query["code"]
    url_b = URL(await to_callback(sso))
    injected = url_b.update_query(code=code_a)
    body = await assert_refused(await callback(sso, str(injected)))
    assert sso.provider.pkce_failures == 1
    assert "invalid_grant" not in body  # the provider's answer stays in the log


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "another-nonce"},
        {"aud": "someone-else"},
        {"aud": [CLIENT_ID, "someone-else"]},  # several audiences need azp = us
        {"iss": "https://evil.example"},
        {"exp": 0},
    ],
    ids=["wrong-nonce", "wrong-aud", "foreign-azp", "wrong-iss", "expired"],
)
async def test_bad_claims_are_refused(sso: Sso, claims: dict[str, Any]) -> None:
    sso.provider.claims = {**ANNA, **claims}
    await assert_refused(await sign_in(sso))
    anna = await sso.account("t.anna")
    assert anna is not None
    assert anna.roles == {Role.EMPLOYEE}


async def test_expiry_honours_the_allowed_skew(sso: Sso) -> None:
    now = int(sso.seeded.clock.now().timestamp())
    sso.provider.claims = {**ANNA, "exp": now - 30}  # within the default 60 s
    assert session_cookie(await sign_in(sso)) is not None
    sso.provider.claims = {**ANNA, "iat": now + 3600, "exp": now + 4000}  # from the future
    await assert_refused(await sign_in(sso))


def _none_token(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "key-1"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


@pytest.mark.parametrize("forgery", ["other-key", "alg-none", "hs256-with-public-key"])
async def test_forged_signatures_are_refused(sso: Sso, forgery: str) -> None:
    fake = sso.provider
    public_pem = fake.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def forge(claims: dict[str, Any]) -> str:
        if forgery == "other-key":
            return jwt.encode(claims, _new_key(), algorithm="RS256", headers={"kid": fake.kid})
        if forgery == "alg-none":
            return _none_token(claims)
        # RFC 8725 2.1: an HMAC "signed" with the public key as the secret.
        header = _b64(json.dumps({"alg": "HS256", "kid": fake.kid}).encode())
        body = _b64(json.dumps(claims).encode())
        mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256)
        return f"{header}.{body}.{_b64(mac.digest())}"

    fake.claims = dict(ANNA)
    fake.token_hook = forge
    await assert_refused(await sign_in(sso))


async def test_unknown_kid_fetches_the_rotated_key_set_at_most_once_a_minute(sso: Sso) -> None:
    fake = sso.provider
    fake.claims = dict(ANNA)
    assert session_cookie(await sign_in(sso)) is not None
    assert fake.jwks_fetches == 1
    assert session_cookie(await sign_in(sso)) is not None
    assert fake.jwks_fetches == 1  # cached

    fake.rotate()  # the provider signs with a key we have not seen yet
    await assert_refused(await sign_in(sso))  # within the minute: no refetch, refused
    assert fake.jwks_fetches == 1
    sso.seeded.clock.advance(61)
    assert session_cookie(await sign_in(sso)) is not None
    assert fake.jwks_fetches == 2


# -- accounts ---------------------------------------------------------------------------------

JOHAN = {
    "sub": "sub-johan",
    "preferred_username": "johan.ek@lysekil.example",
    "email": "johan.ek@lysekil.example",
}


async def test_unknown_user_is_refused_when_provision_is_link(sso: Sso) -> None:
    before = await sso.seeded.runtime.accounts.accounts()
    sso.provider.claims = {**JOHAN, "groups": [RECEPTION_GROUP]}
    body = await assert_refused(await sign_in(sso), 403)
    assert "no switchboard account for you" in body
    assert await sso.seeded.runtime.accounts.accounts() == before


async def tie_johan(sso: Sso) -> None:
    await sso.seeded.runtime.accounts.add_account(
        "j.ek", None, {Role.EMPLOYEE}, JOHAN["email"], None, "test"
    )


async def test_matched_by_the_email_of_the_directory_person(sso: Sso) -> None:
    await tie_johan(sso)
    sso.provider.claims = {**JOHAN, "preferred_username": "jek@corp.example"}
    response = await sign_in(sso)
    session = await sso.seeded.runtime.accounts.session(session_cookie(response) or "")
    assert session is not None
    assert session[1].username == "j.ek"


async def test_unverified_email_is_not_matched(sso: Sso) -> None:
    await tie_johan(sso)
    sso.provider.claims = {**JOHAN, "preferred_username": "mallory", "email_verified": False}
    await assert_refused(await sign_in(sso), 403)


async def test_a_person_with_two_accounts_is_not_guessed(sso: Sso) -> None:
    """The demo's ``anna`` and the tests' ``t.anna`` are both Anna Berg."""
    sso.provider.claims = {"preferred_username": "ab@corp.example", "email": ANNA["email"]}
    await assert_refused(await sign_in(sso), 403)


async def test_disabled_account_is_refused(sso: Sso) -> None:
    await sso.seeded.runtime.accounts.disable("t.anna", "test")
    sso.provider.claims = dict(ANNA)
    await assert_refused(await sign_in(sso), 403)


async def test_provision_employee_creates_an_account_for_the_directory_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_sso(tmp_path, monkeypatch, provision="employee") as sso:
        sso.provider.claims = {**JOHAN, "groups": [RECEPTION_GROUP]}
        response = await sign_in(sso)
        assert response.status == 302
        assert session_cookie(response) is not None
        johan = await sso.account("johan.ek@lysekil.example")
        assert johan is not None
        assert johan.person_id == sso.person_id(OTHER_EXT)
        assert johan.roles == {Role.EMPLOYEE, Role.RECEPTIONIST}
        actions = await sso.audit_actions("account:johan.ek@lysekil.example")
        assert "account_created" in actions
        assert await preview_status(sso, EMPLOYEE_EXT) == 200

        # Someone the directory does not know gets no account, even here.
        before = await sso.seeded.runtime.accounts.accounts()
        sso.provider.claims = {
            "sub": "sub-x",
            "preferred_username": "x@y.example",
            "email": "x@y.example",
        }
        await assert_refused(await sign_in(sso), 403)
        assert await sso.seeded.runtime.accounts.accounts() == before


async def test_a_refused_token_creates_no_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_sso(tmp_path, monkeypatch, provision="employee") as sso:
        sso.provider.claims = {**JOHAN, "aud": "someone-else"}
        await assert_refused(await sign_in(sso))
        assert await sso.account("johan.ek@lysekil.example") is None


# -- the provider down, the configuration wrong -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_provider_down_gives_a_clear_error_with_an_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    async with open_seeded(tmp_path) as seeded:
        issuer = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
        app = build_app(seeded.runtime, HttpSettings(oidc=settings_for(issuer)))
        async with TestClient(TestServer(app)) as client:
            page = await client.get("/signin/oidc", headers={"Accept": "text/html"})
            body = await page.text()
            assert page.status == 502
            assert "cannot be reached right now" in body
            assert '<code id="error-id">' in body  # the framed error page (issue 16)
            assert "127.0.0.1" not in body
            assert "Connect" not in body
            api = await client.get("/signin/oidc", headers={"Accept": "application/json"})
            error = (await api.json())["error"]
            assert error["status"] == 502
            assert len(error["error_id"]) == 12


async def test_a_missing_secret_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    async with open_seeded(tmp_path) as seeded:
        settings = HttpSettings(oidc=settings_for("https://login.example/tenant/v2.0"))
        with pytest.raises(OidcConfigError, match=SECRET_ENV):
            build_app(seeded.runtime, settings)


# -- the [http.oidc] table --------------------------------------------------------------------

GOOD_TABLE = """
[http.oidc]
issuer = "https://login.microsoftonline.com/7a3c/v2.0"
client_id = "0f6e-app"
client_secret_env = "SWITCHBOARD_OIDC_SECRET"
display_name = "Logga in med Microsoft"
username_claim = "upn"
roles = { "6f1c-reception" = "receptionist", "2b9d-admins" = "admin" }
provision = "employee"
"""


def _config(tmp_path: Path, table: str) -> Path:
    base = bundled("configs/sml.toml").read_text(encoding="utf-8")
    path = tmp_path / "switchboard.toml"
    path.write_text(base + table, encoding="utf-8")
    return path


def test_the_table_is_read(tmp_path: Path) -> None:
    oidc = load_settings(_config(tmp_path, GOOD_TABLE)).http.oidc
    assert oidc is not None
    assert oidc.discovery_url == (
        "https://login.microsoftonline.com/7a3c/v2.0/.well-known/openid-configuration"
    )
    assert oidc.scopes == ("openid", "profile", "email")
    assert oidc.username_claim == "upn"
    assert oidc.groups_claim == "groups"
    assert dict(oidc.roles) == {"6f1c-reception": Role.RECEPTIONIST, "2b9d-admins": Role.ADMIN}
    assert oidc.managed_roles == {Role.RECEPTIONIST, Role.ADMIN}
    assert oidc.provision == "employee"
    assert oidc.allowed_skew == 60


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("issuer = ", 'issuer = "http://login.example/v2.0" #'), "issuer", "https"),
        (("client_secret_env = ", 'client_secret = "hunter2"\n#'), "client_secret", "unknown"),
        (("client_secret_env = ", 'client_secret_env = "my secret" #'), "client_secret_env", ""),
        (('"admin"', '"boss"'), "roles.2b9d-admins", "receptionist"),
        (('provision = "employee"', 'provision = "everyone"'), "provision", "link"),
        (("provision", "allowed_skew = 3600\nprovision"), "allowed_skew", "300"),
        (("provision", 'scopes = "profile email"\nprovision'), "scopes", "openid"),
    ],
    ids=["plain-http", "secret-in-file", "bad-env-name", "bad-role", "provision", "skew", "scopes"],
)
def test_mistakes_name_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, words: str
) -> None:
    path = _config(tmp_path, GOOD_TABLE.replace(*change, 1))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.file == str(path)
    assert caught.value.key == f"http.oidc.{key}"
    assert words in caught.value.problem


def test_plain_http_is_accepted_on_loopback_only(tmp_path: Path) -> None:
    table = GOOD_TABLE.replace("https://login.microsoftonline.com/7a3c/v2.0", "http://[::1]:9")
    oidc = load_settings(_config(tmp_path, table)).http.oidc
    assert oidc is not None
    assert oidc.loopback


async def test_the_openapi_document_lists_the_routes_only_when_configured(
    sso: Sso, tmp_path: Path
) -> None:
    wanted = {"/signin/oidc", "/signin/oidc/callback"}
    with_sso = await (await sso.client.get("/api/v1/openapi.json")).json()
    assert wanted <= set(with_sso["paths"])
    served = {r.get_info().get("path") for r in sso.app.router.resources()}
    assert wanted <= served
    plain = tmp_path / "plain"
    plain.mkdir()
    async with open_env(plain) as env:
        without = await (await env.client.get("/api/v1/openapi.json")).json()
    assert not wanted & set(without["paths"])


async def test_a_refusal_at_the_provider_is_explained(sso: Sso) -> None:
    url = URL(await to_callback(sso))
    refused = url.with_query(state=url.query["state"], error="access_denied")
    body = await assert_refused(await callback(sso, str(refused)), 403)
    assert "cancelled or refused at the sign-in service" in body


# -- the identity binding ---------------------------------------------------------------------


async def test_the_first_sign_in_binds_the_identity_which_then_alone_finds_the_account(
    sso: Sso,
) -> None:
    sso.provider.claims = dict(ANNA)
    assert (await sign_in(sso)).status == 302
    assert "sso_identity_bound" in await sso.audit_actions("account:t.anna")
    # Renamed at the provider (new username and address): the same identity, same account.
    sso.provider.claims = {"sub": ANNA["sub"], "preferred_username": "anna.b@new.example"}
    response = await sign_in(sso)
    session = await sso.seeded.runtime.accounts.session(session_cookie(response) or "")
    assert session is not None
    assert session[1].username == "t.anna"
    assert (await sso.audit_actions("account:t.anna")).count("sso_identity_bound") == 1


async def test_a_reused_username_or_address_does_not_take_over_a_bound_account(
    sso: Sso,
) -> None:
    """Anna left; her address and username went to a newcomer with a new identity at the
    provider. The newcomer must not become Anna's account, until an admin decides."""
    sso.provider.claims = dict(ANNA)
    assert (await sign_in(sso)).status == 302
    before = await sso.audit_actions("account:t.anna")
    sso.provider.claims = {**ANNA, "sub": "sub-newcomer"}
    body = await assert_refused(await sign_in(sso), 403)
    assert "cannot sign in" in body
    assert await sso.audit_actions("account:t.anna") == before  # nothing written

    assert await sso.seeded.runtime.accounts.unbind_identities("t.anna", "admin") == 1
    response = await sign_in(sso)
    session = await sso.seeded.runtime.accounts.session(session_cookie(response) or "")
    assert session is not None
    assert session[1].username == "t.anna"
    linked = await sso.seeded.runtime.accounts.account_for_identity(
        sso.provider.issuer, "sub-newcomer"
    )
    assert linked is not None
    assert linked.username == "t.anna"


async def test_a_disabled_account_gets_no_binding(sso: Sso) -> None:
    await sso.seeded.runtime.accounts.disable("t.anna", "test")
    sso.provider.claims = dict(ANNA)
    await assert_refused(await sign_in(sso), 403)
    assert (
        await sso.seeded.runtime.accounts.account_for_identity(sso.provider.issuer, ANNA["sub"])
        is None
    )


async def test_on_https_the_sign_in_cookie_is_secure_prefixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: ``__Secure-`` (not ``__Host-``, which would widen its path to /)."""
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    async with open_seeded(tmp_path) as seeded:
        fake = FakeProvider(seeded.clock)
        async with TestServer(fake.app()) as provider_server:
            fake.issuer = str(provider_server.make_url("")).rstrip("/")
            settings = HttpSettings(
                public_url="https://switchboard.example", oidc=settings_for(fake.issuer)
            )
            async with TestClient(TestServer(build_app(seeded.runtime, settings))) as client:
                start = await client.get("/signin/oidc", allow_redirects=False)
    assert start.status == 302
    cookie = start.headers["Set-Cookie"]
    assert cookie.startswith("__Secure-sb_oidc=")
    assert "Secure" in cookie
    assert "Path=/signin/oidc" in cookie
