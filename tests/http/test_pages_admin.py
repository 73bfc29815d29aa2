"""The administration pages: each page for each role (shown or refused), the navigation
shows only what the account may use, the import form posts with CSRF and renders every
error by line, and a refusal changes nothing."""

from __future__ import annotations

import base64
import re

import aiohttp
import pytest

from switchboard.accounts.model import Role, unit_key
from switchboard.directory.import_preview import PREVIEW_ROWS, SHOWN_PROBLEMS
from switchboard.directory.model import PolicyRule
from switchboard.http.context import HTTP
from tests.http.conftest import EMPLOYEE_EXT, SECRET_MOBILE, Env

HTML = {"Accept": "text/html"}
PAGES = ("/admin", "/admin/import", "/admin/people", "/admin/policy", "/admin/audit")
CALLS = "/admin/call-lists"
HEADER = (
    "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,"
    "arrangement,hours,organisation\n"
)
NEW_ROW = "Nils Nordin,0523-664321,,nils.nordin@sotenas.example,IT,Tekniker,sv,no,no,private,,\n"
BAD_ROW = "Fel Flagga,0523-664322,,fel@sotenas.example,IT,Tekniker,sv,kanske,no,private,,\n"


async def _make_manager(env: Env) -> None:
    """``t.boss`` manages Anna's unit, so R19 lets them ask for her calls."""
    anna = env.person(EMPLOYEE_EXT)
    await env.accounts.set_roles(
        "t.boss", [Role.MANAGER], "test", manages=[unit_key(anna.organisation, anna.unit)]
    )


async def _state(env: Env) -> tuple[object, ...]:
    engine = env.runtime.engine
    return (
        await env.audit_count(),
        await env.version(),
        tuple(engine.view.people()),
        await engine.store.accounts(),
    )


async def _get(env: Env, who: str, path: str) -> tuple[int, str, str | None]:
    response = await env.client.get(path, headers=env.headers[who] | HTML, allow_redirects=False)
    return response.status, await response.text(), response.headers.get("Location")


@pytest.mark.parametrize(
    ("who", "allowed_paths"),
    [
        ("anonymous", ()),
        ("employee", ()),
        ("receptionist", ()),
        ("bearer", ()),
        ("manager", ("/admin", CALLS)),
        ("admin", (*PAGES, CALLS)),
    ],
)
async def test_each_page_for_each_role(env: Env, who: str, allowed_paths: tuple[str, ...]) -> None:
    await _make_manager(env)
    before = await _state(env)
    for path in (*PAGES, CALLS):
        status, html, location = await _get(env, who, path)
        if who == "anonymous":
            assert (status, location) == (302, f"/signin?next={path}"), path
        elif path in allowed_paths:
            assert status == 200, (who, path)
            assert f'href="{path}"' in html
            assert 'aria-current="page"' in html
        else:
            assert status == 403, (who, path, status)
    assert await _state(env) == before


async def test_navigation_shows_only_permitted_sections(env: Env) -> None:
    await _make_manager(env)
    _, html, _ = await _get(env, "manager", "/admin")
    assert 'href="/admin/call-lists"' in html
    for hidden in ("/admin/import", "/admin/people", "/admin/policy", "/admin/audit"):
        assert f'href="{hidden}"' not in html
    _, html, _ = await _get(env, "admin", "/admin")
    for path in (*PAGES, CALLS):
        assert f'href="{path}"' in html
    # The main navigation offers "Administration" only to those who have a part in it.
    _, html, _ = await _get(env, "employee", "/me")
    assert 'href="/admin"' not in html
    _, html, _ = await _get(env, "admin", "/reception")
    assert 'href="/admin"' in html
    _, html, _ = await _get(env, "manager", "/me")
    assert 'href="/admin"' not in html  # t.boss is nobody in the directory: sent on
    _, html, _ = await _get(env, "manager", "/reception")
    assert 'href="/admin"' in html


@pytest.mark.parametrize("path", [*PAGES, CALLS])
async def test_admin_pages_carry_no_inline_script_or_style(env: Env, path: str) -> None:
    _, html, _ = await _get(env, "admin", path)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert SECRET_MOBILE not in html  # R18, on every admin page too


def _upload(env: Env, who: str, text: str, *, csrf: bool = True) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if csrf and "X-CSRF-Token" in env.headers[who]:
        form.add_field("csrf_token", env.headers[who]["X-CSRF-Token"])
    form.add_field("file", text.encode(), filename="people.csv", content_type="text/csv")
    return form


