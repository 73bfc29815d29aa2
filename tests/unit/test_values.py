"""quick_init builds the same frozen values as dataclasses' own __init__, only cheaper."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from switchboard.routing.model import Call
from switchboard.routing.values import quick_init
from switchboard.sip.flow import Flow
from switchboard.sip.message import Param, SipUri


@dataclass(frozen=True, slots=True)
class Plain:
    host: str
    user: str | None = None
    port: int | None = None
    params: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    host: str
    user: str | None = None
    port: int | None = None
    params: tuple[str, ...] = ()


CASES = [
    (("h",), {}),
    (("h", "u"), {}),
    (("h",), {"port": 5060}),
    (("h", "u", 1, ("a", "b")), {}),
    ((), {"params": ("x",), "host": "h"}),
]


@pytest.mark.parametrize(("args", "kwargs"), CASES, ids=[str(c) for c in CASES])
def test_fields_defaults_and_keywords_as_dataclass_sets_them(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain = Plain(*args, **kwargs)  # type: ignore[arg-type]
    quick = Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert dataclasses.astuple(quick) == dataclasses.astuple(plain)
    assert quick == Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert hash(quick) == hash(Quick(*args, **kwargs))  # type: ignore[arg-type]


def test_still_frozen_and_the_usual_helpers_work() -> None:
    quick = Quick("h", port=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.host = "other"  # type: ignore[misc]
    assert dataclasses.replace(quick, user="u") == Quick("h", "u", 1)
    assert pickle.loads(pickle.dumps(quick)) == quick  # noqa: S301 - our own bytes
    assert repr(quick) == "Quick(host='h', user=None, port=1, params=())"


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), (("h", "u", 1, (), "extra"), {}), (("h",), {"host": "again"}), (("h",), {"x": 1})],
    ids=["missing", "too many", "twice", "unknown"],
)
def test_wrong_arguments_raise_type_error_as_before(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(TypeError):
        Plain(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Quick(*args, **kwargs)  # type: ignore[arg-type]


def test_shapes_it_cannot_honour_are_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="plain fields"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class WithFactory:
            items: list[int] = field(default_factory=list)

    with pytest.raises(TypeError, match="__post_init__"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class WithPostInit:
            x: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="frozen"):

        @quick_init
        @dataclass(slots=True)
        class NotFrozen:
            x: int


def test_the_values_of_the_call_path_use_it() -> None:
    uri = SipUri("example.org", "64123", port=5060, params=(Param("user", "phone"),))
    assert (uri.host, uri.user, uri.password, uri.port, uri.scheme) == (
        "example.org",
        "64123",
        None,
        5060,
        "sip",
    )
    assert type(uri).__init__.__qualname__ == "SipUri.__init__"
    assert Flow("udp", "127.0.0.1", 5060) == Flow("udp", "127.0.0.1", 5060)
    assert Call("64123", None) == Call("64123", None)
