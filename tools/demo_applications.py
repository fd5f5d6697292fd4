"""Demo step (docs/applications.md): form_webhook as a real process, five deliveries, and the mails it wrote.

Called by tools/demo.py as ``demo_applications(ctx)`` with ctx = {root, outbox, emulator_host, banner}.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import secrets
import time
from email import policy
from pathlib import Path
from typing import Any

import requests

from tools.fnproc import running


def submission(cfg: Any, response_id: str, **values: Any) -> dict[str, Any]:
    """A form response answering the config's own questions (whatever language they are in)."""
    apps = cfg.applications
    answers = []
    for i, (field, value) in enumerate(values.items()):
        ref = getattr(apps.questions, field, None)
        if ref is not None:
            answers.append({"questionId": f"q{i}", "title": ref.title, "answer": value})
    return {"formId": apps.form_id, "responseId": response_id, "submittedAt": "2026-11-28T09:15:00Z",
            "respondentEmail": None, "answers": answers}


def applicant_answers(cfg: Any, person: dict[str, Any]) -> dict[str, Any]:
    apps = cfg.applications
    company = (apps.group_companies[0] if person.get("group_company") and apps.group_companies else apps.company)
    if person.get("full_width"):  # as people type it: 株式会社 abbreviated, in full-width brackets
        company = company.replace("株式会社", "（株）")
    answers: dict[str, Any] = {"name": person["name"], "email": person["email"],
                               "affiliation": "" if person.get("blank") else company,
                               "relation": [] if person.get("blank") else person["relation"], "period": person["period"],
                               "department": person["department"]}
    for opt in ("slack_opt_in", "prompt_opt_in"):
        if getattr(apps.questions, opt, None) is not None:
            answers[opt] = person["yes"]
    return answers


def signed(secret: str, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/json", "X-Autopilot-Timestamp": ts,
            "X-Autopilot-Signature": hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()}


def demo_applications(ctx: dict[str, Any]) -> None:
    from shared import bootstrap
    from tools.demo_data import samples

    banner = ctx["banner"]
    outbox = Path(ctx["outbox"])
    cfg = bootstrap.config()
    if cfg.applications is None:
        return
    people = samples(cfg.community.locale)["applicants"]
    secret, key = secrets.token_hex(16), secrets.token_hex(16)
    env = {"FORM_WEBHOOK_SECRET": secret, "ACTION_LINK_KEY": key, "ACTIONS_BASE_URL": "http://localhost:8081/"}
    started = time.time() - 1
    former = submission(cfg, "ACYDBNdemoFormer01", **applicant_answers(cfg, people[0]))
    cases = [
        ("former employee, complete", former, True),
        ("current employee of a group company", submission(cfg, "ACYDBNdemoCurrent02", **applicant_answers(cfg, people[1])), True),
        ("blank screening answers", submission(cfg, "ACYDBNdemoBlank03", **applicant_answers(cfg, people[2])), True),
        ("second delivery of the first", former, True),
        ("forged request (wrong secret)", former, False),
    ]
    with running("form_webhook", env=env) as fn:
        banner("form_webhook (a real functions-framework process)")
        for label, data, good in cases:
            body = json.dumps(data, ensure_ascii=False).encode()
            headers = signed(secret if good else "not-the-secret-0123456789", body)
            res = requests.post(fn.url, data=body, headers=headers, timeout=60)
            print(f"{label:<50} HTTP {res.status_code} {res.text.strip()}")
    banner("mails written by the applications flow (outbox/mail)")
    for path in sorted(p for p in (outbox / "mail").glob("application*.eml") if p.stat().st_mtime >= started):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        print(f"--- {path.name}\nTo: {msg['To']}\nSubject: {msg['Subject']}")
        print("\n".join(f"    {line}" for line in text.strip().splitlines()[:14]))
    print(f"\n(full messages: {outbox / 'mail'}; the approve/reject links are served by the `actions` function)")
    _follow_approve_link(ctx, env)


def _follow_approve_link(ctx: dict[str, Any], env: dict[str, str]) -> None:
    """An organizer opens the approve link of the first review mail, picks their name and presses the
    button: the page the `actions` function shows at each step, as text."""
    import os
    import re

    import functions_framework

    from shared import bootstrap

    banner, outbox = ctx["banner"], Path(ctx["outbox"])
    review = next(iter(sorted((outbox / "mail").glob("application*review*.eml"))), None)
    if review is None:
        return
    msg = email.message_from_bytes(review.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("plain",))
    found = re.search(r"http://localhost:8081/\?t=[\w.~-]+", body.get_content() if body else "")
    if found is None:
        return
    banner("actions: an organizer follows the approve link (the pages, as text)")
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        bootstrap.reset()
        client = functions_framework.create_app("actions", str(Path(ctx["root"]) / "functions/actions/main.py")).test_client()
        token = found.group(0).split("t=", 1)[1]
        page = client.get(f"/?t={token}")
        print(f"GET  HTTP {page.status_code}: {_page_text(page.get_data(as_text=True))}")
        actor = next(iter(bootstrap.config().organizers))
        done = client.post("/", data={"t": token, "actor": actor})
        print(f"POST HTTP {done.status_code}: {_page_text(done.get_data(as_text=True))}")
        pages = outbox / "pages"
        pages.mkdir(exist_ok=True)
        (pages / "approve_confirm.html").write_text(page.get_data(as_text=True), encoding="utf-8")
        (pages / "approve_done.html").write_text(done.get_data(as_text=True), encoding="utf-8")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        bootstrap.reset()


def _page_text(html: str) -> str:
    import html as html_lib
    import re

    body = re.sub(r"(?s)<(style|script|title)[^>]*>.*?</\1>", " ", html)
    words = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(words).split())[:300]