async def _check(env: Env, text: str) -> tuple[int, str]:
    """The administrator's first post of ``text`` to the import page: its check."""
    response = await env.client.post(
        "/admin/import", data=_upload(env, "admin", text), headers=_session_only(env, "admin")
    )
    return response.status, await response.text()


def _session_only(env: Env, who: str) -> dict[str, str]:
    """The cookie and Origin, not the header token: the form field must carry it."""
    return {k: v for k, v in env.headers[who].items() if k != "X-CSRF-Token"} | HTML


async def test_import_form_is_refused_without_csrf_or_permission_and_changes_nothing(
    env: Env,
) -> None:
    before = await _state(env)
    response = await env.client.post(
        "/admin/import",
        data=_upload(env, "admin", HEADER + NEW_ROW, csrf=False),
        headers=_session_only(env, "admin"),
    )
    assert response.status == 403
    for who, expected in (("employee", 403), ("receptionist", 403), ("anonymous", 401)):
        response = await env.client.post(
            "/admin/import",
            data=_upload(env, who, HEADER + NEW_ROW),
            headers=_session_only(env, who),
        )
        assert response.status == expected, who
    assert await _state(env) == before


async def test_import_shows_errors_by_line_then_checks_then_imports(env: Env) -> None:
    admin = _session_only(env, "admin")
    before = await _state(env)
    response = await env.client.post(
        "/admin/import", data=_upload(env, "admin", HEADER + NEW_ROW + BAD_ROW), headers=admin
    )
    assert response.status == 422
    html = await response.text()
    table = html[html.index('id="import-errors"') :]
    rows = re.findall(r"<tr><td class=\"mono\">(\d+)</td><td><code>([^<]*)</code></td>", table)
    assert rows == [("3", "hide_mobile")]
    assert "kanske" in table
    assert await _state(env) == before

    response = await env.client.post(
        "/admin/import", data=_upload(env, "admin", HEADER + NEW_ROW), headers=admin
    )
    assert response.status == 200
    html = await response.text()
    assert "Nils Nordin" in html
    assert 'id="import-commit"' in html
    assert await _state(env) == before  # a dry run writes nothing
    carried = re.search(r'name="carried" value="([^"]+)"', html)
    assert carried is not None
    assert base64.b64decode(carried.group(1)) == (HEADER + NEW_ROW).encode()

    form = aiohttp.FormData()
    form.add_field("csrf_token", env.headers["admin"]["X-CSRF-Token"])
    form.add_field("carried", carried.group(1))
    form.add_field("filename", "people.csv")
    response = await env.client.post("/admin/import", data=form, headers=admin)
    assert response.status == 200
    assert 'id="import-done"' in await response.text()
    assert env.runtime.engine.view.find("nils.nordin@sotenas.example") is not None


async def test_a_file_above_other_routes_body_limit_is_checked_and_imported(env: Env) -> None:
    """A region's file is megabytes: the check's upload and the import's post carrying the
    checked file back are read with the import's own limit (an earlier middleware read
    the form with every other route's 64 KiB and answered 413), and the import form is
    multipart, so the carried file is not percent-encoded."""
    rows = "".join(
        f"Ny Person {n},,070-9{n:06d},ny.person{n}@sotenas.example,IT,Tekniker,sv,no,no,private,,\n"
        for n in range(3_000)
    )
    assert len(HEADER + rows) > env.client.app[HTTP].max_body
    status, html = await _check(env, HEADER + rows)
    assert status == 200, html
    assert 'enctype="multipart/form-data"' in html[html.index('id="import-checked"') :]
    carried = re.search(r'name="carried" value="([^"]+)"', html)
    assert carried is not None
    form = aiohttp.FormData()
    form.add_field("csrf_token", env.headers["admin"]["X-CSRF-Token"])
    form.add_field("carried", carried.group(1))
    form.add_field("filename", "people.csv")
    for body in (form, {"csrf_token": env.headers["admin"]["X-CSRF-Token"], "carried": "x"}):
        # multipart (the page's form), and url-encoded above 64 KiB (an older page's)
        if isinstance(body, dict):
            body["carried"] = carried.group(1)
        response = await env.client.post(
            "/admin/import", data=body, headers=_session_only(env, "admin")
        )
        assert response.status == 200, await response.text()
    assert env.runtime.engine.view.find("ny.person2999@sotenas.example") is not None


PLAIN = "name,mobile,email\n"
"""The documented columns only: no extension, no organisation column (issue 16)."""


