"""Rules: pure functions over records (and, for corpus rules, the set of records).

Each rule module exposes `check(record, ctx)` and/or `check_corpus(records, ctx)` yielding `Finding`s.
The judging cores (`timeliness.judge`, `normative.status`, `annual.deadline_for` …) take plain values
and return verdicts, so they test without files or MkDocs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from disclosure.model.config import PortalConfig


@dataclass(frozen=True)
class RuleContext:
    cfg: PortalConfig
    as_of: dt.date

    @property
    def calendar(self):
        return self.cfg.calendar
