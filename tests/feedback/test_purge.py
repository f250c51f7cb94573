"""The retention job: personal data erased after its retention, figures and statuses kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from paris_live.db import connect
from schemas.catalogue import load_catalogue
from streams.feedback_cli import purge_personal_data
from tests.feedback.feedback_testkit import FeedbackApi
from tests.testkit import wait_until

pytestmark = pytest.mark.integration
POOL = load_catalogue().by_type("pool")[0]
CONTACT = "jean.martin.77@example.org"


async def test_personal_data_is_erased_after_retention_and_figures_stay(
    feedback_api: FeedbackApi, feedback_job: Any
) -> None:
    """Past retention: text, contact and comments are gone; status, counts and ratings remain;
    a recent complaint keeps its contact; a second run changes nothing."""
    http, settings = feedback_api.http, feedback_api.settings
    body = {"facility_id": POOL.id, "rule": "delays", "text": "Une heure d'attente au guichet."}
    old = (await http.post("/v1/complaints", json={**body, "contact": CONTACT})).json()
    new = (await http.post("/v1/complaints", json={**body, "contact": "b" + CONTACT},
                           headers={"X-Forwarded-For": "198.51.100.3"})).json()  # fmt: skip
    await http.post(
        f"/v1/facilities/{POOL.id}/feedback", json={"rating": 2, "went_wrong": "Attente"}
    )

    async def stored() -> bool:
        async with await connect(settings) as conn:
            row = await (await conn.execute("SELECT count(*) FROM survey_responses")).fetchone()
        return row == (1,)

    await wait_until(stored, within=20, what="the survey answer stored")
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            "UPDATE complaints SET filed_at = filed_at - interval '400 days', "
            "acknowledge_due_at = acknowledge_due_at - interval '400 days', "
            "answer_due_at = answer_due_at - interval '400 days' WHERE reference = %s",
            (old["reference"],),
        )
        await conn.execute(
            "UPDATE survey_responses SET submitted_at = submitted_at - interval '100 days'"
        )
        before = await (await conn.execute("SELECT * FROM satisfaction_monthly")).fetchall()

    dry = await purge_personal_data(settings, dry_run=True)
    assert (dry.complaints, dry.surveys) == (1, 1)
    done = await purge_personal_data(settings)
    assert (done.complaints, done.surveys) == (1, 1)
    again = await purge_personal_data(settings, now=dt.datetime.now(dt.UTC))
    assert (again.complaints, again.surveys) == (0, 0)

    async with await connect(settings) as conn:
        rows = await (
            await conn.execute(
                "SELECT reference, text, contact, purged_at IS NOT NULL FROM complaints "
                "ORDER BY filed_at"
            )
        ).fetchall()
        survey = await (
            await conn.execute(
                "SELECT rating, went_wrong, purged_at IS NOT NULL FROM survey_responses"
            )
        ).fetchone()
        after = await (await conn.execute("SELECT * FROM satisfaction_monthly")).fetchall()
    assert rows[0] == (old["reference"], None, None, True)
    assert rows[1][2] == "b" + CONTACT and rows[1][3] is False
    assert survey == (2, None, True)
    assert after == before
    status = await http.get(f"/v1/complaints/{old['reference']}")
    assert status.status_code == 200 and status.json()["status"] == "received"
    assert new["reference"] != old["reference"]
