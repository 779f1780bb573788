"""The compliance report in four formats: a terminal table, stable JSON, CSV for spreadsheets, and one
self-contained HTML page with inline SVG charts (no external assets)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from disclosure.site.html import escape
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
def _bars_svg(rep: Report) -> str:
    """On-time rate per unit: horizontal bars."""
    units = rep.units
    h = 28 * len(units) + 30
    parts = [f'<svg class="chart" role="img" aria-labelledby="c1t" viewBox="0 0 640 {h}" width="640" height="{h}">'
             '<title id="c1t">各单位按时公开率</title>']
    for i, u in enumerate(units):
        y = 10 + 28 * i
        rate = u.on_time_rate or 0
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(u.unit)}</text>'
                     f'<rect class="bar" x="190" y="{y}" width="{rate * 380:.1f}" height="20" fill="#9f1c1c"></rect>'
                     f'<text x="{196 + rate * 380:.1f}" y="{y + 15}" font-size="12">{_pct(u.on_time_rate)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _monthly_svg(rep: Report) -> str:
    """Records published per month, one polyline per unit."""
    months = sorted({m for series in rep.monthly.values() for m in series})
    if not months:
        return "<p>本期无发布信息。</p>"
    top = max(max(series.values(), default=0) for series in rep.monthly.values()) or 1
    w, h, left, bottom = 640, 260, 30, 40
    step = (w - left - 50) / max(len(months) - 1, 1)  # room for the last month's label
    parts = [f'<svg class="chart" role="img" aria-labelledby="c2t" viewBox="0 0 {w} {h + 20 * len(rep.monthly)}" '
             f'width="{w}" height="{h + 20 * len(rep.monthly)}"><title id="c2t">各单位每月发布信息数</title>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#555"></line>']
    for i, m in enumerate(months):
        if i % max(1, len(months) // 8) == 0:
            parts.append(f'<text x="{left + i * step:.1f}" y="{h - bottom + 16}" font-size="10">{m}</text>')
    parts.append(f'<text x="0" y="12" font-size="10">{top}</text>')
    for k, (uid, series) in enumerate(rep.monthly.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{left + i * step:.1f},{(h - bottom) - series.get(m, 0) / top * (h - bottom - 10):.1f}"
                       for i, m in enumerate(months))
        name = next((u.unit for u in rep.units if u.unit_id == uid), uid)
        parts.append(f'<polyline class="series" data-unit="{uid}" fill="none" stroke="{color}" stroke-width="2" points="{pts}"></polyline>')
        parts.append(f'<rect x="{left}" y="{h + 20 * k - 10}" width="12" height="12" fill="{color}"></rect>'
                     f'<text x="{left + 18}" y="{h + 20 * k}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers, rows) -> str:
    head = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body or "<tr><td colspan=99>（无）</td></tr>"}</tbody></table>'


def report_body(rep: Report, public: bool = False) -> str:
    """The report's sections as HTML (the staff page, and the site's compliance page, `public=True`)."""
    charts = {"units": (_bars_svg(rep), '<h3>每月发布信息数</h3>' + _monthly_svg(rep))}
    out = [f'<p class="report-meta">统计范围：{escape(rep.period["label"])}　判断日期：{rep.as_of}</p>']
    for anchor, level, title, headers, rows in sections(rep, public):
        before, after = charts.get(anchor, ("", ""))
        out += [f'<h{level} id="{anchor}">{escape(title)}</h{level}>', before, _html_table(headers, rows), after]
    out.append(f'<p class="formula">计分方法：{escape(rep.score_formula)}</p>')
    return "\n".join(x for x in out if x)


def to_html(rep: Report) -> str:
    css = ("body{font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;margin:2rem;color:#222;max-width:1100px}"
           "h1{color:#9f1c1c}table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:14px}"
           "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}th{background:#f5f5f5}"
           ".chart{max-width:100%;height:auto;display:block;margin:.5rem 0}.formula{color:#444;font-size:13px}")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(rep.office)} 政府信息公开时效报告</title><style>{css}</style></head><body>"
            f"<h1>{escape(rep.office)} 政府信息公开时效报告</h1>{report_body(rep)}</body></html>\n")


RENDERERS = {"text": to_text, "json": to_json, "html": to_html}
