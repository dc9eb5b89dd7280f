"""Who may call what: one table, endpoint × role, enforced before any view runs.

This is the coarse gate. Finer rules that depend on the object stay in the domain: a customer
reaches only their organisation's cases, a task needs its lane's role, a release needs the
assignee or a supervisor. An endpoint missing from the table is refused for everyone.
"""
from __future__ import annotations

from flask import Flask, g, request

from cases.core.errors import Forbidden
from cases.core.models import Role
from gateway.auth import PUBLIC_ENDPOINTS

R = Role
EVERYONE = frozenset(r.value for r in Role)
FRONT_LINE = frozenset({R.AGENT.value, R.SERVICE_CONSULTANT.value, R.SUPERVISOR.value, R.ADMIN.value})
CASE_OPENERS = FRONT_LINE | {R.CUSTOMER.value}
OPERATORS = frozenset({R.ADMIN.value, R.PROCESS_OWNER.value, R.SUPERVISOR.value})
DEPLOYERS = frozenset({R.ADMIN.value, R.PROCESS_OWNER.value})
ADMINS = frozenset({R.ADMIN.value})
SUPERVISORS = frozenset({R.SUPERVISOR.value})
STAFF = EVERYONE - {R.CUSTOMER.value}
MAIL_OPERATORS = frozenset({R.ADMIN.value, R.SUPERVISOR.value})
KPI_READERS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.PROCESS_OWNER.value, R.ADMIN.value})
REVIEW_READERS = KPI_READERS | {R.BUSINESS_MANAGER.value}  # they hold the quarterly review with customers
CUSTOMERS = frozenset({R.CUSTOMER.value})
KB_WRITERS = FRONT_LINE  # agents, service consultants, supervisors, admins
DEPLOYMENT_SETTERS = frozenset({R.ADMIN.value, R.MANAGER.value})
CUSTOMER_EDITORS = DEPLOYMENT_SETTERS
ANNOUNCERS = frozenset({R.ADMIN.value, R.SUPERVISOR.value, R.MANAGER.value})
#: the escalation queue and its actions: supervisors, and managers (the ladder's last rung)
ESCALATION_WORKERS = frozenset({R.SUPERVISOR.value, R.MANAGER.value})
STAFFING_READERS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.ADMIN.value})
STAFFING_SETTERS = frozenset({R.MANAGER.value, R.ADMIN.value})

#: who declares and leads a major incident (its team members, any staff, work it too: the domain checks)
INCIDENT_LEADS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.TECHNICAL_LEAD.value, R.ADMIN.value})

#: who marks a group of recurring cases as a known problem: the knowledge base's writers, the technical
#: lead and managers
PROBLEM_MARKERS = KB_WRITERS | {R.TECHNICAL_LEAD.value, R.MANAGER.value}

WHATIF_USERS = frozenset({R.MANAGER.value, R.PROCESS_OWNER.value, R.ADMIN.value})
#: training (cases/service/training.py): planners plan and record attendance; the front line also enrols
TRAINING_PLANNERS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.TECHNICAL_LEAD.value, R.ADMIN.value})
TRAINING_ENROLLERS = TRAINING_PLANNERS | {R.AGENT.value, R.SERVICE_CONSULTANT.value}
#: who records attendance and follows up absentees: the planners and the session's trainer, whatever
#: their role (the use case checks which session; cases/service/training.py)
TRAINING_RUNNERS = STAFF
#: the risk register: every member of staff raises risks and links evidence; owners and these review
RISK_MANAGERS = TRAINING_PLANNERS
#: quality audits: the quality monitor's work (supervisors, the customer service manager, admins)
QUALITY_MONITORS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.ADMIN.value})
#: the catalogue of paid special services is kept by the business managers (and managers, admins)
CATALOGUE_KEEPERS = frozenset({R.BUSINESS_MANAGER.value, R.MANAGER.value, R.ADMIN.value})
#: maintenance schedules are planned by supervisors, managers and admins
PLANNERS = frozenset({R.SUPERVISOR.value, R.MANAGER.value, R.ADMIN.value})
#: a visit's window is answered by the customer, or by the front line for them
VISIT_ANSWERERS = FRONT_LINE | {R.CUSTOMER.value}

