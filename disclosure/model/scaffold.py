"""`disclosure new`: write a valid skeleton record with the next free 索引号."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from disclosure.model.config import PortalConfig, Unit
from disclosure.model.corpus import discover
from disclosure.model.hints import nearest_first
from disclosure.model.schema import RECORD_TYPES

_INDEX_LINE = re.compile(r"^index_no:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.M)


def used_index_numbers(cfg: PortalConfig) -> set[str]:
    """Every index_no already written, read cheaply (no full validation: broken records count too)."""
    used = set()
    for path in discover(cfg):
        head = Path(path).read_bytes()[:4096].decode("utf-8", "replace")
        m = _INDEX_LINE.search(head)
        if m:
            used.add(m.group(1).strip())
    return used


def next_index_no(cfg: PortalConfig, unit: Unit, year: int, used: set[str]) -> str:
    pattern = cfg.index_no_pattern(unit)
    top = 0
    for idx in used:
        m = pattern.match(idx)
        if m and "year" in m.groupdict() and int(m.group("year")) == year:
            top = max(top, int(m.group("seq")))
    candidate = cfg.format_index_no(unit, year, top + 1)
    while candidate in used:  # templates without {year}
        top += 1
        candidate = cfg.format_index_no(unit, year, top + 1)
    return candidate


def skeleton(cfg: PortalConfig, rtype: str, unit: Unit, index_no: str, title: str, today: dt.date) -> str:
    lines = [
        "---",
        f"type: {rtype}",
        f"title: {title}",
        f"index_no: {index_no}",
        f"issuer: {unit.name}",
    ]
    if rtype == "normative":
        # placeholders that can never pass for real values: E116 stops them once `published` is filled in
        lines += [f"doc_no: （填写发文字号：机关代字〔{today.year}〕序号号）", "reg_no: （填写统一登记编号）",
                  f"effective: {today.isoformat()}"]
    if rtype != "annual-report":
        lines.append("topic: 综合政务\\政务公开")
    if rtype == "disclosure" and cfg.columns:
        lines.append(f"column: {cfg.columns[-1].name}")
    if rtype == "interpretation":
        lines.append("# interprets: 被解读文件的索引号")
    if rtype == "annual-report":
        lines.append(f"year: {today.year - 1}")
    lines += [
        f"written: {today.isoformat()}",
        "# published: 发布日期（YYYY-MM-DD）；不填则为草稿，不会发布",
        f"reviewed: {{by: （填写保密审查人）, date: {today.isoformat()}}}",
        "summary: （填写内容概述：一两句话）",
        "---",
        "",
        "（填写正文：把文件全文粘贴在这里）",
        "",
    ]
    return "\n".join(lines)


def unknown_unit_message(cfg: PortalConfig, key: str) -> str:
    """Which units there are (id and full name), nearest to what was typed first."""
    by_name = {u.name: u for u in cfg.units}
    ranked = nearest_first(key, [*by_name, *(u.id for u in cfg.units)], limit=len(cfg.units) * 2)
    order, seen = [], set()
    for k in ranked:
        u = by_name.get(k) or cfg.unit(k)
        if u.id not in seen:
            seen.add(u.id)
            order.append(u)
    listing = "、".join(f"{u.id}（{u.name}）" for u in order)
    guess = [u for u in cfg.units if key and key in u.name]
    first = f"是否是 {guess[0].id}（{guess[0].name}）？" if len(guess) == 1 else ""
    return f"单位「{key}」不在 extra.portal.units 中。{first}可用的单位（--issuer 写 id 或全称，最接近的在前）：{listing}"


def create(cfg: PortalConfig, rtype: str, unit_key: str, title: str | None, today: dt.date) -> Path:
    if rtype not in RECORD_TYPES:
        raise ValueError(f"类型「{rtype}」无法识别；可用：{', '.join(RECORD_TYPES)}")
    unit = cfg.unit(unit_key)
    if unit is None:
        raise ValueError(unknown_unit_message(cfg, unit_key))
    index_no = next_index_no(cfg, unit, today.year, used_index_numbers(cfg))
    title = title or f"（标题）{RECORD_TYPES[rtype]}"
    folder = cfg.docs_dir / cfg.records_dir / str(today.year) / unit.id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{index_no.replace('/', '-')}.md"
    path.write_text(skeleton(cfg, rtype, unit, index_no, title, today), encoding="utf-8")
    return path
