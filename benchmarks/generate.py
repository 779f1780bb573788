"""Seeded generator of N realistic synthetic records (Chinese titles and bodies, many units, topics, years).

    python benchmarks/generate.py 10000 benchmarks/out/site-10k [--seed 1]

Writes a complete site folder (mkdocs.yml + content/records/…) that validates clean: every record is
well-formed, most are on time, a few are late with a reason, and normative documents carry numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
import sys

sys.path.insert(0, str(ROOT))
from disclosure.model.calendar import WorkCalendar  # noqa: E402
from disclosure.model.config import uscc_check_char  # noqa: E402

PLACES = ["青岚", "云溪", "白石", "枫林", "松岭", "清河", "桃源", "龙泉", "金沙", "石门"]
ORGANS = ["人民政府", "发展和改革局", "教育局", "科学技术局", "公安局", "民政局", "司法局", "财政局", "人力资源和社会保障局",
          "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化和旅游局",
          "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局"]
SUBJECTS = ["农村人居环境整治", "义务教育均衡发展", "食品安全监督抽检", "城镇老旧小区改造", "安全生产隐患排查", "防汛抗旱",
            "政府采购", "最低生活保障", "养老服务体系建设", "高标准农田建设", "河长制工作", "营商环境优化", "招商引资",
            "电动自行车安全管理", "秸秆综合利用", "校外培训机构监管", "医疗保障待遇", "就业创业扶持", "文物保护",
            "森林防火", "道路交通安全", "生活垃圾分类", "公共法律服务", "数字政府建设", "乡村振兴", "消费者权益保护"]
GENRES = [("通知", "关于做好{y}年{s}工作的通知"), ("方案", "{y}年{s}工作实施方案"), ("公告", "关于{s}有关事项的公告"),
          ("报告", "{y}年上半年{s}工作情况报告"), ("意见", "关于进一步加强{s}的意见"), ("公示", "{y}年{s}项目公示")]
SENTENCES = [
    "为深入贯彻落实上级决策部署，切实做好{s}工作，结合本地实际，制定本{g}。",
    "各单位要提高思想认识，加强组织领导，明确责任分工，确保各项任务落到实处。",
    "到{y}年底，{s}各项指标达到预期目标，群众满意度明显提升。",
    "建立健全工作机制，强化部门协同，定期通报工作进展情况。",
    "加大资金投入，{y}年安排专项资金{n}万元，重点支持基层薄弱环节。",
    "对工作推进不力、问题整改不到位的，予以通报批评并督促整改。",
    "请各乡镇人民政府、县政府各部门于每季度末将工作进展报送县政府办公室。",
    "本{g}自发布之日起施行，由{o}负责解释。",
]
TOPICS = ["综合政务\\政务公开", "科技、教育\\教育", "市场监管、安全生产监管\\食品药品监管", "城乡建设、环境保护\\城乡建设（含住房）",
          "农业、林业、水利\\农业、畜牧业、渔业", "劳动、人事、监察\\社会保障", "财政、金融、审计\\财政", "民政、扶贫、救灾\\社会福利",
          "公安、安全、司法\\公安", "卫生、体育\\卫生", "国民经济管理、国有资产监管\\统计", "综合政务\\应急管理"]
COLUMNS = ["tzgg", "msxx", "jdjc", "czyjs", "tjxx", "yjgl", "zfcg", "ghxx"]


def make_units(n: int):
    units = []
    for i in range(n):
        place = PLACES[i // len(ORGANS) % len(PLACES)]
        organ = ORGANS[i % len(ORGANS)]
        org = f"MB{i + 1:06d}X"
        first = "11339901" + org
        level = "government" if organ == "人民政府" else "department"
        units.append({"id": f"u{i + 1:03d}", "name": f"{place}县{organ}", "code": first + uscc_check_char(first),
                      "level": level, "org": org})
    return units


def write_config(out: Path, units=None, n_units: int = 40) -> bool:
    """The corpus's mkdocs.yml: the demo's settings, this checkout's theme and hooks. True if it changed.

    Called again before every benchmark run, so a corpus generated from another checkout (another
    worktree) is built with this checkout's templates and scripts, not with the ones it was made by.
    """
    demo = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    portal = demo["extra"]["portal"]
    portal["units"] = [{k: u[k] for k in ("id", "name", "code", "level")} for u in units or make_units(n_units)]
    portal["rules"]["annual_reports_since"] = 2026
    config = {**demo, "site_name": "基准测试站点", "hooks": [str(ROOT / "hooks" / "portal.py")]}
    config["theme"] = {**demo["theme"], "custom_dir": str(ROOT / "disclosure" / "theme")}
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    path = out / "mkdocs.yml"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def generate(n: int, out: Path, seed: int = 1, n_units: int = 40):
    rnd = random.Random(seed)
    cal = WorkCalendar.default()
    units = make_units(n_units)
    if out.exists():
        shutil.rmtree(out)
    (out / "content" / "records").mkdir(parents=True)
    write_config(out, units)

    seq: dict = {}
    start = dt.date(2019, 1, 2)
    span = (dt.date(2026, 10, 1) - start).days
    for i in range(n):
        u = units[rnd.randrange(n_units)]
        written = start + dt.timedelta(days=rnd.randrange(span))
        key = (u["id"], written.year)
        seq[key] = seq.get(key, 0) + 1
        normative = rnd.random() < 0.08
        subject = rnd.choice(SUBJECTS)
        genre, pattern = rnd.choice(GENRES)
        title = u["name"] + pattern.format(y=written.year, s=subject)
        late = rnd.random() < 0.05
        offset = rnd.randint(21, 35) if late else rnd.randint(1, 20)
        published = cal.add_working_days(written, offset)
        fm = {"type": "normative" if normative else "disclosure", "title": title,
              "index_no": f"{u['org']}/{written.year}-{seq[key]:05d}", "issuer": u["name"]}
        if normative:
            fm["doc_no"] = f"青{u['id']}规〔{written.year}〕{seq[key]}号"
            fm["reg_no"] = f"QLGS-{written.year}-{i:06d}"
        fm["topic"] = rnd.choice(TOPICS)
        if not normative:
            fm["column"] = rnd.choice(COLUMNS)
        fm["written"] = written
        fm["published"] = published
        if normative:
            fm["effective"] = published + dt.timedelta(days=rnd.randint(0, 30))
        if late:
            fm["late_reason"] = "需征求相关部门意见，会签时间较长"
        fm["keywords"] = [subject, genre]
        fm["genre"] = genre
        fm["reviewed"] = {"by": "办公室 审核员", "date": written}
        fm["summary"] = f"{title}的主要内容。"
        paras = []
        for _ in range(rnd.randint(4, 9)):
            s = rnd.choice(SENTENCES).format(s=subject, g=genre, y=written.year, n=rnd.randint(10, 900), o=u["name"])
            paras.append(s + rnd.choice(SENTENCES).format(s=rnd.choice(SUBJECTS), g=genre, y=written.year,
                                                           n=rnd.randint(10, 900), o=u["name"]))
        folder = out / "content" / "records" / str(written.year) / u["id"]
        folder.mkdir(parents=True, exist_ok=True)
        text = "---\n" + yaml.safe_dump(fm, allow_unicode=True, sort_keys=False, width=500) + "---\n\n" + "\n\n".join(paras) + "\n"
        (folder / f"{seq[key]:05d}.md").write_text(text, encoding="utf-8")
    return out / "mkdocs.yml"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=40)
    args = ap.parse_args()
    print(generate(args.n, args.out, args.seed, args.units))


if __name__ == "__main__":
    main()
