"""The domain, wired: every room's tables and service operations, imported once by each entry point.

Importing a room's ``models`` module declares its tables (SQLAlchemy and Alembic see only what was
imported); importing a module that registers service operations (``cases/core/services.py``) makes
them callable from the diagrams' service tasks. ``server/app.py``, the CLI and the workers call
:func:`install` before they use the database.
"""
from __future__ import annotations

from cases.casework import complaints, storage, surveys
from cases.casework import models as casework_models
from cases.channels import models as channel_models
from cases.core import events, idempotency
from cases.core import models as core_models
from cases.core.services import OPERATIONS
from cases.customers import models as customer_models
from cases.knowledge import models as knowledge_models
from cases.outbox import hq
from cases.outbox import models as outbox_models
from cases.process import assignment, lease
from cases.process import models as process_models
from cases.service import (
    case_figures,
    maintenance,
    major_incidents,
    problems,
    quality,
    risks,
    training,
    visits,
    visits_due,
    visits_review,
)
from cases.service import catalogue as service_catalogue
from cases.service import models as service_models
from cases.service import oversight_models as service_oversight_models
from cases.service import visit_models as service_visit_models
from cases.sla import clock
from cases.sla import models as sla_models
from cases.whatif import models as whatif_models

#: every room's tables
MODELS = (core_models, process_models, sla_models, outbox_models, customer_models, channel_models,
          casework_models, knowledge_models,
          # tables defined beside the code that owns them: kept answers, the scheduler's lease, blobs
          idempotency, lease, storage, whatif_models, service_models, service_oversight_models, service_visit_models)
#: the modules that register service operations
OPERATION_MODULES = (events, assignment, clock, hq, surveys, complaints, training, risks, visits, visits_due,
                     maintenance)
#: the modules that register sections of the quarterly review (cases/service/review.py) and form
#: references (the negotiation form's catalogue entries, cases/service/catalogue.py)
REVIEW_SECTION_MODULES = (case_figures, major_incidents, problems, training, risks, quality, visits_review,
                          service_catalogue)


def install() -> frozenset[str]:
    """Make sure every table and operation is declared; the names of the operations."""
    return frozenset(OPERATIONS)
