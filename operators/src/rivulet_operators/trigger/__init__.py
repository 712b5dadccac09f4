"""Trigger operators: how a published flow starts (an HTTP call, a schedule)."""

from rivulet_operators.trigger import http, schedule

__all__ = ("OPERATORS",)

OPERATORS = (http.HttpTrigger, schedule.ScheduleTrigger)
