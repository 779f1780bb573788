"""The compliance report in four formats: a terminal table, stable JSON, CSV for spreadsheets, and one
self-contained HTML page with inline SVG charts (no external assets)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from disclosure.supervision.report import Report

STATUS_ZH = {"on_time": "按时", "late": "逾期", "missing": "缺失", "pending": "未到期限", "overdue": "已超期",
             "due_soon": "即将到期", "ok": "正常", "empty": "空栏目", "stale": "未及时更新",
             "expiring": "即将到期", "expired_unhandled": "过期未处理", "repealed_unlinked": "废止未关联"}
PALETTE = ["#9f1c1c", "#1a4f9c", "#2e7d32", "#8a5300", "#6a1b9a", "#00695c", "#ad1457", "#37474f"]


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _table(headers: list, rows: list) -> str:
    """A plain-text table that lines up Chinese (double-width) and Latin text."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    pad = lambda s, w: s + " " * (w - _width(s))
    lines = ["  ".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def sections(rep: Report, public: bool = False) -> list[tuple]:
    """The report's tables, in order, as (anchor, heading level, title, headers, rows): one source for the
    terminal and HTML formats. `public=True` leaves out the drafts: their titles are not public yet."""
    dash = lambda v: "—" if v is None else v
    out = [
        ("units", 2, "一、各单位公开时效",
         ["单位", "发布", "按时", "逾期", "按时率", "逾期中位数（工作日）", "最长逾期", "有说明", "无说明", "暂定期限"],
         [[u.unit, u.published, u.on_time, u.late, _pct(u.on_time_rate), dash(u.late_days_median), dash(u.late_days_max),
           u.late_with_reason, u.late_without_reason, u.provisional] for u in rep.units]),
        ("late", 3, "逾期公开的信息", ["索引号", "标题", "单位", "期限", "发布", "逾期（工作日）", "延迟说明"],
         [[x.index_no, x.title, x.unit, x.deadline, x.published, x.working_days_late, x.late_reason or "—"]
          for x in rep.late]),
        ("drafts", 2, "二、应催办的未发布信息（已超期或 5 个工作日内到期）", ["索引号", "标题", "单位", "期限", "状态", "工作日"],
         [[x.index_no, x.title, x.unit, x.deadline + ("（暂定）" if x.provisional else ""), STATUS_ZH[x.status],
           x.working_days] for x in rep.drafts]),
        ("annual", 2, "三、年度报告", ["单位", "年度", "期限", "状态", "发布", "晚（天）"],
         [[a.unit, a.year, a.deadline, STATUS_ZH[a.status], a.published or "—", a.days_late or "—"]
          for a in rep.annual_reports]),
        ("normative", 2, "四、规范性文件", ["文号", "标题", "单位", "有效期至", "问题"],
         [[n.doc_no, n.title, n.unit, n.expires or "—", n.detail] for n in rep.normative]),
        ("columns", 2, "五、栏目更新", ["栏目", "类别", "期限（天）", "信息数", "最近发布", "状态"],
         [[c.column, c.kind, c.window_days, c.records, c.latest or "—", STATUS_ZH[c.status]] for c in rep.columns]),
        ("ranking", 2, "六、单位排名", ["名次", "单位", "得分", "按时率", "年报得分", "栏目更新率", "说明"],
         [[r.rank, r.unit, f"{r.score:.1f}", _pct(r.on_time_rate), f"{r.annual_score:.2f}", _pct(r.column_freshness),
           r.note] for r in rep.ranking]),
    ]
    return [sec for sec in out if not (public and sec[0] == "drafts")]


def to_text(rep: Report) -> str:
    out = [f"{rep.office} 政府信息公开时效报告（{rep.period['label']}，判断日期 {rep.as_of}）", ""]
    for _, _, title, headers, rows in sections(rep):
        out += [title, _table(headers, rows) if rows else "（无）", ""]
    out.append("计分方法：" + rep.score_formula)
    return "\n".join(out) + "\n"


def to_json(rep: Report) -> str:
    return json.dumps(rep.as_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


CSV_COLUMNS = ["名次", "单位", "得分", "发布", "按时", "逾期", "按时率", "逾期中位数（工作日）", "最长逾期（工作日）",
               "逾期有说明", "逾期无说明", "暂定期限", "年报得分", "栏目更新率", "说明"]


def to_csv(rep: Report) -> bytes:
    """One row per unit (ranking order); UTF-8 with BOM so that Excel shows Chinese."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    stats = {u.unit_id: u for u in rep.units}
    for r in rep.ranking:
        u = stats[r.unit_id]
        w.writerow([r.rank, r.unit, f"{r.score:.1f}", u.published, u.on_time, u.late,
                    "" if u.on_time_rate is None else f"{u.on_time_rate:.4f}",
                    "" if u.late_days_median is None else u.late_days_median,
                    "" if u.late_days_max is None else u.late_days_max,
                    u.late_with_reason, u.late_without_reason, u.provisional, f"{r.annual_score:.2f}",
                    f"{r.column_freshness:.4f}", r.note])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# ------------------------------------------------------------------ HTML
# The markup is in templates a site can override (theme/partials/portal/compliance*.html); here is
# only the data they show: the sections' cells and the charts' geometry.
REPORT_TEMPLATE = "partials/portal/compliance-report.html"


def _bars(rep: Report) -> dict:
    """On-time rate per unit, as horizontal bars."""
    items = []
    for i, u in enumerate(rep.units):
        rate = u.on_time_rate or 0
        items.append({"label": u.unit, "y": 10 + 28 * i, "width": f"{rate * 380:.1f}",
                      "text_x": f"{196 + rate * 380:.1f}", "pct": _pct(u.on_time_rate)})
    return {"height": 28 * len(rep.units) + 30, "units": items}


def _monthly(rep: Report) -> dict | None:
    """Records published per month, one polyline per unit; None when nothing was published."""
    months = sorted({m for series in rep.monthly.values() for m in series})
    if not months:
        return None
    top = max(max(series.values(), default=0) for series in rep.monthly.values()) or 1
    w, h, left, bottom = 640, 260, 30, 40
    step = (w - left - 50) / max(len(months) - 1, 1)  # room for the last month's label
    every = max(1, len(months) // 8)
    series = []
    for k, (uid, values) in enumerate(rep.monthly.items()):
        pts = " ".join(f"{left + i * step:.1f},{(h - bottom) - values.get(m, 0) / top * (h - bottom - 10):.1f}"
                       for i, m in enumerate(months))
        series.append({"unit_id": uid, "name": next((u.unit for u in rep.units if u.unit_id == uid), uid),
                       "color": PALETTE[k % len(PALETTE)], "points": pts, "legend_y": h + 20 * k})
    return {"width": w, "height": h + 20 * len(rep.monthly), "left": left, "axis_y": h - bottom, "axis_end": w - 10,
            "top": top, "labels": [{"x": f"{left + i * step:.1f}", "text": m} for i, m in enumerate(months) if i % every == 0],
            "label_y": h - bottom + 16, "series": series}


def report_view(rep: Report, public: bool = False) -> dict:
    """What partials/portal/compliance.html shows: the staff report file, and the site's compliance
    page with `public=True` (no drafts: their titles are not public yet)."""
    return {
        "office": rep.office, "period": rep.period["label"], "as_of": str(rep.as_of), "formula": rep.score_formula,
        "sections": [{"anchor": anchor, "level": level, "title": title, "headers": [str(h) for h in headers],
                      "rows": [[str(c) for c in row] for row in rows]}
                     for anchor, level, title, headers, rows in sections(rep, public)],
        "bars": _bars(rep), "monthly": _monthly(rep),
    }


def to_html(rep: Report, dirs: list[str] | None = None) -> str:
    """The staff report: one self-contained page (inline styles and SVG, no external assets), from
    REPORT_TEMPLATE in `dirs` (views.template_dirs: the site's override folder first)."""
    from disclosure.site.views import make_env, template_dirs

    env = make_env(dirs or template_dirs())
    return env.get_template(REPORT_TEMPLATE).render(report=report_view(rep)) + "\n"


RENDERERS = {"text": to_text, "json": to_json, "html": to_html}
