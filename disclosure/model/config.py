"""Site settings: `mkdocs.yml` → `extra.portal`, read without MkDocs so the CLI and tests can use it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from disclosure.model.calendar import WorkCalendar

PACKAGE_DATA = Path(__file__).parent.parent / "data"
UNIT_LEVELS = {"government": "人民政府", "department": "政府部门", "township": "乡镇（街道）"}

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet, the last a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class ConfigError(Exception):
    """The site configuration is unusable; the message says where and how to fix it."""


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    return (
        len(code) == 18
        and all(c in _USCC_CHARS for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )


@dataclass(frozen=True)
class Unit:
    id: str  # short ASCII id: URLs of the unit's sub-portal and feeds
    name: str  # full name, as staff write it in `issuer`
    code: str  # 统一社会信用代码
    level: str  # government | department | township
    org_code: str  # 组织机构代码 part of the credit code, used in the 索引号

    @property
    def level_label(self) -> str:
        return UNIT_LEVELS[self.level]


@dataclass(frozen=True)
class Column:
    id: str
    name: str
    item: str = ""  # the 第二十条 item it implements, e.g. 第二十条第（一）项
    kind: str = "政策文件"  # 动态 | 通知公告 | 政策文件: decides the staleness window (report)


@dataclass(frozen=True)
class Rules:
    deadline_working_days: int = 20
    start_day_counts: bool = False
    require_review: bool = True
    normative_validity_years: int = 5
    normative_trial_validity_years: int = 2
    expiry_warning_months: int = 6
    withdrawal_working_days: int = 3
    annual_report_deadline: dict = field(
        default_factory=lambda: {"government": "03-31", "department": "01-31", "township": "01-31"}
    )
    annual_reports_since: int | None = None
    expired_counts_as_repealed: bool = False  # table 2: does lapse by expiry count as 本年废止?


@dataclass
class PortalConfig:
    root: Path  # folder of mkdocs.yml
    docs_dir: Path
    site_name: str
    site_url: str
    office: str
    site_domain: str
    site_id_code: str
    index_template: str
    units: list[Unit]
    columns: list[Column]
    taxonomy: dict[str, list[str]]
    rules: Rules
    calendar: WorkCalendar
    records_dir: str = "records"
    compliance_page: bool = False
    feed_entries: int = 50  # entries per feed (0: every record)
    feeds: bool = True
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        self._units_by_key = {}
        for u in self.units:
            self._units_by_key[u.name] = u
            self._units_by_key[u.id] = u
        self._columns_by_key = {}
        for c in self.columns:
            self._columns_by_key[c.id] = c
            self._columns_by_key[c.name] = c
        self.topics = {top for top, subs in self.taxonomy.items() if not subs}
        self.topics |= {f"{top}\\{sub}" for top, subs in self.taxonomy.items() for sub in subs}
        self._index_res: dict[str, re.Pattern] = {}
        # the site's own host names (site_url, site_domain): images from them are not third-party
        self.own_hosts = frozenset(h.lower() for h in (urlparse(self.site_url).hostname, self.site_domain) if h)

    def unit(self, key: str) -> Unit | None:
        return self._units_by_key.get(key)

    def column(self, key: str) -> Column | None:
        return self._columns_by_key.get(key)

    def index_no_pattern(self, unit: Unit) -> re.Pattern:
        """The template as a regex for one unit: `{org_code}/{year}-{seq:05d}` → `MB0000001/[0-9]{4}-[0-9]{5}`."""
        if unit.id not in self._index_res:
            # ASCII only: full-width or other Unicode digits must not pass (the URL derives from it)
            self._index_res[unit.id] = re.compile(_template_regex(self.index_template, unit), re.ASCII)
        return self._index_res[unit.id]

    def format_index_no(self, unit: Unit, year: int, seq: int) -> str:
        return self.index_template.format(
            org_code=unit.org_code, code=unit.code, unit=unit.id, year=year, seq=seq
        )


_PLACEHOLDER = re.compile(r"\{(\w+)(?::0?(\d+)d)?\}", re.ASCII)


def _template_regex(template: str, unit: Unit) -> str:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name, width = m.group(1), m.group(2)
        if name == "org_code":
            out.append(re.escape(unit.org_code))
        elif name == "code":
            out.append(re.escape(unit.code))
        elif name == "unit":
            out.append(re.escape(unit.id))
        elif name == "year":
            out.append(r"(?P<year>[0-9]{4})")
        elif name == "seq":
            out.append(rf"(?P<seq>[0-9]{{{width}}})" if width else r"(?P<seq>[1-9][0-9]*)")
        else:
            raise ConfigError(f"索引号模板 index_template 中的 {{{name}}} 无法识别；可用 org_code、code、unit、year、seq")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return "^" + "".join(out) + "$"


class _TolerantLoader(yaml.SafeLoader):
    """mkdocs.yml may carry tags such as !ENV or !!python/name: that only MkDocs resolves."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor("!", _any_tag)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


def load_mkdocs_yml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_TolerantLoader) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: 找不到站点配置文件 mkdocs.yml（在站点根目录运行，或用 --config 指定）") from None
    except yaml.YAMLError as e:
        raise ConfigError(yaml_error_text(path, e)) from None


