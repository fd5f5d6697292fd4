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

FORM_ID = "1Xb2exampleMembershipForm0123456789AbCdEfGh"
TITLES = {"name": "お名前", "email": "メールアドレス", "affiliation": "在籍していた(している)会社名",
          "relation": "在籍区分(元社員/現社員)", "period": "在籍期間", "department": "所属部署",
          "slack_opt_in": "Slack への参加を希望しますか"}


def submission(response_id: str, **values: Any) -> dict[str, Any]:
    return {"formId": FORM_ID, "responseId": response_id, "submittedAt": "2026-11-28T09:15:00Z", "respondentEmail": None,
            "answers": [{"questionId": f"q{i}", "title": TITLES[k], "answer": v} for i, (k, v) in enumerate(values.items())]}


def signed(secret: str, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    return {"Content-Type": "application/json", "X-Autopilot-Timestamp": ts,
            "X-Autopilot-Signature": hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()}


def demo_applications(ctx: dict[str, Any]) -> None:
    banner = ctx["banner"]
    outbox = Path(ctx["outbox"])
    secret, key = secrets.token_hex(16), secrets.token_hex(16)
    env = {"FORM_WEBHOOK_SECRET": secret, "ACTION_LINK_KEY": key, "ACTIONS_BASE_URL": "http://localhost:8081/"}
    started = time.time() - 1
    former = submission("ACYDBNdemoFormer01", name="山田　花子", email="hanako.yamada@example.jp", affiliation="ソニー株式会社",
                        relation="元社員", period="2005年〜2018年", department="R&D 第二開発部", slack_opt_in="はい")
    cases = [
        ("former employee, complete", former, True),
        ("current employee of a group company, full-width", submission(
            "ACYDBNdemoCurrent02", name="佐々木　一郎", email="ichiro.sasaki@example.jp", affiliation="ソニー銀行（株）",
            relation="現社員", period="２０１９年〜", department="ＩＴ企画部", slack_opt_in="いいえ"), True),
        ("blank screening answers", submission(
            "ACYDBNdemoBlank03", name="高橋　美咲", email="misaki.takahashi@example.jp", affiliation="", relation=[],
            period="", department="", slack_opt_in="はい"), True),
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