@pytest.mark.parametrize(
    ("lang", "title", "why"),
    [
        ("sv", "Organisation härledd för 1 personer", "(av e-postdomänen sotenas.se)"),
        ("nb", "Organisasjon utledet for 1 personer", "(fra e-postdomenet sotenas.se)"),
        ("en", "Organisation inferred for 1 people", "(from the e-mail domain sotenas.se)"),
    ],
)
async def test_the_check_shows_each_organisation_it_inferred(
    env: Env, lang: str, title: str, why: str
) -> None:
    response = await env.client.post(
        f"/admin/import?lang={lang}",
        data=_upload(env, "admin", PLAIN + "Lo Ek,070-174 06 91,lo.ek@sotenas.se\n"),
        headers=_session_only(env, "admin"),
    )
    assert response.status == 200
    html = await response.text()
    assert title in html
    table = html[html.index('id="import-inferred"') :]
    row = re.search(
        r'<td class="mono">(\d+)</td><td>([^<]*)</td><td>([^<]*)<span[^>]*>([^<]*)<', table
    )
    assert row is not None
    assert row.groups() == ("2", "Lo Ek", "Sotenäs kommun ", why)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("sv", "En person utan anknytning behöver en organisation"),
        ("nb", "En person uten internnummer trenger en organisasjon"),
        ("en", "A person without an extension needs an organisation"),
    ],
)
async def test_a_person_nothing_places_is_refused_in_the_readers_language(
    env: Env, lang: str, words: str
) -> None:
    response = await env.client.post(
        f"/admin/import?lang={lang}",
        data=_upload(env, "admin", PLAIN + "Lo Ek,070-174 06 91,lo.ek@gmail.example\n"),
        headers=_session_only(env, "admin"),
    )
    assert response.status == 422
    table = (await response.text()).split('id="import-errors"', 1)[1]
    assert "<code>organisation</code>" in table
    assert words in table
    if lang != "en":
        assert "needs an organisation" not in table  # no English server text


