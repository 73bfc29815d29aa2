"""Frozen values that are cheap to build.

``@dataclass(frozen=True)`` writes an ``__init__`` that stores every field through
``object.__setattr__``, looked up afresh per field: a frozen value costs about twice a plain
one to build. The SIP edge builds some twenty per call (a request, its URI and headers,
flows, the decision and its targets, the response), so that doubling is a visible share of
a call's CPU. ``quick_init`` gives such a class an ``__init__`` that stores each field
through its slot's descriptor, bound once: the same object, half the cost, still frozen.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Replace the ``__init__`` of a ``@dataclass(frozen=True, slots=True)`` class.

    Put it above the ``@dataclass`` line. Only the plain shape is accepted: every field
    set by ``__init__``, positionally or by keyword, defaults that are values (no
    ``default_factory``), no ``__post_init__``. Anything else raises ``TypeError`` at
    import, so a class that grows one of these fails loudly instead of losing it.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init goes on @dataclass(frozen=True, slots=True)")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init cannot run __post_init__")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {}
    arguments: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields):
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init takes plain fields only")
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            arguments.append(f"{field.name}=_default{index}")
            namespace[f"_default{index}"] = field.default
        namespace[f"_set{index}"] = cls.__dict__[field.name].__set__
        body.append(f"    _set{index}(self, {field.name})\n")
    statements = "".join(body) or "    pass\n"
    source = f"def __init__(self, {', '.join(arguments)}):\n{statements}"
    # Generated source, as dataclasses itself generates __init__; names come from fields.
    exec(source, namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
