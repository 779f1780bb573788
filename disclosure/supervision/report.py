"""The supervisor's compliance report: timeliness per unit, overdue drafts, annual reports, normative
documents, column freshness and a ranking of units. One `Report` (plain data) feeds every format.

The score (printed with every ranking):
    score = 100 × (0.60 × on-time rate + 0.25 × annual-report score + 0.15 × column freshness)
    on-time rate      = on time ÷ (on time + late) over the period; a unit with nothing judged scores 0
                        (no publication is itself a finding); provisional deadlines are left out
    annual-report     = mean over the years due of 1 (on time), 0.5 (late), 0 (missing)
    column freshness  = share of the columns the unit publishes in whose latest record of the unit
                        is within the column's window (动态 14 days, 通知公告/政策文件 183 days)
Ties: units with the same score (to 0.1) share a rank and the next rank is skipped (1, 2, 2, 4);
within a tie, units keep the order of `extra.portal.units`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass, field

from disclosure.model.corpus import Corpus
from disclosure.rules import RuleContext, annual, normative, timeliness

SCORE_FORMULA = ("得分 = 100 ×（0.60 × 按时公开率 + 0.25 × 年报得分 + 0.15 × 栏目更新率）；"
                 "按时公开率 = 按时 ÷（按时 + 逾期），本期无可判定信息计 0，暂定期限不计入；"
                 "年报得分：按时 1、逾期 0.5、缺失 0，取应报年度平均；"
                 "栏目更新率：单位发布过信息的栏目中，最近一条在更新期限内的比例（动态 14 天，通知公告、政策文件 183 天）；"
                 "得分相同（保留一位小数）并列同一名次，下一名次顺延。")
DEFAULT_WINDOWS = {"动态": 14, "通知公告": 183, "政策文件": 183}
DUE_SOON_WORKING_DAYS = 5


@dataclass
class _Clocked:
    """A record and its 20-working-day clock (fields shared by late items and drafts to chase)."""
    index_no: str
    title: str
    unit: str
    path: str
    formed: str
    deadline: str


@dataclass
class LateItem(_Clocked):
    published: str
    working_days_late: int
    late_reason: str


@dataclass
class UnitTimeliness:
    unit_id: str
    unit: str
    published: int = 0
    judged: int = 0
    on_time: int = 0
    late: int = 0
    provisional: int = 0
    on_time_rate: float | None = None
    late_days_median: float | None = None
    late_days_max: int | None = None
    late_with_reason: int = 0
    late_without_reason: int = 0


@dataclass
class DraftItem(_Clocked):
    scheduled: str | None
    status: str  # overdue | due_soon
    working_days: int  # past the deadline (overdue) or left until it (due_soon)
    provisional: bool


@dataclass
class AnnualItem:
    unit_id: str
    unit: str
    year: int
    deadline: str
    status: str  # on_time | late | missing | pending
    published: str | None = None
    days_late: int = 0
    index_no: str | None = None


@dataclass
class NormativeItem:
    index_no: str
    title: str
    unit: str
    doc_no: str
    expires: str | None
    issue: str  # expiring | expired_unhandled | repealed_unlinked
    detail: str


@dataclass
class ColumnItem:
    column_id: str
    column: str
    kind: str
    window_days: int
    records: int
    latest: str | None
    status: str  # ok | empty | stale


@dataclass
class RankItem:
    rank: int
    unit_id: str
    unit: str
    score: float
    on_time_rate: float
    annual_score: float
    column_freshness: float
    note: str = ""


@dataclass
class Report:
    office: str
    as_of: str
    period: dict
    units: list = field(default_factory=list)
    late: list = field(default_factory=list)
    drafts: list = field(default_factory=list)
    annual_reports: list = field(default_factory=list)
    normative: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    ranking: list = field(default_factory=list)
    monthly: dict = field(default_factory=dict)  # unit → {YYYY-MM: count}
    score_formula: str = SCORE_FORMULA

    def as_dict(self) -> dict:
        return asdict(self)


def _period(year: int | None, as_of: dt.date):
    if year is None:
        return dt.date.min, as_of, {"from": None, "to": as_of.isoformat(), "label": f"截至 {as_of}"}
    end = min(dt.date(year, 12, 31), as_of)
    return dt.date(year, 1, 1), end, {"from": f"{year}-01-01", "to": end.isoformat(), "label": f"{year} 年"}


def build_report(corpus: Corpus, year: int | None = None, unit: str | None = None,
                 windows: dict | None = None) -> Report:
    cfg, as_of = corpus.cfg, corpus.as_of
    ctx = RuleContext(cfg, as_of)
    start, end, period = _period(year, as_of)
    windows = {**DEFAULT_WINDOWS, **(windows or (cfg.raw.get("report") or {}).get("windows") or {})}
    units = [u for u in cfg.units if unit in (None, u.id, u.name)]
    wanted = {u.id for u in units}
    rep = Report(cfg.office, as_of.isoformat(), period)

    # timeliness of what was published in the period (annual reports have their own deadline)
    per_unit = {u.id: UnitTimeliness(u.id, u.name) for u in units}
    late_days: dict = {u.id: [] for u in units}
    for r in corpus.records:
        if r.issuer not in wanted or r.type == "annual-report":
            continue
        v = timeliness.judge_record(r, ctx)
        if r.is_live(as_of) and start <= r.published <= end:
            s = per_unit[r.issuer]
            s.published += 1
            if v.status == timeliness.PROVISIONAL:
                s.provisional += 1
                continue
            s.judged += 1
            if v.status == timeliness.ON_TIME:
                s.on_time += 1
            else:
                s.late += 1
                late_days[r.issuer].append(v.late_days)
                if r.late_reason:
                    s.late_with_reason += 1
                else:
                    s.late_without_reason += 1
                rep.late.append(LateItem(r.index_no, r.title, cfg.unit(r.issuer).name, r.path, r.formed.isoformat(),
                                         v.deadline.deadline.isoformat(), r.published.isoformat(), v.late_days, r.late_reason))
        elif not r.is_live(as_of):
            left = ctx.calendar.working_days_after(as_of, v.deadline.deadline)
            if v.status == timeliness.OVERDUE or left <= DUE_SOON_WORKING_DAYS:
                status = "overdue" if v.status == timeliness.OVERDUE else "due_soon"
                rep.drafts.append(DraftItem(r.index_no, r.title, cfg.unit(r.issuer).name, r.path, r.formed.isoformat(),
                                            v.deadline.deadline.isoformat(), r.published.isoformat() if r.published else None,
                                            status, v.late_days if status == "overdue" else left, v.deadline.provisional))
    for uid, s in per_unit.items():
        if s.judged:
            s.on_time_rate = round(s.on_time / s.judged, 4)
        if late_days[uid]:
            s.late_days_median = statistics.median(late_days[uid])
            s.late_days_max = max(late_days[uid])
    rep.units = list(per_unit.values())
    rep.late.sort(key=lambda x: (-x.working_days_late, x.index_no))
    rep.drafts.sort(key=lambda x: (x.status != "overdue", x.deadline, x.index_no))

    # annual reports
    for u, y, due, r in annual.years_due(corpus.records, cfg, as_of):
        if u.id not in wanted or (year is not None and y != year):
            continue
        if r is not None and r.is_live(as_of):
            late = (r.published - due).days
            rep.annual_reports.append(AnnualItem(u.id, u.name, y, due.isoformat(), "late" if late > 0 else "on_time",
                                                 r.published.isoformat(), max(late, 0), r.index_no))
        else:
            rep.annual_reports.append(AnnualItem(u.id, u.name, y, due.isoformat(),
                                                 "missing" if as_of > due else "pending"))

    # normative documents
    by_index = corpus.by_index
    for r in corpus.records:
        if r.type != "normative" or r.issuer not in wanted or not r.is_live(as_of):
            continue
        st = normative.status(r, by_index, as_of)
        name = cfg.unit(r.issuer).name
        if st == normative.VALID and r.expires and normative.months_between(as_of, r.expires) <= cfg.rules.expiry_warning_months:
            rep.normative.append(NormativeItem(r.index_no, r.title, name, r.doc_no, str(r.expires), "expiring",
                                               f"{r.expires} 到期，应在到期前完成评估"))
        elif st == normative.EXPIRED and not r.expires_explicit:
            rep.normative.append(NormativeItem(r.index_no, r.title, name, r.doc_no, str(r.expires), "expired_unhandled",
                                               f"{r.expires} 已过默认有效期，未标注有效期、废止或重新公布"))
        if r.repealed and (not r.repealed.by or r.repealed.by not in by_index):
            rep.normative.append(NormativeItem(r.index_no, r.title, name, r.doc_no, str(r.expires) if r.expires else None,
                                               "repealed_unlinked", f"已废止，但未链接到废止它的文件（{r.repealed.by or '未注明'}）"))

    # columns
    live = [r for r in corpus.live if r.issuer in wanted]
    for c in cfg.columns:
        recs = [r for r in live if r.column == c.id]
        latest = max((r.published for r in recs), default=None)
        window = int(windows.get(c.kind, 183))
        status = "empty" if not recs else ("stale" if (as_of - latest).days > window else "ok")
        rep.columns.append(ColumnItem(c.id, c.name, c.kind, window, len(recs), latest.isoformat() if latest else None, status))

    # monthly counts (charts)
    for u in units:
        months: dict = {}
        for r in live:
            if r.issuer == u.id and start <= r.published <= end:
                key = r.published.strftime("%Y-%m")
                months[key] = months.get(key, 0) + 1
        rep.monthly[u.id] = dict(sorted(months.items()))

    rep.ranking = rank_units(units, rep, live, as_of, windows, cfg)
    return rep


def rank_units(units, rep: Report, live, as_of, windows, cfg) -> list[RankItem]:
    by_unit = {s.unit_id: s for s in rep.units}
    items = []
    for u in units:
        s = by_unit[u.id]
        rate = s.on_time_rate if s.on_time_rate is not None else 0.0
        ann = [a for a in rep.annual_reports if a.unit_id == u.id and a.status != "pending"]
        ann_score = sum({"on_time": 1.0, "late": 0.5}.get(a.status, 0.0) for a in ann) / len(ann) if ann else 1.0
        cols = {}
        for r in live:
            if r.issuer == u.id and r.column:
                cols[r.column] = max(cols.get(r.column, r.published), r.published)
        fresh = [c for c, latest in cols.items()
                 if (as_of - latest).days <= int(windows.get(cfg.column(c).kind, 183))]
        freshness = len(fresh) / len(cols) if cols else 0.0
        score = round(100 * (0.60 * rate + 0.25 * ann_score + 0.15 * freshness), 1)
        note = "本期无可判定的发布信息" if s.judged == 0 else ""
        items.append(RankItem(0, u.id, u.name, score, round(rate, 4), round(ann_score, 4), round(freshness, 4), note))
    order = {u.id: i for i, u in enumerate(units)}
    items.sort(key=lambda x: (-x.score, order[x.unit_id]))
    for i, item in enumerate(items):
        item.rank = items[i - 1].rank if i and item.score == items[i - 1].score else i + 1
    return items
