"""The interview pipeline: idea -> asked (a consent request mail) -> agreed by the member's own link ->
drafted -> published with its link; published pieces go to the next newsletter and the public list."""

from __future__ import annotations

import datetime as dt

import functions_framework
import pytest

from shared import bootstrap
from shared.domain.applications import email_key
from tests.conftest import ROOT
from tests.fakes import form_submissions as fs
from tests.fakes.mailbox import link_urls, mails, text_of

UTC = dt.UTC
MID = email_key("ichiko@example.jp")


@pytest.fixture
def env(project, outbox, example_config, monkeypatch, db):
    monkeypatch.setenv("ACTION_LINK_KEY", fs.ACTION_KEY)
    monkeypatch.delenv("ACTIONS_BASE_URL", raising=False)
    db.collection("members").document(MID).set({"name": "起業　一子", "email": "ichiko@example.jp", "locale": "ja"})
    from shared.entrypoints.jobs_newsletter import interview_deps

    return interview_deps


def test_the_pipeline_asks_for_consent_and_publishes_only_with_it(env, db, outbox):
    from shared.usecases import interviews as iv

    deps = env()
    now = dt.datetime.now(UTC)
    iid = iv.add(deps.store, MID, "元エンジニアが起業して学んだこと", now, by="鈴木")
    with pytest.raises(iv.InterviewError):
        iv.add(deps.store, MID, "元エンジニアが起業して学んだこと", now)  # the same idea twice
    with pytest.raises(iv.InterviewError, match="next step is asked"):
        iv.move(deps, iid, "drafted", now)
    iv.move(deps, iid, "asked", now, by="鈴木")
    with pytest.raises(iv.InterviewError, match="consent"):
        iv.move(deps, iid, "agreed", now)  # only the member's own answer agrees
    piece = db.collection("interviews").document(iid).get().to_dict()
    assert piece["state"] == "asked"
    request = mails(outbox)[f"interview:{iid}:ask"]
    assert "元エンジニアが起業して学んだこと" in text_of(request)
    urls = link_urls(request)
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    token = urls["interview_agree"].split("t=", 1)[1]
    page = act.get("/", query_string={"t": token})
    assert page.status_code == 200 and "同意をお願いします" in page.get_data(as_text=True)
    assert db.collection("interviews").document(iid).get().to_dict()["consent"] is None  # opening decides nothing
    assert act.post("/", data={"t": token}).status_code == 200
    piece = db.collection("interviews").document(iid).get().to_dict()
    assert piece["state"] == "agreed" and piece["consent"]["value"] is True and piece["consent"]["source"] == "link"
    decline = urls["interview_decline"].split("t=", 1)[1]
    assert act.post("/", data={"t": decline}).status_code == 409  # the first answer stands

    iv.move(deps, iid, "drafted", now)
    with pytest.raises(iv.InterviewError, match="link"):
        iv.move(deps, iid, "published", now)
    iv.move(deps, iid, "published", now, link="https://example.jp/interviews/1")
    [shown] = iv.published(deps.store)
    assert (shown["title"], shown["member"], shown["link"]) == ("元エンジニアが起業して学んだこと", "起業　一子",
                                                               "https://example.jp/interviews/1")
    assert [h["state"] for h in db.collection("interviews").document(iid).get().to_dict()["history"]] == [
        "idea", "asked", "agreed", "drafted", "published"]
    from shared.usecases import newsletter

    c = newsletter.content(bootstrap.config(), bootstrap.slot_store(), deps.store, "2027-03", now)
    assert [p["link"] for p in c["interviews"]] == ["https://example.jp/interviews/1"]

    # Published again with a corrected link, after it went out: the link changes, the news does not.
    db.collection("interviews").document(iid).update({"newsletter_pending": False})
    first = db.collection("interviews").document(iid).get().to_dict()["published_at"]
    iv.move(deps, iid, "published", now + dt.timedelta(days=3), link="https://example.jp/interviews/1-fixed")
    again = db.collection("interviews").document(iid).get().to_dict()
    assert again["link"] == "https://example.jp/interviews/1-fixed" and again["published_at"] == first
    assert again["newsletter_pending"] is False
    assert newsletter.content(bootstrap.config(), bootstrap.slot_store(), deps.store, "2027-04", now)["interviews"] == []


def test_the_newsletter_takes_only_pieces_the_member_agreed_to_and_never_a_script_link(env, db):
    """The same rules as the public stories page (shared/usecases/stories.py): a piece set to
    published by hand, without the member's consent, or with a ``javascript:`` link."""
    from shared.usecases import newsletter

    deps = env()
    now = dt.datetime.now(UTC)
    base = {"member_id": MID, "member_name": "起業　一子", "state": "published", "published_at": now,
            "newsletter_pending": True, "link": "https://example.jp/a"}
    db.collection("interviews").document("ok").set({**base, "title": "同意あり", "consent": {"value": True}})
    db.collection("interviews").document("no").set({**base, "title": "同意なし", "consent": None})
    db.collection("interviews").document("js").set({**base, "title": "スクリプト", "consent": {"value": True},
                                                    "link": "javascript:alert(1)"})
    c = newsletter.content(bootstrap.config(), bootstrap.slot_store(), deps.store, "2027-03", now)
    assert sorted((p["title"], p["link"]) for p in c["interviews"]) == [("スクリプト", ""), ("同意あり", "https://example.jp/a")]


def test_a_declined_request_stops_the_piece(env, db, outbox):
    from shared.usecases import interviews as iv

    deps = env()
    now = dt.datetime.now(UTC)
    iid = iv.add(deps.store, MID, "子育てと副業", now)
    iv.move(deps, iid, "asked", now)
    act = functions_framework.create_app("actions", str(ROOT / "functions/actions/main.py")).test_client()
    token = link_urls(mails(outbox)[f"interview:{iid}:ask"])["interview_decline"].split("t=", 1)[1]
    assert act.post("/", data={"t": token}).status_code == 200
    piece = db.collection("interviews").document(iid).get().to_dict()
    assert piece["state"] == "declined" and piece["consent"]["value"] is False
    with pytest.raises(iv.InterviewError, match="declined"):
        iv.move(deps, iid, "agreed", now)
    assert iv.published(deps.store) == []


def test_the_cli_lists_adds_and_moves(env, db, outbox, capsys):
    from shared.entrypoints import cli

    env()
    assert cli.main(["interviews", "add", "--email", "ichiko@example.jp", "--angle", "アルムナイの力"]) == 0
    iid = capsys.readouterr().out.strip()
    assert cli.main(["interviews", "move", iid, "asked"]) == 0 and "同意のお願い" in capsys.readouterr().out
    assert cli.main(["interviews", "move", iid, "published"]) == 2
    assert "next step is agreed" in capsys.readouterr().err
    assert cli.main(["interviews"]) == 0 and "起業　一子" in capsys.readouterr().out