#: (endpoint, method) -> the roles that may call it, with what it is for.
MATRIX: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("me.Me", "GET"): (EVERYONE, "who am I"),
    ("cases.CaseCollection", "GET"): (EVERYONE, "list cases (customers: their organisation's)"),
    ("cases.CaseCollection", "POST"): (CASE_OPENERS, "open a case (customers: for their organisation)"),
    ("cases.CaseItem", "GET"): (EVERYONE, "read a case (customers: their organisation's, public part)"),
    ("cases.CaseMessage", "POST"): (CASE_OPENERS, "send a message to a waiting case"),
    ("cases.SelfService", "POST"): (CASE_OPENERS, "close a case a knowledge-base article answered"),
    ("cases.CaseComplaints", "POST"): (CASE_OPENERS, "file a complaint about a case (a linked complaint case)"),
    ("cases.CaseReplies", "POST"): (FRONT_LINE, "write to the customer on the case's channel (mail, chat, call-back note)"),
    ("tasks.TaskCollection", "GET"): (EVERYONE, "inbox (customers: their customer-lane tasks)"),
    ("tasks.TaskItem", "GET"): (EVERYONE, "read a task and its form"),
    ("tasks.TaskClaim", "POST"): (EVERYONE, "claim (the task's lane decides)"),
    ("tasks.TaskRelease", "POST"): (EVERYONE, "release (assignee or supervisor)"),
    ("tasks.TaskComplete", "POST"): (EVERYONE, "complete (the task's lane decides)"),
    ("versions.VersionCollection", "GET"): (OPERATORS, "list deployed versions"),
    ("versions.VersionCollection", "POST"): (DEPLOYERS, "deploy process files"),
    ("versions.VersionValidation", "POST"): (DEPLOYERS, "validate process files"),
    ("versions.UploadDiff", "POST"): (DEPLOYERS, "what deploying files would change"),
    ("versions.VersionDiff", "GET"): (OPERATORS, "what a version changed against another"),
    ("migrations.DryRun", "POST"): (DEPLOYERS, "which running cases could move to a version"),
    ("migrations.Migrations", "POST"): (DEPLOYERS, "move running cases to a version"),
    ("migrations.Batch", "GET"): (DEPLOYERS, "a migration's progress"),
    ("migrations.Revert", "POST"): (DEPLOYERS, "move a batch back"),
    ("audit.AuditTrail", "GET"): (OPERATORS, "the audit trail"),
    ("users.UserCollection", "GET"): (ADMINS, "list users"),
    ("users.UserCollection", "POST"): (ADMINS, "create a user"),
    ("users.UserItem", "PATCH"): (ADMINS, "change a user's roles, activity, name, e-mail, password"),
    ("instances.Trouble", "GET"): (OPERATORS, "instances in trouble"),
    ("instances.Retry", "POST"): (OPERATORS, "retry an instance"),
    ("escalations.EscalationQueue", "GET"): (ESCALATION_WORKERS, "the escalation queue: breached and at-risk targets"),
    ("escalations.SlaClock", "GET"): (EVERYONE, "a case's SLA clock (customers: their organisation's)"),
    ("escalations.Reassign", "POST"): (ESCALATION_WORKERS, "give a case to another staff member"),
    ("escalations.TakeOver", "POST"): (ESCALATION_WORKERS, "take a case over"),
    ("escalations.Extend", "POST"): (ESCALATION_WORKERS, "extend an SLA target, with a reason"),
    ("escalations.Reapply", "POST"): (ESCALATION_WORKERS, "re-apply the active SLA policy to a case"),
    ("escalations.ChangePriority", "POST"): (ESCALATION_WORKERS, "change a case's priority (targets recomputed)"),
    ("escalations.Comment", "POST"): (ESCALATION_WORKERS, "comment on an escalated case"),
    ("escalations.Acknowledge", "POST"): (ESCALATION_WORKERS, "acknowledge a breach"),
    ("channels.Calls", "POST"): (FRONT_LINE, "log a hotline call (opens or continues a case)"),
    ("channels.CaseCalls", "GET"): (FRONT_LINE, "the calls logged on a case"),
    ("channels.Callbacks", "GET"): (FRONT_LINE, "customers to call back (replies on hotline cases)"),
    ("notifications.NotificationCollection", "GET"): (MAIL_OPERATORS, "outbound mail: queued, sent, failed"),
    ("notifications.NotificationRetry", "POST"): (ADMINS, "queue a failed mail again"),
    ("chat_posts.ChatPostCollection", "GET"): (MAIL_OPERATORS, "posts to chat platforms: pending, sent, failed, recorded"),
    ("chat_posts.ChatPostRetry", "POST"): (ADMINS, "post a failed or recorded chat message again"),
    ("calendars.CalendarCollection", "GET"): (STAFF, "list business calendars (built-in and stored)"),
    ("calendars.CalendarItem", "GET"): (STAFF, "read a business calendar"),
    ("calendars.CalendarItem", "PUT"): (ADMINS, "create or replace a business calendar (running SLA clocks follow)"),
    ("calendars.CalendarItem", "PATCH"): (ADMINS, "change parts of a business calendar (running SLA clocks follow)"),
    ("calendars.CalendarItem", "DELETE"): (ADMINS, "delete a stored business calendar"),
    ("calendars.CalendarDays", "GET"): (STAFF, "preview a calendar's days and working intervals"),
    ("calendars.CalendarAdd", "GET"): (STAFF, "business time added to an instant"),
    ("calendars.CalendarBetween", "GET"): (STAFF, "business time between two instants"),
    ("sla_policies.ActivePolicy", "GET"): (STAFF, "the active SLA policy"),
    ("sla_policies.PolicyVersions", "GET"): (STAFF, "list SLA policy versions"),
    ("sla_policies.PolicyVersions", "POST"): (ADMINS, "publish a new SLA policy version"),
    ("sla_policies.PolicyVersion", "GET"): (STAFF, "read an SLA policy version"),
    ("sla_policies.PolicyTargets", "GET"): (STAFF, "which SLA rule and targets a case would get"),
    ("sla_policies.Reapply", "POST"): (ADMINS, "re-apply the active SLA policy to every open case, from now"),
    ("staffing.UserSkills", "GET"): (STAFFING_READERS, "a staff member's skills (categories, products)"),
    ("staffing.UserSkills", "PUT"): (STAFFING_SETTERS, "set a staff member's skills"),
    ("staffing.UserRoster", "GET"): (STAFFING_READERS, "a staff member's duty roster"),
    ("staffing.UserRoster", "PUT"): (STAFFING_SETTERS, "set a staff member's duty roster"),
    ("staffing.DedicatedConsultant", "GET"): (STAFFING_READERS, "a customer's dedicated consultant"),
    ("staffing.DedicatedConsultant", "PUT"): (STAFFING_SETTERS, "name a customer's dedicated consultant"),
    ("kpis.Kpis", "GET"): (KPI_READERS, "service KPIs over a period, in total and per group"),
    ("kpis.KpisCsv", "GET"): (KPI_READERS, "the same KPIs as a CSV file"),
    ("service_review.ServiceReview", "GET"): (REVIEW_READERS, "the quarterly service review (a customer's or the whole service's)"),
    ("service_review.ServiceReviewCsv", "GET"): (REVIEW_READERS, "the same review as a CSV file"),
    ("attachments.CaseAttachments", "GET"): (EVERYONE, "a case's attachments (customers: public ones of their cases)"),
    ("attachments.CaseAttachments", "POST"): (EVERYONE, "attach a file to a case or its task (whoever may see it)"),
    ("attachments.AttachmentItem", "GET"): (EVERYONE, "download an attachment (customers: public ones of their cases)"),
    ("knowledge.ArticleCollection", "GET"): (EVERYONE, "knowledge-base articles (customers: published articles)"),
    ("knowledge.ArticleCollection", "POST"): (KB_WRITERS, "write an article or a canned answer"),
    ("knowledge.ArticleItem", "GET"): (EVERYONE, "read an article (customers: published articles)"),
    ("knowledge.ArticleItem", "PATCH"): (KB_WRITERS, "change an article (If-Match)"),
    ("knowledge.ArticleItem", "DELETE"): (KB_WRITERS, "delete an article (If-Match)"),
    ("knowledge.Search", "GET"): (EVERYONE, "search the knowledge base (customers: published articles)"),
    ("knowledge.Suggest", "GET"): (EVERYONE, "the best published articles for a new case"),
    ("surveys.SurveyCollection", "GET"): (EVERYONE, "satisfaction surveys (customers: their organisation's)"),
    ("surveys.SurveyAnswer", "POST"): (CUSTOMERS, "answer a survey of their organisation's case"),
    ("customers.CustomerCollection", "GET"): (STAFF, "list customers (name or code, tier)"),
    ("customers.CustomerCollection", "POST"): (CUSTOMER_EDITORS, "create a customer"),
    ("customers.CustomerItem", "GET"): (EVERYONE, "a customer record (customers: their own, without internal notes)"),
    ("customers.CustomerItem", "PATCH"): (CUSTOMER_EDITORS, "change a customer's name, address, notes (If-Match)"),
    ("customers.CustomerContacts", "POST"): (CUSTOMER_EDITORS, "add a contact to a customer"),
    ("customers.CustomerContactItem", "PATCH"): (CUSTOMER_EDITORS, "change a customer's contact (If-Match)"),
    ("customers.CustomerContactItem", "DELETE"): (CUSTOMER_EDITORS, "remove a customer's contact"),
    ("customers.CustomerProducts", "POST"): (CUSTOMER_EDITORS, "record a product installed at a customer"),
    ("customers.CustomerProductItem", "PATCH"): (CUSTOMER_EDITORS, "change an installed product (If-Match)"),
    ("customers.CustomerProductItem", "DELETE"): (CUSTOMER_EDITORS, "remove an installed product"),
    ("customers.CustomerContracts", "POST"): (CUSTOMER_EDITORS, "add a contract (the tier follows the active one)"),
    ("customers.CustomerContractItem", "PATCH"): (CUSTOMER_EDITORS, "change a contract (If-Match)"),
    ("customers.CustomerContractItem", "DELETE"): (CUSTOMER_EDITORS, "remove a contract"),
    ("customers.Deployment", "GET"): (STAFF, "a customer's deployment date and follow-up programme"),
    ("customers.Deployment", "PUT"): (DEPLOYMENT_SETTERS, "set a customer's deployment date (starts its follow-ups)"),
    ("announcements.AnnouncementCollection", "GET"): (ANNOUNCERS, "software update announcements sent"),
    ("announcements.AnnouncementCollection", "POST"): (ANNOUNCERS, "announce an update to customers before it"),
    ("major_incidents.IncidentCollection", "GET"): (EVERYONE, "major incidents (customers: those affecting their cases)"),
    ("major_incidents.IncidentCollection", "POST"): (INCIDENT_LEADS, "declare a major incident from a case"),
    ("major_incidents.IncidentItem", "GET"): (EVERYONE, "a major incident (customers: their cases, public updates)"),
    ("major_incidents.IncidentCases", "POST"): (STAFF, "link cases to a major incident (its leads and team)"),
    ("major_incidents.IncidentTeam", "PUT"): (INCIDENT_LEADS, "name a major incident's team"),
    ("major_incidents.IncidentUpdates", "POST"): (STAFF, "post an update to the affected customers (leads and team)"),
    ("recurring_problems.ProblemGroups", "GET"): (STAFF, "recurring problems: groups of cases that keep coming back"),
    ("recurring_problems.KnownProblems", "GET"): (STAFF, "known problems with their workaround"),
    ("recurring_problems.KnownProblems", "POST"): (PROBLEM_MARKERS, "mark a group of recurring cases as a known problem"),
    ("major_incidents.IncidentResolve", "POST"): (STAFF, "resolve a major incident and its linked cases (leads and team)"),
    # the web application's pages (web/); log-in, log-out and the language switch are public
    ("web_auth.index", "GET"): (EVERYONE, "page: the start page (sends each user to theirs)"),
    ("web_auth.logout", "POST"): (EVERYONE, "page: log out"),
    ("inbox.inbox", "GET"): (STAFF, "page: the inbox (my tasks, claimable, all)"),
    ("inbox.claim", "POST"): (EVERYONE, "page: claim a task (the task's lane decides)"),
    ("inbox.bulk_action", "POST"): (SUPERVISORS, "page: claim, reassign or change the priority of several inbox rows "
                                                 "(each row on its own; stale rows reported, not changed)"),
    ("task_pages.task", "GET"): (EVERYONE, "page: a task and its form (customers: their customer-lane tasks)"),
    ("task_pages.complete", "POST"): (EVERYONE, "page: complete a task with its form (the task's lane decides)"),
    ("task_pages.release", "POST"): (EVERYONE, "page: give a task back (assignee or supervisor)"),
    ("case_pages.cases", "GET"): (STAFF, "page: the case list"),
    ("case_pages.bulk_action", "POST"): (SUPERVISORS, "page: take over, reassign or change the priority of several "
                                                      "cases (each on its own; stale rows reported, not changed)"),
    ("live.live_notices", "GET"): (STAFF, "page data: what arrived since the last poll (tasks, customer messages, "
                                          "targets at risk), for the live notices"),
    ("list_views.save", "POST"): (STAFF, "page: save the case list's or the inbox's filter as a named view (own)"),
    ("list_views.delete", "POST"): (STAFF, "page: remove one of my saved views"),
    ("case_pages.new_case", "GET"): (FRONT_LINE, "page: the form to open a case for a customer"),
    ("case_pages.new_case", "POST"): (FRONT_LINE, "page: open a case for a customer, with attachments"),
    ("case_pages.case", "GET"): (EVERYONE, "page: a case (customers: their organisation's, public part)"),
    ("case_pages.diagram", "GET"): (STAFF, "page: the BPMN file of a case's process version, for its diagram"),
    ("case_pages.answer", "POST"): (CASE_OPENERS, "page: answer a case's request for information"),
    ("case_pages.upload", "POST"): (EVERYONE, "page: attach a file to a case (whoever may see it)"),
    ("case_pages.download", "GET"): (EVERYONE, "page: download an attachment (customers: public ones of their cases)"),
    ("board.board", "GET"): (ESCALATION_WORKERS, "page: the escalation board"),
    ("board.reassign", "POST"): (ESCALATION_WORKERS, "page: give an escalated case to another staff member"),
    ("board.take_over", "POST"): (ESCALATION_WORKERS, "page: take an escalated case over"),
    ("board.extend", "POST"): (ESCALATION_WORKERS, "page: extend an SLA target, with a reason"),
    ("board.priority", "POST"): (ESCALATION_WORKERS, "page: change an escalated case's priority"),
    ("board.acknowledge", "POST"): (ESCALATION_WORKERS, "page: acknowledge a breach"),
    ("portal.home", "GET"): (CUSTOMERS, "page: the customer portal (my organisation's cases)"),
    ("portal.new_case", "GET"): (CUSTOMERS, "page: the form to open a case"),
    ("portal.new_case", "POST"): (CUSTOMERS, "page: open a case with attachments"),
    ("portal.answer_survey", "POST"): (CUSTOMERS, "page: rate the service (a survey of my organisation's case)"),
    ("case_actions.complain", "POST"): (CASE_OPENERS, "page: file a complaint about a case"),
    ("case_actions.reply", "POST"): (FRONT_LINE, "page: reply to the customer on the case's channel"),
    ("case_actions.callbacks", "GET"): (FRONT_LINE, "page: hotline customers to call back"),
    ("announcement_pages.index", "GET"): (ANNOUNCERS, "page: software update announcements"),
    ("announcement_pages.announce", "POST"): (ANNOUNCERS, "page: announce a software update"),
    ("major_incident_pages.index", "GET"): (EVERYONE, "page: major incidents (customers: those affecting their cases)"),
    ("major_incident_pages.incident", "GET"): (EVERYONE, "page: a major incident (customers: their cases, public updates)"),
    ("major_incident_pages.new", "GET"): (INCIDENT_LEADS, "page: declare a major incident from a case"),
    ("major_incident_pages.declare", "POST"): (INCIDENT_LEADS, "page: declare a major incident from a case"),
    ("major_incident_pages.link", "POST"): (STAFF, "page: link cases to a major incident (leads and team)"),
    ("major_incident_pages.set_team", "POST"): (INCIDENT_LEADS, "page: name a major incident's team"),
    ("major_incident_pages.post_update", "POST"): (STAFF, "page: post an update to the affected customers"),
    ("major_incident_pages.resolve", "POST"): (STAFF, "page: resolve a major incident and its linked cases"),
    ("problem_pages.index", "GET"): (STAFF, "page: recurring problems and known problems"),
    ("problem_pages.mark_known", "POST"): (PROBLEM_MARKERS, "page: mark a group as a known problem"),
    ("customer_pages.index", "GET"): (STAFF, "page: customers with tier, deployment date and follow-ups"),
    ("customer_pages.set_deployment", "POST"): (DEPLOYMENT_SETTERS, "page: set a customer's deployment date"),
    ("staffing_pages.index", "GET"): (STAFFING_READERS, "page: skills, duty rosters and dedicated consultants"),
    ("staffing_pages.set_skills", "POST"): (STAFFING_SETTERS, "page: set a staff member's skills"),
    ("staffing_pages.set_roster", "POST"): (STAFFING_SETTERS, "page: set a staff member's duty roster"),
    ("staffing_pages.set_dedicated", "POST"): (STAFFING_SETTERS, "page: name a customer's dedicated consultant"),
    ("owner.processes", "GET"): (DEPLOYERS, "page: deployed versions, the active one's diagrams, deploy files"),
    ("owner.version", "GET"): (DEPLOYERS, "page: a version, its files and diagrams"),
    ("owner.version_file", "GET"): (DEPLOYERS, "page: a file of a version"),
    ("owner.editor", "GET"): (DEPLOYERS, "page: the modeller for a diagram of the active version"),
    ("owner.validate", "POST"): (DEPLOYERS, "page: validate the modeller's diagram with the active version"),
    ("owner.deploy_diagram", "POST"): (DEPLOYERS, "page: deploy the modeller's diagram as a new version"),
    ("owner.diff_diagram", "POST"): (DEPLOYERS, "page: what deploying the modeller's diagram would change"),
    ("owner.form_editor", "GET"): (DEPLOYERS, "page: edit a task form's JSON schema with a live preview"),
    ("owner.form_preview", "POST"): (DEPLOYERS, "page: the form an edited schema renders as"),
    ("owner.form_validate", "POST"): (DEPLOYERS, "page: validate an edited form with the active version"),
    ("owner.form_deploy", "POST"): (DEPLOYERS, "page: deploy an edited form as a new version"),
    ("owner.dmn_editor", "GET"): (DEPLOYERS, "page: edit a decision table (DMN) of the active version"),
    ("owner.dmn_validate", "POST"): (DEPLOYERS, "page: validate an edited decision table with the active version"),
    ("owner.dmn_deploy", "POST"): (DEPLOYERS, "page: deploy an edited decision table as a new version"),
    ("owner.deploy_files", "POST"): (DEPLOYERS, "page: deploy uploaded process and form files"),
    ("owner.migrations", "GET"): (DEPLOYERS, "page: move running cases to another version"),
    ("owner.dry_run", "POST"): (DEPLOYERS, "page: which running cases could move, and why not"),
    ("owner.migrate", "POST"): (DEPLOYERS, "page: move the movable running cases"),
    ("owner.revert", "POST"): (DEPLOYERS, "page: move a batch back"),
    ("kpi.dashboard", "GET"): (KPI_READERS, "page: the KPI dashboard (charts, filters)"),
    ("kpi.export", "GET"): (KPI_READERS, "page: the dashboard's KPIs as CSV"),
    ("service_review_page.index", "GET"): (REVIEW_READERS, "page: the quarterly service review"),
    ("sla_pages.calendar_list", "GET"): (KPI_READERS, "page: the business calendars"),
    ("sla_pages.calendar", "GET"): (KPI_READERS, "page: a business calendar, its hours and a month of days"),
    ("sla_pages.edit_calendar", "POST"): (ADMINS, "page: change a calendar's holidays and working days"),
    ("sla_pages.policy", "GET"): (KPI_READERS, "page: the SLA policy's versions and rules"),
    ("service_review_page.printable", "GET"): (REVIEW_READERS, "page: the service review laid out for print"),
    ("service_review_page.export", "GET"): (REVIEW_READERS, "page: the service review as CSV"),
    ("customer_record.customer", "GET"): (STAFF, "page: a customer record (contacts, installed products, contracts)"),
    ("customer_record.update", "POST"): (CUSTOMER_EDITORS, "page: change a customer's name, address, notes, tier"),
    ("customer_record.add_item", "POST"): (CUSTOMER_EDITORS, "page: add a contact, installed product or contract"),
    ("customer_record.update_item", "POST"): (CUSTOMER_EDITORS, "page: change a contact, installed product or contract"),
    ("customer_record.remove_item", "POST"): (CUSTOMER_EDITORS, "page: remove a contact, installed product or contract"),
    ("case_pages.write", "POST"): (CASE_OPENERS, "page: the customer writes to support at any time (front line for them)"),
    ("knowledge_pages.index", "GET"): (EVERYONE, "page: the knowledge base (customers: published articles in their language)"),
    ("knowledge_pages.article", "GET"): (EVERYONE, "page: an article (staff: the cases it closed)"),
    ("knowledge_pages.new", "GET"): (KB_WRITERS, "page: the form to write an article"),
    ("knowledge_pages.new", "POST"): (KB_WRITERS, "page: write an article (draft or published)"),
    ("knowledge_pages.edit", "GET"): (KB_WRITERS, "page: the form to change an article"),
    ("knowledge_pages.edit", "POST"): (KB_WRITERS, "page: change an article (the version seen)"),
    ("knowledge_pages.publish", "POST"): (KB_WRITERS, "page: publish an article"),
    ("knowledge_pages.canned_answers", "GET"): (STAFF, "page: the canned answers"),
    ("knowledge_pages.canned_create", "POST"): (SUPERVISORS, "page: add a canned answer"),
    ("knowledge_pages.canned_edit", "GET"): (SUPERVISORS, "page: the form to change a canned answer"),
    ("knowledge_pages.canned_edit", "POST"): (SUPERVISORS, "page: change a canned answer (the version seen)"),
    ("knowledge_pages.canned_delete", "POST"): (SUPERVISORS, "page: delete a canned answer"),
    ("knowledge_pages.reply_insert", "POST"): (FRONT_LINE, "page: insert a canned answer or an article into a reply"),

    ("whatif.Replays", "POST"): (WHATIF_USERS, "what if: replay a period under a proposed SLA policy or calendar"),
    ("whatif.Explanations", "POST"): (WHATIF_USERS, "what if: why one case's outcome differs under a proposal"),
    ("whatif.Runs", "GET"): (WHATIF_USERS, "what if: the saved replays"),
    ("whatif.Runs", "POST"): (WHATIF_USERS, "what if: replay and save the inputs and the result"),
    ("whatif.RunItem", "GET"): (WHATIF_USERS, "what if: a saved replay"),
    ("whatif.RunItem", "DELETE"): (WHATIF_USERS, "what if: delete a saved replay"),
    ("whatif.RunCsv", "GET"): (WHATIF_USERS, "what if: a saved replay as CSV"),
    ("whatif.Comparison", "GET"): (WHATIF_USERS, "what if: two saved replays side by side"),
    ("whatif_page.index", "GET"): (WHATIF_USERS, "page: what if — replay a period under a proposal"),
    ("whatif_page.replay", "POST"): (WHATIF_USERS, "page: run a replay (and save it if named)"),
    ("whatif_page.run", "GET"): (WHATIF_USERS, "page: a saved replay, side by side, with charts"),
    ("whatif_page.explain", "GET"): (WHATIF_USERS, "page: why one case's outcome differs"),
    ("whatif_page.export", "GET"): (WHATIF_USERS, "page: a saved replay as CSV"),
    ("whatif_page.compare", "GET"): (WHATIF_USERS, "page: two saved replays side by side"),
    ("training.SessionCollection", "GET"): (STAFF, "training sessions"),
    ("training.SessionCollection", "POST"): (TRAINING_PLANNERS, "plan a training session and invite"),
    ("training.SessionItem", "GET"): (STAFF, "a training session with its participants"),
    ("training.SessionItem", "PATCH"): (TRAINING_PLANNERS, "reschedule a training session (its timers move)"),
    ("training.Cancel", "POST"): (TRAINING_PLANNERS, "cancel a training session (its process ends)"),
    ("training.FollowUp", "POST"): (TRAINING_RUNNERS, "follow up on those who missed a session: move or excuse"),
    ("training.Participants", "POST"): (TRAINING_ENROLLERS, "enrol someone in a training session (also from a case)"),
    ("training.Attendance", "POST"): (TRAINING_RUNNERS, "record a session's attendance and scores (planners, its trainer)"),
    ("training.Move", "POST"): (TRAINING_PLANNERS, "move one who missed a session to a later one"),
    ("training.Kpis", "GET"): (STAFF, "training KPIs of a period: participation, coverage, assessments"),
    ("risks.RiskCollection", "GET"): (STAFF, "the risk register"),
    ("risks.RiskCollection", "POST"): (STAFF, "raise a risk (also from a case)"),
    ("risks.RiskItem", "GET"): (STAFF, "a risk with its evidence and reviews"),
    ("risks.RiskItem", "PATCH"): (STAFF, "change a risk (its owner, or a risk manager)"),
    ("risks.RiskLinks", "POST"): (STAFF, "link a case as evidence of a risk"),
    ("risks.RiskReviews", "POST"): (STAFF, "review a risk (its owner, or a risk manager)"),
    ("quality.Checklist", "GET"): (QUALITY_MONITORS, "the quality audit checklist"),
    ("quality.Samples", "POST"): (QUALITY_MONITORS, "draw a period's sample of closed cases for audit"),
    ("quality.Audits", "GET"): (QUALITY_MONITORS, "quality audits"),
    ("quality.AuditItem", "GET"): (QUALITY_MONITORS, "a quality audit"),
    ("quality.AuditItem", "POST"): (QUALITY_MONITORS, "record a quality audit against the checklist"),
    ("training_pages.index", "GET"): (STAFF, "page: training sessions"),
    ("training_pages.plan", "POST"): (TRAINING_PLANNERS, "page: plan a training session"),
    ("training_pages.session", "GET"): (STAFF, "page: a training session"),
    ("training_pages.enrol", "POST"): (TRAINING_ENROLLERS, "page: enrol someone in a training session"),
    ("training_pages.attendance", "POST"): (TRAINING_RUNNERS, "page: record attendance and scores"),
    ("training_pages.follow_up", "POST"): (TRAINING_RUNNERS, "page: follow up on absentees (move or excuse)"),

    ("training_pages.move", "POST"): (TRAINING_PLANNERS, "page: move one who missed to a later session"),
    ("training_pages.reschedule", "POST"): (TRAINING_PLANNERS, "page: move a training session before it starts (its timers move)"),
    ("training_pages.cancel", "POST"): (TRAINING_PLANNERS, "page: cancel a training session before it starts (its process ends)"),
    ("training_pages.from_case", "POST"): (TRAINING_ENROLLERS, "page: enrol a case's user in a training"),
    ("risk_pages.index", "GET"): (STAFF, "page: the risk register"),
    ("risk_pages.raise_risk", "POST"): (STAFF, "page: raise a risk"),
    ("risk_pages.risk", "GET"): (STAFF, "page: a risk"),
    ("risk_pages.review", "POST"): (STAFF, "page: review a risk (its owner, or a risk manager)"),
    ("risk_pages.link", "POST"): (STAFF, "page: link a case as evidence"),
    ("risk_pages.from_case", "POST"): (STAFF, "page: raise a risk from a case"),
    ("quality_pages.index", "GET"): (QUALITY_MONITORS, "page: quality audits"),
    ("quality_pages.draw", "POST"): (QUALITY_MONITORS, "page: draw a sample for audit"),
    ("quality_pages.audit", "GET"): (QUALITY_MONITORS, "page: audit a case"),
    ("quality_pages.record", "POST"): (QUALITY_MONITORS, "page: record an audit"),

    ("visits.CaseVisits", "GET"): (EVERYONE, "a case's visits and repairs (customers: their organisation's)"),
    ("visits.CaseVisits", "POST"): (FRONT_LINE, "book a repair or visit in a window (warranty checked)"),
    ("visits.VisitItem", "GET"): (EVERYONE, "a visit with its repair log (customers: their organisation's)"),
    ("visits.VisitConfirm", "POST"): (VISIT_ANSWERERS, "confirm the window the other side proposed"),
    ("visits.VisitPropose", "POST"): (VISIT_ANSWERERS, "answer a visit with another window"),
    ("visits.VisitCancel", "POST"): (FRONT_LINE, "cancel a visit not yet done"),
    ("visits.VisitLog", "POST"): (FRONT_LINE, "record a visit's repair log (parts, time, result)"),
    ("visits.RemoteSessions", "GET"): (EVERYONE, "a case's remote-assistance sessions (customers: their organisation's)"),
    ("visits.RemoteSessions", "POST"): (FRONT_LINE, "record a remote-assistance session on a case"),
    ("visits.ServiceReport", "GET"): (EVERYONE, "a case's service report (customers: their organisation's, no internal tasks)"),
    ("visits.ServiceReportCsv", "GET"): (EVERYONE, "a case's service report as CSV, zh or en"),
    ("service_work.CatalogueCollection", "GET"): (EVERYONE, "the catalogue of paid special services with prices"),
    ("service_work.CatalogueCollection", "POST"): (CATALOGUE_KEEPERS, "add a special service to the catalogue"),
    ("service_work.CatalogueItem", "PATCH"): (CATALOGUE_KEEPERS, "change a catalogue entry (price, names, offered)"),
    ("service_work.CaseInternalTasks", "GET"): (STAFF, "a case's internal tasks (never customers)"),
    ("service_work.CaseInternalTasks", "POST"): (STAFF, "record an internal task on a case"),
    ("service_work.InternalTaskCollection", "GET"): (STAFF, "internal tasks (mine, open, maintenance)"),
    ("service_work.InternalTaskItem", "GET"): (STAFF, "an internal task"),
    ("service_work.InternalTaskItem", "PATCH"): (STAFF, "reassign an internal task or mark it done"),
    ("service_work.ScheduleCollection", "GET"): (STAFF, "maintenance and backup-check schedules"),
    ("service_work.ScheduleCollection", "POST"): (PLANNERS, "plan maintenance or a backup check of an installation"),
    ("service_work.ScheduleItem", "PATCH"): (PLANNERS, "change or stop a maintenance schedule"),
    ("service_pages.case_work", "GET"): (EVERYONE, "page: a case's visits, remote sessions, internal tasks (customers: their visits)"),
    ("service_pages.book_visit", "POST"): (FRONT_LINE, "page: book a repair or visit in a window"),
    ("service_pages.confirm_visit", "POST"): (VISIT_ANSWERERS, "page: confirm a visit's window"),
    ("service_pages.propose_visit", "POST"): (VISIT_ANSWERERS, "page: answer a visit with another window"),
    ("service_pages.log_visit", "POST"): (FRONT_LINE, "page: record a visit's repair log"),
    ("service_pages.cancel_visit", "POST"): (FRONT_LINE, "page: cancel a visit not yet done, with the reason the customer reads"),
    ("service_pages.record_session", "POST"): (FRONT_LINE, "page: record a remote session"),
    ("service_pages.add_task", "POST"): (STAFF, "page: add an internal task to a case"),
    ("service_pages.finish_task", "POST"): (STAFF, "page: mark an internal task done"),
    ("service_pages.case_report", "GET"): (EVERYONE, "page: a case's service report, printable (customers: their organisation's)"),
    ("service_pages.case_report_csv", "GET"): (EVERYONE, "page: a case's service report as CSV, zh or en"),
    ("service_pages.catalogue_page", "GET"): (STAFF, "page: the catalogue of paid special services"),
    ("service_pages.add_entry", "POST"): (CATALOGUE_KEEPERS, "page: add a special service to the catalogue"),
    ("service_pages.change_entry", "POST"): (CATALOGUE_KEEPERS, "page: change a catalogue entry's price or offer"),
    ("service_pages.tasks", "GET"): (STAFF, "page: internal tasks and maintenance schedules"),
    ("service_pages.add_schedule", "POST"): (PLANNERS, "page: plan maintenance or a backup check"),
}


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


def authorise() -> None:
    """Refuse the request unless the user holds a role the table allows (after authentication)."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return
    user = g.user
    allowed, _purpose = MATRIX.get((request.endpoint, request.method), (frozenset(), ""))
    if not user.has_role(*allowed):
        raise RoleNotAllowed(f"{request.method} {request.path} is only open to: {', '.join(sorted(allowed))}",
                             required_roles=sorted(allowed))


def as_markdown() -> str:
    """The table as documentation (docs/permissions.md is this text; a test keeps them equal)."""
    roles = [r.value for r in Role]
    lines = ["| endpoint | method | what | " + " | ".join(roles) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in roles) + " |"]
    for (endpoint, method), (allowed, purpose) in MATRIX.items():
        marks = " | ".join("✓" if r in allowed else "" for r in roles)
        lines.append(f"| `{endpoint}` | {method} | {purpose} | {marks} |")
    return "\n".join(lines) + "\n"


def register(app: Flask) -> None:
    app.before_request(authorise)
