"""The national annual-report format (国办公开办函〔2021〕30号): table layout and arithmetic checks.

Records carry the tables as data under `tables:`; this module names every row and column and checks
the format's arithmetic, naming the failing cell (the page layout: theme partials/portal/annual-table.html).
"""

from __future__ import annotations

from dataclasses import dataclass

T3_COLUMNS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
T3_GROUPS = {  # group key → (label, [(leaf key, label)])
    "refused": ("（三）不予公开", [
        ("state_secret", "1.属于国家秘密"), ("prohibited_by_law", "2.其他法律行政法规禁止公开"),
        ("three_safety", "3.危及“三安全一稳定”"), ("third_party", "4.保护第三方合法权益"),
        ("internal_affairs", "5.属于三类内部事务信息"), ("process_info", "6.属于四类过程性信息"),
        ("enforcement_file", "7.属于行政执法案卷"), ("administrative_query", "8.属于行政查询事项")]),
    "unable": ("（四）无法提供", [
        ("not_held", "1.本机关不掌握相关政府信息"), ("needs_creation", "2.没有现成信息需要另行制作"),
        ("still_unclear", "3.补正后申请内容仍不明确")]),
    "not_processed": ("（五）不予处理", [
        ("complaint", "1.信访举报投诉类申请"), ("repeated", "2.重复申请"), ("publication", "3.要求提供公开出版物"),
        ("excessive", "4.无正当理由大量反复申请"), ("confirmation", "5.要求行政机关确认或重新出具已获取信息")]),
    "other": ("（六）其他处理", [
        ("no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
        ("no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
        ("other", "3.其他")]),
}
T3_LEAVES = [("granted", "（一）予以公开"), ("partly", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")] + [
    (f"{g}.{k}", label) for g, (_, leaves) in T3_GROUPS.items() for k, label in leaves
]
T4_GROUPS = [("review", "行政复议"), ("litigation_direct", "行政诉讼：未经复议直接起诉"),
             ("litigation_after_review", "行政诉讼：复议后起诉")]
T4_PARTS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


@dataclass(frozen=True)
class TableProblem:
    cell: str  # e.g. 表三「（七）总计」行「自然人」列
    message: str


def _get(tables: dict, path: str):
    node = tables
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _row(t3: dict, path: str, problems: list, label: str) -> list[int]:
    row = _get(t3, path)
    if not (isinstance(row, list) and len(row) == 7 and all(isinstance(v, int) and not isinstance(v, bool) for v in row)):
        problems.append(TableProblem(f"表三「{label}」行", f"应为 7 个整数（{'、'.join(T3_COLUMNS)}），现在是 {row!r}"))
        return [0] * 7
    return row


def check(tables: dict) -> list[TableProblem]:
    """All arithmetic problems of one report's tables (empty list: balanced)."""
    problems: list[TableProblem] = []
    t3 = tables.get("table3")
    if isinstance(t3, dict):
        new = _row(t3, "new", problems, "一、本年新收政府信息公开申请数量")
        carried = _row(t3, "carried_over", problems, "二、上年结转政府信息公开申请数量")
        total = _row(t3, "total", problems, "（七）总计")
        forward = _row(t3, "carried_forward", problems, "四、结转下年度继续办理")
        leaves = [_row(t3, path, problems, label) for path, label in T3_LEAVES]
        named = [("一、本年新收", new), ("二、上年结转", carried), ("（七）总计", total), ("四、结转下年度", forward)]
        named += [(label, row) for (_, label), row in zip(T3_LEAVES, leaves)]
        for c, col in enumerate(T3_COLUMNS):
            if new[c] + carried[c] != total[c] + forward[c]:
                problems.append(TableProblem(
                    f"表三「{col}」列",
                    f"一+二 = {new[c]}+{carried[c]} = {new[c] + carried[c]}，但 （七）总计+四 = {total[c]}+{forward[c]} = {total[c] + forward[c]}"))
            leaf_sum = sum(row[c] for row in leaves)
            if leaf_sum != total[c]:
                problems.append(TableProblem(
                    f"表三「（七）总计」行「{col}」列",
                    f"应等于（一）至（六）各项之和 {leaf_sum}，现在是 {total[c]}"))
        for label, row in named:
            if sum(row[:6]) != row[6]:
                problems.append(TableProblem(
                    f"表三「{label}」行「总计」列", f"应等于前六列之和 {sum(row[:6])}，现在是 {row[6]}"))
    t4 = tables.get("table4")
    if isinstance(t4, dict):
        for key, label in T4_GROUPS:
            row = t4.get(key)
            if not (isinstance(row, list) and len(row) == 5 and all(isinstance(v, int) for v in row)):
                problems.append(TableProblem(f"表四「{label}」", f"应为 5 个整数（{'、'.join(T4_PARTS)}），现在是 {row!r}"))
            elif sum(row[:4]) != row[4]:
                problems.append(TableProblem(
                    f"表四「{label}」的「总计」", f"应等于维持+纠正+其他+尚未审结 = {sum(row[:4])}，现在是 {row[4]}"))
    return problems
