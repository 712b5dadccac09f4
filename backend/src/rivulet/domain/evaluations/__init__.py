"""``/api/evaluations``: evaluation runs of flows on datasets, compared side by side."""
