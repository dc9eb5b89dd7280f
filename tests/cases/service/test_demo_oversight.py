"""The demo data shows training, risks and quality audits with real figures in the quarterly review."""
from __future__ import annotations

from datetime import timedelta

from cases.core.models import utcnow
from cases.demo import load as demo
from cases.kpis.figures import Period
from cases.service import due, quality, risks, training
from tests.conftest import FAST_HASH, PASSWORD


def test_the_demo_has_a_quarter_of_training_risks_and_audits(app_ctx):
    demo.load(PASSWORD, FAST_HASH)
    today = utcnow().date()
    quarter = Period(today - timedelta(days=90), today)
    k = training.kpis(quarter)
    assert (k.sessions_held, k.attended, k.missed) == (3, 5, 2)
    assert (k.support_staff, k.staff_covered, k.assessments) == (4, 4, 5)
    assert k.participation == 5 / 7 and k.coverage == 1.0
    figures = {f.key: f.value for f in risks.review_section(quarter, None).figures}
    assert (figures["open_high"], figures["raised"]) == (2, 4)
    # the backup risk's review date is today: due from 09:00 (Shanghai), whatever the time of the run
    assert len(due.run(risks.review_moment(risks.today(utcnow())) + timedelta(minutes=1)).reviews_due) == 1
    audited = {f.key: f.value for f in quality.review_section(quarter, None).figures}
    assert audited["audited"] >= 1 and audited["average_score"] is not None
