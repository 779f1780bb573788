"""The record schema: every front-matter key, its Chinese label, its kind and where it applies.

This table is the single source for the parser, the `new` scaffold and the README's key list.
"""

from __future__ import annotations

from dataclasses import dataclass

RECORD_TYPES = {
    "disclosure": "主动公开信息",
    "normative": "行政规范性文件",
    "annual-report": "政府信息公开工作年度报告",
    "interpretation": "政策解读",
}
ALL = frozenset(RECORD_TYPES)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str  # str | text | date | int | bool | str_list | attachments | review | withdrawn | repealed | ref | ref_list | tables
    applies: frozenset = ALL
    required: frozenset = frozenset()
    doc: str = ""


F = FieldSpec
FIELDS: dict[str, FieldSpec] = {
    f.key: f
    for f in [
        F("type", "类型", "str", required=ALL, doc="disclosure / normative / annual-report / interpretation"),
        F("title", "标题", "str", required=ALL, doc="full title, no abbreviations"),
        F("index_no", "索引号", "str", required=ALL, doc="permanent id; the URL derives from it; `disclosure new` assigns it"),
        F("issuer", "发布机构", "str", required=ALL, doc="a unit configured in extra.portal.units (full name or id)"),
        F("doc_no", "发文字号", "str", required=frozenset({"normative"}), doc="机关代字〔YYYY〕N号"),
        F("topic", "主题分类", "str", required=frozenset({"disclosure", "normative", "interpretation"}),
          doc="一级\\二级 from the taxonomy"),
        F("column", "公开目录", "str", required=frozenset({"disclosure"}),
          doc="a configured 法定主动公开内容 column (id or name); normative → 行政规范性文件 by default"),
        F("written", "成文日期", "date", required=ALL, doc="formation date; starts the 20-working-day clock"),
        F("changed", "变更日期", "date", doc="date of a change; restarts the clock"),
        F("published", "发布日期", "date", doc="missing = draft; a future date = scheduled"),
        F("summary", "内容概述", "text"),
        F("keywords", "主题词", "str_list"),
        F("genre", "体裁", "str", doc="通知, 公告, 决定, 意见, 办法 …"),
        F("attachments", "附件", "attachments", doc="files under content/: a path, or {file, title}"),
        F("reviewed", "保密审查", "review", doc="{by: 审查人, date: YYYY-MM-DD}; required unless rules.require_review is false"),
        F("late_reason", "延迟说明", "text", doc="why it was published late (still reported as late)"),
        F("withdrawn", "撤回", "withdrawn", doc="{date, reason[, decided]}: the page becomes a withdrawal notice"),
        F("personal_data_allowed", "个人信息公开依据", "text",
          doc="reason why ID or phone numbers may be published in this record"),
        F("related", "相关信息", "ref_list", doc="index_no of related records"),
        F("interprets", "解读对象", "ref", applies=frozenset({"interpretation"}), doc="index_no of the document interpreted"),
        F("reg_no", "登记编号", "str", applies=frozenset({"normative"}), required=frozenset({"normative"}),
          doc="统一登记编号"),
        F("effective", "施行日期", "date", applies=frozenset({"normative"}), required=frozenset({"normative"})),
        F("expires", "有效期至", "date", applies=frozenset({"normative"}),
          doc="default: effective + 5 years (暂行/试行: 2 years), per rules"),
        F("trial", "暂行/试行", "bool", applies=frozenset({"normative"}), doc="default: title contains 暂行 or 试行"),
        F("repealed", "废止", "repealed", applies=frozenset({"normative"}), doc="{date, by: index_no or 文号 of the repealing act}"),
        F("amends", "修改", "ref_list", applies=frozenset({"normative"}), doc="index_no of documents this one amends"),
        F("amended_by", "被修改", "ref_list", applies=frozenset({"normative"}), doc="index_no of documents amending this one"),
        F("year", "报告年度", "int", applies=frozenset({"annual-report"}), required=frozenset({"annual-report"})),
        F("tables", "统计表", "tables", applies=frozenset({"annual-report"}),
          doc="the national format's tables 2-4 (国办公开办函〔2021〕30号)"),
    ]
}
