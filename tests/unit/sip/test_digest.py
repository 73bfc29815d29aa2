"""Digest authentication (RFC 3261 §22.4, RFC 7616, RFC 8760): vectors, round trips, failures."""

# ruff: noqa: S106, S107 - the passwords here are test fixtures, not secrets

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from switchboard.sip.digest import (
    DEFAULT_HASHES,
    AuthOutcome,
    DigestAuthenticator,
    Failure,
    SipCredential,
    make_credential,
    parse_digest,
    response_digest,
)

REALM = "sip.kommun.example"
SECRET = b"0123456789abcdef-test-secret"
ALICE = make_credential("64123", REALM, "correct horse")
USERS = {ALICE.user: ALICE}
URI = "sip:sip.kommun.example"
T = 1000.0


def lookup(user: str) -> SipCredential | None:
    return USERS.get(user)


def h(algorithm: str, text: str) -> str:
    """Independent of the code under test: hashlib straight."""
    name = "md5" if algorithm == "MD5" else "sha256"
    return hashlib.new(name, text.encode()).hexdigest()


def answer(
    challenge: str,
    *,
    user: str = "64123",
    password: str = "correct horse",
    method: str = "REGISTER",
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
    realm: str | None = None,
    extra: str = "",
) -> str:
    """What a phone sends back: computed here from the challenge text, as a client would."""
    params = parse_digest(challenge)
    assert params is not None
    algorithm = params["algorithm"]
    realm = params["realm"] if realm is None else realm
    ha1 = h(algorithm, f"{user}:{realm}:{password}")
    ha2 = h(algorithm, f"{method}:{URI}")
    response = h(algorithm, f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{params["nonce"]}", '
        f'uri="{URI}", response="{response}", algorithm={algorithm}, '
        f'qop=auth, nc={nc}, cnonce="{cnonce}"{extra}'
    )


@pytest.fixture
def auth() -> DigestAuthenticator:
    return DigestAuthenticator(REALM, SECRET, nonce_ttl=300.0)


# -- known answers (RFC 7616 §3.9.1) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
    ids=["md5", "sha-256"],
)
def test_rfc7616_example_response(algorithm: str, expected: str) -> None:
    cred = make_credential("Mufasa", "http-auth@example.org", "Circle of Life")
    ha1 = cred.ha1_md5 if algorithm == "MD5" else cred.ha1_sha256
    assert ha1 is not None
    got = response_digest(
        DEFAULT_HASHES[algorithm],
        ha1,
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        qop="auth",
        method="GET",
        uri="/dir/index.html",
    )
    assert got == expected


def test_credential_keeps_hashes_not_password_and_hides_them_from_repr() -> None:
    cred = make_credential("64123", REALM, "correct horse")
    assert cred.ha1_md5 == h("MD5", f"64123:{REALM}:correct horse")
    assert cred.ha1_sha256 == h("SHA-256", f"64123:{REALM}:correct horse")
    assert "correct horse" not in repr(cred)
    assert cred.ha1_md5 not in repr(cred)
    assert cred.ha1_sha256 not in repr(cred)


# -- challenges --------------------------------------------------------------------------------


def test_challenges_offer_sha256_first_then_md5_with_qop_auth(
    auth: DigestAuthenticator,
) -> None:
    sha, md5 = auth.challenges(T)
    assert sha.startswith("Digest ")
    sha_params, md5_params = parse_digest(sha), parse_digest(md5)
    assert sha_params is not None
    assert md5_params is not None
    assert sha_params["algorithm"] == "SHA-256"
    assert md5_params["algorithm"] == "MD5"
    assert sha_params["qop"] == md5_params["qop"] == "auth"
    assert sha_params["realm"] == REALM
    assert "stale" not in sha_params
    assert sha_params["nonce"] == md5_params["nonce"]
    assert auth.challenges(T)[0] != sha, "every challenge gets a fresh nonce"


BOB_SHA = make_credential("64124", REALM, "battery staple", sha256_only=True)
MIXED = {ALICE.user: ALICE, BOB_SHA.user: BOB_SHA}


