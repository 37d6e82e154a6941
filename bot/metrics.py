"""Prometheus metrics: counters the code increments, and gauges read from the database.

Gauges of state (open escalations, reports by status, pending reminders) are computed from the
database at scrape time rather than kept in memory, so every replica reports the same truth.
Nothing here carries content: labels are outcomes, states and platform names only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from bot import group_commit
from bot.db import Database
from bot.server import Request, Response

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

QUESTIONS = Counter("compliance_bot_questions_total",
                    "Questions asked, by outcome (answered or abstained)", ["outcome"],
                    registry=REGISTRY)
ANSWER_SECONDS = Histogram(
    "compliance_bot_answer_seconds", "Time to answer a question, search and storage included",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY)
PLATFORM_API_ERRORS = Counter("compliance_bot_platform_api_errors_total",
                              "Failed chat platform API calls", ["platform", "error"],
                              registry=REGISTRY)
PLATFORM_RATE_LIMITED = Counter("compliance_bot_platform_rate_limited_total",
                                "Platform API calls answered 429 (retried after Retry-After)",
                                ["platform"], registry=REGISTRY)
WORK_QUEUE_DEPTH = Gauge("compliance_bot_work_queue_depth",
                         "Chat events accepted and not yet handled, per platform", ["platform"],
                         registry=REGISTRY)
HTTP_BACKLOG = Gauge("compliance_bot_http_backlog",
                     "HTTP requests read and waiting for a server thread", registry=REGISTRY)
WORK_SHED = Counter("compliance_bot_work_shed_total",
                    "Chat events answered \"busy, please try again\" because the work queue "
                    "was full", ["platform", "kind"], registry=REGISTRY)
REMINDER_DELIVERIES = Counter("compliance_bot_reminder_deliveries_total",
                              "Reminder deliveries attempted, by result (sent or failed)",
                              ["result"], registry=REGISTRY)
CHECKLIST_MESSAGES = Counter("compliance_bot_checklist_messages_total",
                             "Checklist messages attempted, by result (sent or failed)",
                             ["result"], registry=REGISTRY)


class GroupCommitCounters(Collector):
    """Group commit's counts, read at scrape time (bot.group_commit keeps them, so the
    database layer need not know about Prometheus). units / groups: the mean group size."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = group_commit.snapshot()
        yield CounterMetricFamily("compliance_bot_group_commit_units",
                                  "Units of work committed through group commit",
                                  value=stats.units)
        yield CounterMetricFamily("compliance_bot_group_commit_groups",
                                  "Transactions group commit committed (each holds >= 1 unit)",
                                  value=stats.groups)
        yield CounterMetricFamily("compliance_bot_group_commit_retried",
                                  "Groups rolled back and run again unit by unit after an error",
                                  value=stats.retried)


REGISTRY.register(GroupCommitCounters())

# A source reads a session and yields (metric name, help, {label: value} -> number) families.
GaugeSource = Callable[[Session], Iterator[tuple[str, str, dict[tuple[tuple[str, str], ...],
                                                                  float]]]]


class DatabaseGauges(Collector):
    """Runs each registered source in one read-only session per scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.sources: list[GaugeSource] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.database.transaction() as session:
                families = [family for source in self.sources for family in source(session)]
        except Exception as exc:  # a scrape must not fail the endpoint; readiness reports it
            log.warning("metrics: database gauges unavailable: %s", type(exc).__name__)
            return
        for name, help_text, samples in families:
            labels = sorted({key for sample in samples for key, _ in sample})
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for sample, value in samples.items():
                values = dict(sample)
                family.add_metric([values.get(label, "") for label in labels], value)
            yield family


class MetricsEndpoint:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry

    def __call__(self, request: Request) -> Response:
        return Response(200, [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                        generate_latest(self.registry))
