"""Running the service, not only the cases (issue 18): training, the risk register, major incidents,
recurring problems, repairs and visits, the service catalogue and internal tasks, quality audits,
and the service reports and quarterly reviews that gather their figures (``review.py``)."""