def mixed(user: str) -> SipCredential | None:
    return MIXED.get(user)


@pytest.fixture
def md5_first() -> DigestAuthenticator:
    """The deployment default since issue 16: MD5 alone, for phones as shipped."""
    return DigestAuthenticator(REALM, SECRET, algorithms=("MD5",))


def _algorithms(values: tuple[str, ...]) -> list[str]:
    parsed = [parse_digest(value) for value in values]
    return [p["algorithm"] for p in parsed if p is not None]


@pytest.mark.parametrize(
    ("credential", "expected"),
    [(None, ["MD5"]), (ALICE, ["MD5"]), (BOB_SHA, ["SHA-256"])],
    ids=["unknown-user", "phone-on-the-list", "sha256-only-phone"],
)
def test_a_phone_set_up_sha256_only_is_offered_sha256_alone(
    md5_first: DigestAuthenticator, credential: SipCredential | None, expected: list[str]
) -> None:
    assert _algorithms(md5_first.challenges(T, credential=credential)) == expected
    assert md5_first.offered(credential) == tuple(expected)


def test_a_sha256_only_phone_keeps_no_md5_hash() -> None:
    assert BOB_SHA.ha1_md5 is None
    assert BOB_SHA.sha256_only
    assert BOB_SHA.ha1_sha256 == h("SHA-256", f"64124:{REALM}:battery staple")


def test_a_sha256_only_phone_is_accepted_where_the_deployment_offers_md5_alone(
    md5_first: DigestAuthenticator,
) -> None:
    (challenge,) = md5_first.challenges(T, credential=BOB_SHA)
    value = answer(challenge, user="64124", password="battery staple")
    assert md5_first.verify("REGISTER", value, T + 1, mixed) == AuthOutcome(True, "64124")


def test_a_sha256_only_phone_cannot_be_talked_down_to_md5(
    md5_first: DigestAuthenticator,
) -> None:
    """An attacker who rewrites the challenge to MD5 (RFC 8760 §3) gets nothing: the
    answer is refused before any hashing, right password or not."""
    (md5_challenge,) = md5_first.challenges(T)
    value = answer(md5_challenge, user="64124", password="battery staple")
    assert md5_first.verify("REGISTER", value, T + 1, mixed) == AuthOutcome(
        False, None, Failure.UNKNOWN_ALGORITHM
    )


@pytest.mark.parametrize("user", ["64123", "64999"], ids=["phone-on-the-list", "unknown-user"])
def test_sha256_answers_from_others_are_refused_alike_when_not_offered(
    user: str,
) -> None:
    md5_only = DigestAuthenticator(REALM, SECRET, algorithms=("MD5",))
    sha_challenge = DigestAuthenticator(REALM, SECRET).challenges(T)[0]
    value = answer(sha_challenge, user=user)
    assert md5_only.verify("REGISTER", value, T + 1, mixed) == AuthOutcome(
        False, None, Failure.UNKNOWN_ALGORITHM
    )


def test_stale_challenge_says_so(auth: DigestAuthenticator) -> None:
    for value in auth.challenges(T, stale=True):
        params = parse_digest(value)
        assert params is not None
        assert params["stale"] == "true"


def test_realm_with_quotes_is_escaped() -> None:
    odd = DigestAuthenticator('a "quoted" \\ realm', SECRET)
    params = parse_digest(odd.challenges(T)[0])
    assert params is not None
    assert params["realm"] == 'a "quoted" \\ realm'


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1], ids=["sha-256", "md5"])
def test_round_trip_accepts_a_correct_answer(auth: DigestAuthenticator, index: int) -> None:
    challenge = auth.challenges(T)[index]
    outcome = auth.verify("REGISTER", answer(challenge), T + 1, lookup)
    assert outcome == AuthOutcome(True, "64123", None)


def test_missing_algorithm_means_md5(auth: DigestAuthenticator) -> None:
    value = answer(auth.challenges(T)[1]).replace(", algorithm=MD5", "")
    assert auth.verify("REGISTER", value, T, lookup).ok


