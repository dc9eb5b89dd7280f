"""The KPI test's hand-built week of cases, shared as fixtures."""
from tests.cases.kpis.test_kpis import dataset, teams  # noqa: F401
