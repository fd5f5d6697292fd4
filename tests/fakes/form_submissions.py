"""Form submissions as the Apps Script sends them, signed; Japanese test data."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SECRET = "test-form-webhook-secret-0123456789"
ACTION_KEY = "test-action-link-key-0123456789abcdef"
FORM_ID = "1Xb2exampleMembershipForm0123456789AbCdEfGh"

TITLES = {
    "name": "お名前", "email": "メールアドレス", "affiliation": "在籍していた(している)会社名",
    "relation": "在籍区分(元社員/現社員)", "period": "在籍期間", "department": "所属部署", "referrer": "紹介者",
    "directory_opt_in": "創業者・経営者ディレクトリへの掲載を希望しますか", "slack_opt_in": "Slack への参加を希望しますか",
    "prompt_opt_in": "週次メール(#なんでもありデー)を受け取りますか", "newsletter_opt_in": "月刊ニュースレターを受け取りますか",
    "directory_company": "会社名(ディレクトリ掲載用)", "directory_role": "役職(ディレクトリ掲載用)",
    "directory_link": "ウェブサイト・SNS(ディレクトリ掲載用)", "directory_intro": "自己紹介(ディレクトリ掲載用)",
    "referral_code": "紹介コード(招待リンクから自動で入ります)",
}


def answers(**values: Any) -> list[dict[str, Any]]:
    return [{"questionId": f"q{i:02d}", "title": TITLES[k], "answer": v} for i, (k, v) in enumerate(values.items())]


def submission(response_id: str = "ACYDBNj_former_1", **overrides: Any) -> dict[str, Any]:
    values = {"name": "山田　花子", "email": "hanako.yamada@example.jp", "affiliation": "ソニー株式会社",
              "relation": "元社員", "period": "2005年〜2018年", "department": "R&D\n第二開発部",
              "referrer": "田中さん", "directory_opt_in": "いいえ", "slack_opt_in": "はい"}
    values.update(overrides)
    return {"formId": FORM_ID, "responseId": response_id, "submittedAt": "2026-11-28T09:15:00.123Z",
            "respondentEmail": None, "answers": answers(**{k: v for k, v in values.items() if v is not None})}


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Autopilot-Timestamp": ts, "X-Autopilot-Signature": sig}


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()