def test_parameter_names_are_case_insensitive_and_unknown_ones_ignored(
    auth: DigestAuthenticator,
) -> None:
    value = answer(auth.challenges(T)[0], extra=', opaque="x, y", X-Other=1')
    value = value.replace("username=", "UserName=").replace("qop=", "QOP=")
    value = value.replace("Digest", "digest", 1)
    assert auth.verify("REGISTER", value, T, lookup).ok


def test_the_method_is_part_of_the_response(auth: DigestAuthenticator) -> None:
    value = answer(auth.challenges(T)[0], method="INVITE")
    assert auth.verify("INVITE", value, T, lookup).ok
    value = answer(auth.challenges(T)[0], method="INVITE")
    assert auth.verify("REGISTER", value, T, lookup).failure is Failure.BAD_CREDENTIALS


def test_next_nc_on_the_same_nonce_is_accepted(auth: DigestAuthenticator) -> None:
    challenge = auth.challenges(T)[0]
    assert auth.verify("REGISTER", answer(challenge, nc="00000001"), T, lookup).ok
    assert auth.verify("REGISTER", answer(challenge, nc="00000002"), T + 5, lookup).ok
    assert auth.verify("REGISTER", answer(challenge, nc="0000000A"), T + 6, lookup).ok


# -- every failure -----------------------------------------------------------------------------


def _mangle(auth: DigestAuthenticator, old: str, new: str) -> str:
    return answer(auth.challenges(T)[0]).replace(old, new)


FAILURES: list[tuple[str, Callable[[DigestAuthenticator], str | None], Failure]] = [
    ("no-header", lambda a: None, Failure.MISSING),
    ("blank-header", lambda a: "  ", Failure.MISSING),
    ("basic-scheme", lambda a: "Basic dXNlcjpwYXNz", Failure.MALFORMED),
    ("unterminated-quote", lambda a: 'Digest username="64123', Failure.MALFORMED),
    ("no-equals", lambda a: "Digest username", Failure.MALFORMED),
    ("garbage-between", lambda a: 'Digest username="a" realm="b"', Failure.MALFORMED),
    ("duplicate-param", lambda a: _mangle(a, "qop=auth", "qop=auth, qop=auth"), Failure.MALFORMED),
    ("no-uri", lambda a: _mangle(a, f'uri="{URI}", ', ""), Failure.MALFORMED),
    ("no-response", lambda a: _mangle(a, "response=", "respons="), Failure.MALFORMED),
    ("rfc2069-no-qop", lambda a: _mangle(a, "qop=auth, ", ""), Failure.MALFORMED),
    ("qop-auth-int", lambda a: _mangle(a, "qop=auth", "qop=auth-int"), Failure.MALFORMED),
    ("short-nc", lambda a: _mangle(a, "nc=00000001", "nc=1"), Failure.MALFORMED),
    ("no-cnonce", lambda a: _mangle(a, 'cnonce="0a4f113b"', 'cnonce=""'), Failure.MALFORMED),
    ("userhash", lambda a: _mangle(a, "qop=", "userhash=true, qop="), Failure.MALFORMED),
    ("control-char", lambda a: _mangle(a, 'cnonce="0a4f', 'cnonce="\x00a4f'), Failure.MALFORMED),
    ("too-long", lambda a: _mangle(a, "qop=", f'x="{"a" * 5000}", qop='), Failure.MALFORMED),
    ("wrong-realm", lambda a: answer(a.challenges(T)[0], realm="evil"), Failure.WRONG_REALM),
    (
        "md5-sess",
        lambda a: _mangle(a, "algorithm=SHA-256", "algorithm=MD5-sess"),
        Failure.UNKNOWN_ALGORITHM,
    ),
    (
        "sha512",
        lambda a: _mangle(a, "algorithm=SHA-256", "algorithm=SHA-512-256"),
        Failure.UNKNOWN_ALGORITHM,
    ),
    (
        "forged-nonce",
        lambda a: answer(DigestAuthenticator(REALM, b"another-secret-16bytes").challenges(T)[0]),
        Failure.BAD_NONCE,
    ),
    ("not-a-nonce", lambda a: _mangle(a, 'nonce="', 'nonce="x'), Failure.BAD_NONCE),
    (
        "wrong-password",
        lambda a: answer(a.challenges(T)[0], password="wrong"),
        Failure.BAD_CREDENTIALS,
    ),
    ("unknown-user", lambda a: answer(a.challenges(T)[0], user="64999"), Failure.BAD_CREDENTIALS),
]