def yaml_error_text(path: Path, e: yaml.YAMLError) -> str:
    """The Chinese message for a mkdocs.yml that does not parse: the slip staff make most (a
    full-width colon, a missing space…) named at its own line with the corrected line to copy
    (hints.line_slip; YAML itself reports the line after it), else the parser's line and phrase."""
    from disclosure.model import hints

    mark = getattr(e, "problem_mark", None)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        lines = []
    last = mark.line if mark else len(lines) - 1
    for i in range(min(last, len(lines) - 1), -1, -1):  # the nearest slip at or before the reported line
        slip = hints.line_slip(lines[i])
        if slip:
            return f"{path}:{i + 1}: mkdocs.yml 第 {i + 1} 行：{slip[0]}。{slip[1]}"
    line = f":{mark.line + 1}" if mark else ""
    return f"{path}{line}: mkdocs.yml 不是有效的 YAML（{getattr(e, 'problem', e)}），请检查这一行及上一行的冒号、缩进和引号"


def load_config(path: str | Path = "mkdocs.yml", mkdocs_cfg: dict | None = None) -> PortalConfig:
    path = Path(path).resolve()
    data = mkdocs_cfg if mkdocs_cfg is not None else load_mkdocs_yml(path)
    root = path.parent
    portal = ((data.get("extra") or {}).get("portal")) or {}
    where = f"{path.name} → extra.portal"
    if not portal:
        raise ConfigError(f"{path}: 缺少 extra.portal 设置（机关名称、单位列表等），请参照 README 添加")

    units = []
    seen_ids = set()
    for i, u in enumerate(portal.get("units") or []):
        try:
            uid, name, code, level = str(u["id"]), str(u["name"]), str(u["code"]), str(u.get("level", "department"))
        except (KeyError, TypeError):
            raise ConfigError(f"{where}.units[{i}]: 每个单位需要 id、name、code（统一社会信用代码）和 level") from None
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", uid):
            raise ConfigError(f"{where}.units[{i}].id「{uid}」: 只能用小写字母、数字和连字符（用于网址）")
        if uid in seen_ids:
            raise ConfigError(f"{where}.units[{i}].id「{uid}」: 与其他单位重复")
        seen_ids.add(uid)
        if not uscc_is_valid(code):
            raise ConfigError(
                f"{where}.units[{i}].code「{code}」: 不是有效的统一社会信用代码（18位，末位为校验码）"
            )
        if level not in UNIT_LEVELS:
            raise ConfigError(f"{where}.units[{i}].level「{level}」: 应为 {' / '.join(UNIT_LEVELS)}")
        units.append(Unit(uid, name, code, level, str(u.get("org_code") or code[8:17])))
    if not units:
        raise ConfigError(f"{where}.units: 至少配置一个发布单位")

    columns = [
        Column(str(c["id"]), str(c["name"]), str(c.get("item", "")), str(c.get("kind", "政策文件")))
        for c in (portal.get("columns") or [])
    ]
    taxonomy_path = portal.get("taxonomy")
    tax_file = (root / taxonomy_path) if taxonomy_path else PACKAGE_DATA / "topics.yml"
    try:
        taxonomy = yaml.safe_load(tax_file.read_text(encoding="utf-8")) or {}
    except OSError:
        raise ConfigError(f"{where}.taxonomy: 找不到主题分类文件 {tax_file}") from None
    taxonomy = {str(k): [str(s) for s in (v or [])] for k, v in taxonomy.items()}

    rules_raw = dict(portal.get("rules") or {})
    known = set(Rules.__dataclass_fields__)
    unknown = set(rules_raw) - known
    if unknown:
        raise ConfigError(f"{where}.rules: 未知设置 {', '.join(sorted(unknown))}；可用：{', '.join(sorted(known))}")
    defaults = Rules()
    if "annual_report_deadline" in rules_raw:
        rules_raw["annual_report_deadline"] = {**defaults.annual_report_deadline, **rules_raw["annual_report_deadline"]}
    rules = Rules(**rules_raw)

    try:
        calendar = WorkCalendar.from_config(portal.get("calendar"))
    except (ValueError, TypeError, AttributeError) as e:
        raise ConfigError(f"{where}.calendar: 放假安排写法有误（日期用 YYYY-MM-DD）：{e}") from None

    feed_entries = portal.get("feed_entries", 50)
    if isinstance(feed_entries, bool) or not isinstance(feed_entries, int) or feed_entries < 0:
        raise ConfigError(f"{where}.feed_entries: 每个订阅源的条数应为不小于 0 的整数（0 表示全部），"
                          f"现在是「{feed_entries}」（修改方法：写成 feed_entries: 50）")

    cfg = PortalConfig(
        root=root,
        docs_dir=root / str(data.get("docs_dir", "docs")),
        site_name=str(data.get("site_name", "")),
        site_url=str(data.get("site_url") or ""),
        office=str(portal.get("office") or data.get("site_name", "")),
        site_domain=str(portal.get("site_domain", "")),
        site_id_code=str(portal.get("site_id_code", "")),
        index_template=str(portal.get("index_template", "{org_code}/{year}-{seq:05d}")),
        units=units,
        columns=columns,
        taxonomy=taxonomy,
        rules=rules,
        calendar=calendar,
        records_dir=str(portal.get("records_dir", "records")),
        compliance_page=bool(portal.get("compliance_page", False)),
        feed_entries=feed_entries,
        raw=portal,
    )
    for u in units:
        cfg.index_no_pattern(u)  # template errors surface now, as config errors
    return cfg
