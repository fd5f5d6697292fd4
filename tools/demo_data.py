"""The people and words the demo makes up, per language of the community it runs for.

The demo plays applicants, speakers and members; what they type is data (names, topics, answers),
not a text of ours, so it lives here rather than in shared/templates/. An English community's demo
shows English people writing English, so that nothing Japanese reaches it (tests/e2e/test_demo_flow.py).
"""

from __future__ import annotations

from typing import Any

from shared.platform import texts

SAMPLES: dict[str, dict[str, Any]] = {
    "ja": {
        "members": ["山本　さくら", "高橋　一郎", "中村　美咲", "小林　健"],
        "directory": {"company": "株式会社デモ", "role": "代表", "intro": "デモの紹介文"},
        "proposal": {"title": "読書会　第1回", "description": "好きな本を持ち寄って語り合います。"},
        "speaker": {"name": "山田　花子", "topic": "アルムナイと新規事業"},
        "applicants": [
            {"name": "山田　花子", "email": "hanako.yamada@example.jp", "relation": "元社員", "period": "2005年〜2018年",
             "department": "R&D 第二開発部", "yes": "はい"},
            {"name": "佐々木　一郎", "email": "ichiro.sasaki@example.jp", "relation": "現社員", "period": "２０１９年〜",
             "department": "ＩＴ企画部", "yes": "いいえ", "group_company": True, "full_width": True},
            {"name": "高橋　美咲", "email": "misaki.takahashi@example.jp", "relation": "", "period": "", "department": "",
             "yes": "はい", "blank": True},
        ],
        "organizer_choice": 0,
    },
    "en": {
        "members": ["Sarah Mitchell", "James Robertson", "Aisha Khan", "Callum Reid"],
        "directory": {"company": "Demo Ventures Ltd", "role": "Founder", "intro": "A demo introduction."},
        "proposal": {"title": "Book club, first meeting", "description": "Bring a book you loved and tell us why."},
        "speaker": {"name": "Morag Campbell", "topic": "From engineer to founder"},
        "applicants": [
            {"name": "Morag Campbell", "email": "morag.campbell@example.org", "relation": "Former employee",
             "period": "2005-2018", "department": "R&D", "yes": "Yes"},
            {"name": "Daniel Okafor", "email": "daniel.okafor@example.org", "relation": "Current employee",
             "period": "since 2019", "department": "IT", "yes": "No", "group_company": True},
            {"name": "Emily Brown", "email": "emily.brown@example.org", "relation": "", "period": "", "department": "",
             "yes": "Yes", "blank": True},
        ],
        "organizer_choice": 0,
    },
}


def samples(locale: str) -> dict[str, Any]:
    return SAMPLES[texts.language(locale)]