@pytest.mark.parametrize(
    ("make", "failure"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_failures(
    auth: DigestAuthenticator,
    make: Callable[[DigestAuthenticator], str | None],
    failure: Failure,
) -> None:
    outcome = auth.verify("REGISTER", make(auth), T + 1, lookup)
    assert outcome == AuthOutcome(False, None, failure)


def test_a_tampered_nonce_mac_is_bad(auth: DigestAuthenticator) -> None:
    challenge = auth.challenges(T)[0]
    params = parse_digest(challenge)
    assert params is not None
    nonce = params["nonce"]
    flipped = nonce[:-1] + ("A" if nonce[-1] != "A" else "B")
    value = answer(challenge.replace(nonce, flipped))
    assert auth.verify("REGISTER", value, T, lookup).failure is Failure.BAD_NONCE


def test_expired_nonce_with_a_correct_response_is_stale(auth: DigestAuthenticator) -> None:
    value = answer(auth.challenges(T)[0])
    assert auth.verify("REGISTER", value, T + 300.0, lookup).ok
    later = answer(auth.challenges(T)[0], nc="00000002")
    outcome = auth.verify("REGISTER", later, T + 300.5, lookup)
    assert outcome.failure is Failure.STALE
    assert outcome.stale


def test_expired_nonce_with_a_wrong_password_is_not_stale(auth: DigestAuthenticator) -> None:
    """stale=true tells the client its credentials were right (RFC 7616 §3.3)."""
    value = answer(auth.challenges(T)[0], password="wrong")
    assert auth.verify("REGISTER", value, T + 301, lookup).failure is Failure.BAD_CREDENTIALS


def test_nonce_from_the_future_is_stale(auth: DigestAuthenticator) -> None:
    value = answer(auth.challenges(T + 50)[0])
    assert auth.verify("REGISTER", value, T, lookup).failure is Failure.STALE


def test_replayed_or_lower_nc_is_refused(auth: DigestAuthenticator) -> None:
    challenge = auth.challenges(T)[0]
    first = answer(challenge, nc="00000002")
    assert auth.verify("REGISTER", first, T, lookup).ok
    assert auth.verify("REGISTER", first, T + 1, lookup).failure is Failure.REPLAY
    lower = answer(challenge, nc="00000001", cnonce="other")
    assert auth.verify("REGISTER", lower, T + 1, lookup).failure is Failure.REPLAY


def test_a_wrong_response_does_not_burn_the_nonce(auth: DigestAuthenticator) -> None:
    challenge = auth.challenges(T)[0]
    attack = answer(challenge, nc="ffffffff", password="guess")
    assert auth.verify("REGISTER", attack, T, lookup).failure is Failure.BAD_CREDENTIALS
    assert auth.verify("REGISTER", answer(challenge), T, lookup).ok


def test_replay_table_is_bounded() -> None:
    auth = DigestAuthenticator(REALM, SECRET, max_tracked_nonces=3)
    for i in range(10):
        assert auth.verify("REGISTER", answer(auth.challenges(T + i)[0]), T + i, lookup).ok
        assert auth.tracked_nonces <= 3
    assert auth.tracked_nonces == 3


def test_replay_table_drops_expired_nonces() -> None:
    auth = DigestAuthenticator(REALM, SECRET, nonce_ttl=10.0)
    for i in range(5):
        assert auth.verify("REGISTER", answer(auth.challenges(T + i)[0]), T + i, lookup).ok
    assert auth.tracked_nonces == 5
    assert auth.verify("REGISTER", answer(auth.challenges(T + 100)[0]), T + 100, lookup).ok
    assert auth.tracked_nonces == 1


# -- no enumeration ----------------------------------------------------------------------------


class CountingHash:
    def __init__(self, inner: Callable[[bytes], str]) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, data: bytes) -> str:
        self.calls += 1
        return self.inner(data)


@pytest.mark.parametrize("index", [0, 1], ids=["sha-256", "md5"])
def test_unknown_user_and_wrong_password_are_indistinguishable_and_cost_the_same(
    index: int,
) -> None:
    sha, md5 = CountingHash(DEFAULT_HASHES["SHA-256"]), CountingHash(DEFAULT_HASHES["MD5"])
    auth = DigestAuthenticator(REALM, SECRET, hashes={"SHA-256": sha, "MD5": md5})
    looked_up: list[str] = []

    def counting_lookup(user: str) -> SipCredential | None:
        looked_up.append(user)
        return USERS.get(user)

    def work(value: str) -> tuple[AuthOutcome, int]:
        before = sha.calls + md5.calls
        outcome = auth.verify("REGISTER", value, T, counting_lookup)
        return outcome, sha.calls + md5.calls - before

    known_wrong = work(answer(auth.challenges(T)[index], password="wrong"))
    unknown = work(answer(auth.challenges(T)[index], user="64999"))
    right = work(answer(auth.challenges(T)[index]))
    assert known_wrong[0] == unknown[0] == AuthOutcome(False, None, Failure.BAD_CREDENTIALS)
    assert known_wrong[1] == unknown[1] == right[1] == 2, "HA2 and the response, every path"
    assert right[0].ok
    assert looked_up == ["64123", "64999", "64123"]


# -- the parser --------------------------------------------------------------------------------


def test_parser_handles_escapes_and_commas_inside_quotes() -> None:
    value = 'Digest username="a\\"b", realm="x, y", uri="sip:u@h;a=b,c", nc=00000001'
    assert parse_digest(value) == {
        "username": 'a"b',
        "realm": "x, y",
        "uri": "sip:u@h;a=b,c",
        "nc": "00000001",
    }


@pytest.mark.parametrize(
    "value",
    [
        "Digest",
        "Digest ",
        "Digest a=",
        "Digest a=b,",
        'Digest a="b',
        "Digest a=b c=d",
        "Digestx a=b",
    ],
)
def test_parser_refuses_malformed_values(value: str) -> None:
    assert parse_digest(value) is None


def test_parser_refuses_too_many_params() -> None:
    value = "Digest " + ", ".join(f"p{i}=v" for i in range(40))
    assert parse_digest(value) is None


def test_a_failure_names_the_account_tried(auth: DigestAuthenticator) -> None:
    wrong = auth.verify("REGISTER", answer(auth.challenges(T)[0], password="x"), T, lookup)
    assert (wrong.failure, wrong.tried) == (Failure.BAD_CREDENTIALS, "64123")
    realm = auth.verify("REGISTER", answer(auth.challenges(T)[0], realm="other"), T, lookup)
    assert (realm.failure, realm.tried) == (Failure.WRONG_REALM, "64123")
    garbled = auth.verify("REGISTER", 'Digest username="64123', T, lookup)
    assert (garbled.failure, garbled.tried) == (Failure.MALFORMED, None)


def test_workers_sharing_the_secret_accept_each_other_s_nonces_and_refuse_replays() -> None:
    """``serve --workers`` (issue 14): a phone answers worker A's challenge in a request
    worker B handles (a new Call-ID); B accepts it, and once A is told, a replay to A fails.
    A worker with another secret would call the nonce bad, and the phone a guesser."""
    a = DigestAuthenticator(REALM, SECRET)
    b = DigestAuthenticator(REALM, SECRET)
    b.on_use = lambda nonce, nc: a.heard_use(nonce, nc, T + 1)
    reply = answer(a.challenges(T)[0], method="INVITE")
    assert b.verify("INVITE", reply, T + 1, lookup).ok
    replayed = a.verify("INVITE", reply, T + 2, lookup)
    assert replayed.failure is Failure.REPLAY
    stranger = DigestAuthenticator(REALM, b"another-secret-of-16-bytes")
    assert stranger.verify("INVITE", reply, T + 1, lookup).failure is Failure.BAD_NONCE