async def test_dry_run_lists_the_changed_columns(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    row = (
        f"{anna.name},0523-664123,070-174 06 05,{anna.email},{anna.unit},Enhetschef,sv,"
        "no,no,private,,\n"
    )
    status, html = await _check(env, HEADER + row)
    assert status == 200
    changes = html[html.index('id="import-changes"') :]
    assert "Anna Berg" in changes
    assert "<code>title</code>" in changes


async def test_a_large_check_counts_every_change_and_lists_the_first_of_each(
    env: Env,
) -> None:
    """A region's file changes up to 100,000 people: the check counts them all and lists
    the first ``PREVIEW_ROWS`` of each kind, saying how many more there are."""
    extra = PREVIEW_ROWS + 7
    rows = "".join(
        f"Ny Person {n},,070-9{n:06d},ny.person{n}@sotenas.example,IT,Tekniker,sv,no,no,private,,\n"
        for n in range(extra)
    )
    status, html = await _check(env, HEADER + rows)
    assert status == 200, html
    start = html.index('id="import-changes"')
    changes = html[start : html.index("</table>", start)]
    assert changes.count("<tr><td>") == PREVIEW_ROWS
    assert "Ny Person 0<" in changes
    assert f"Ny Person {PREVIEW_ROWS}<" not in changes
    assert f"{extra} nya, 0 ändrade" in html
    more = html[html.index('id="import-more"') :]
    assert f"första {PREVIEW_ROWS} av varje slag; ytterligare 7 nya och 0 ändrade" in more
    # Nobody's organisation is in the file: inferred from the e-mail, listed the same way.
    start = html.index('id="import-inferred"')
    inferred = html[start : html.index("</table>", start)]
    assert inferred.count('<tr><td class="mono">') == PREVIEW_ROWS
    assert f"{extra} " in html[html.index('id="import-inferred-title"') : start]
    assert "ytterligare 7 listas inte" in html[html.index('id="import-inferred-more"') :]


async def test_a_file_refused_on_every_row_lists_the_first_problems_and_counts_all(
    env: Env,
) -> None:
    rows = "".join(
        f"Fel {n},0523-66{n:04d},,,IT,Tekniker,sv,kanske,no,private,,\n" for n in range(1_005)
    )
    status, html = await _check(env, HEADER + rows)
    assert status == 422
    title = html[html.index('id="import-errors-title"') :]
    found = re.search(r"(\d+) fel i", title[: title.index("</strong>")])
    assert found is not None
    total = int(found.group(1))
    assert total >= 1_005  # every row's, counted
    start = html.index('id="import-errors"')
    table = html[start : html.index("</table>", start)]
    assert table.count('<tr><td class="mono">') == SHOWN_PROBLEMS
    more = html[html.index('id="import-errors-more"') :]
    assert f"första {SHOWN_PROBLEMS}; ytterligare {total - SHOWN_PROBLEMS} listas" in more


async def test_people_policy_and_audit_pages_show_what_they_manage(env: Env) -> None:
    engine = env.runtime.engine
    await engine.grant_exception(
        "anna.berg@sotenas.example", PolicyRule.HIDE_EXTENSION, "Decided by HR 2026-11", "t.root"
    )
    _, html, _ = await _get(env, "admin", "/admin/people")
    assert 'data-username="t.anna"' in html
    form = html[html.index('data-username="t.root"') :]
    assert re.search(r'value="admin" checked', form[: form.index("</form>")])

    _, html, _ = await _get(env, "admin", "/admin/policy")
    assert "Decided by HR 2026-11" in html
    assert 'data-revoke data-subject="anna.berg@sotenas.example"' in html
    assert 'id="grant-form"' in html

    _, html, _ = await _get(env, "admin", "/admin/audit?actor=t.root")
    assert 'data-action="exception_granted"' in html
    _, html, _ = await _get(env, "admin", "/admin/audit?actor=nobody.at.all")
    assert 'data-action="exception_granted"' not in html
    _, html, _ = await _get(env, "admin", f"/admin/audit?person={EMPLOYEE_EXT}")
    # the subject is the e-mail key, not her id
    assert 'data-action="exception_granted"' not in html
    status, _, _ = await _get(env, "admin", "/admin/audit?before=abc")
    assert status == 400
    # Paging: an "older" link continues below the last entry shown.
    entries = await engine.store.audit_page(4)
    _, html, _ = await _get(env, "admin", "/admin/audit?limit=2")
    older = re.search(
        r'id="audit-older" href="\?person=&amp;actor=&amp;limit=2&amp;before=(\d+)"', html
    )
    assert older is not None
    assert int(older.group(1)) == entries[1].seq
    _, html, _ = await _get(env, "admin", f"/admin/audit?limit=2&before={older.group(1)}")
    shown = html[html.index('id="audit"') :]
    assert f'data-action="{entries[2].action}"' in shown
    assert 'data-action="exception_granted"' not in shown


async def test_call_lists_page_for_the_manager_and_the_admin(env: Env) -> None:
    await _make_manager(env)
    anna = env.person(EMPLOYEE_EXT)
    _, html, _ = await _get(env, "manager", CALLS)
    assert 'id="ask-form"' in html
    assert f'value="{anna.person_id}"' in html
    assert 'id="no-requests"' in html

    now = env.clock.now()
    body = {
        "person_id": anna.person_id,
        "start": now.replace(day=now.day - 7).isoformat(),
        "end": now.replace(day=now.day - 1).isoformat(),
        "reason": "Review of the on-call rota",
    }
    response = await env.client.post(
        "/api/v1/call-lists", json=body, headers=env.headers["manager"]
    )
    assert response.status == 201
    rid = (await response.json())["id"]

    _, html, _ = await _get(env, "manager", CALLS)
    assert "Review of the on-call rota" in html
    assert "decide-form" not in html  # nobody decides on their own request
    assert "/records?format=csv" not in html

    _, html, _ = await _get(env, "admin", CALLS)
    assert 'id="ask-form"' not in html  # an administrator asks for nothing
    assert f'class="decide-form" data-id="{rid}"' in html
    response = await env.client.post(
        f"/api/v1/call-lists/{rid}/approve",
        json={"comment": "Approved per HR"},
        headers=env.headers["admin"],
    )
    assert response.status == 200
    _, html, _ = await _get(env, "manager", CALLS)
    assert f"/api/v1/call-lists/{rid}/records?format=csv" in html
    _, html, _ = await _get(env, "admin", CALLS)
    assert "/records?format=csv" not in html  # only the manager who asked downloads


async def test_the_import_form_takes_a_file_larger_than_other_bodies(env: Env) -> None:
    padding = ",,,,,,,,,,,\n" * 20_000  # empty rows, skipped: 240 KB, over max_body
    response = await env.client.post(
        "/admin/import",
        data=_upload(env, "admin", HEADER + NEW_ROW + padding),
        headers=_session_only(env, "admin"),
    )
    assert response.status == 200, (await response.text())[:500]
    html = await response.text()
    assert "Nils Nordin" in html
    assert 'id="import-commit"' in html
