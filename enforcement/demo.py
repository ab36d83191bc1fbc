"""The demo matter catalog, loaded after the grids demo (`load_demo` calls `load`).

Creates two catalog versions (V1 archived, V2 published, so the diff page has something to show), ~385
matters in 13 enforcement domains (70 suitable for non-site enforcement), tier templates and delegations
(青山湖街道 holds exactly 306 matters in 13 domains: the general template's 250 plus 56 delegated to it
alone), ≥20 problem types, the construction-site checklist (9 key areas, 42 items), the restaurant
checklist, and 7 "regulate one thing" scenarios (gas safety and the Asian Games venue among them).
Deterministic: the same seed gives the same catalog.
"""
import random
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import audit
from core.exceptions import Conflict
from enforcement import demo_data as D
from enforcement.services import catalog as catalog_services
from enforcement.services import checklists as checklists_services
from enforcement.services import power as power_services
from enforcement.services import scenarios as scenarios_services
from enforcement.choices import DelegationSource, MatterKind, ScenarioItemKind, VersionStatus
from enforcement.models import CatalogVersion, Checklist, Delegation, Matter, ScenarioItem
from grids.choices import AreaKind, StreetTier
from grids.models import Area, Department, SubjectCategory

DEFAULT_SEED = 20261123
QSH_STREET = "青山湖街道"
QSH_TOTAL = 306
TIER_SIZES = {StreetTier.GENERAL: 250, StreetTier.CENTRAL: 300, StreetTier.URBAN: 340}
NON_SITE_TOTAL = 70
NEW_IN_V2 = range(330, 340)  # positions (in delegation order) of the matters V2 adds
V1_FROM = date(2025, 1, 1)
QSH_FROM = date(2025, 7, 1)
_KIND_CODE = {MatterKind.ADMINISTRATIVE_PENALTY: "CF", MatterKind.INSPECTION: "JC",
              MatterKind.COERCIVE_MEASURE: "QZ", MatterKind.SUPERVISION: "JG"}
_DEFAULT_DEPARTMENTS = (  # used only when the grids demo did not create them (e.g. in tests)
    ("ZHZF", "综合行政执法局", "综合执法", "enforcement"), ("SCJG", "市场监督管理局", "市场监管", "enforcement"),
    ("STHJ", "生态环境分局", "生态环境", "enforcement"), ("ZRZY", "规划和自然资源分局", "自然资源", "enforcement"),
    ("YJGL", "应急管理局", "应急管理", "enforcement"), ("JT", "交通运输局", "交通运输", "enforcement"),
    ("WJ", "卫生健康局", "卫生健康", "enforcement"), ("WHSC", "文化市场执法队", "文化市场", "enforcement"),
    ("NY", "农业农村局", "农业农村", "enforcement"), ("XF", "消防救援大队", "消防", "supervising"),
    ("GA", "公安分局", "公安", "supervising"), ("JJ", "交警大队", "交警", "supervising"),
    ("ZJ", "住房和城乡建设局", "住建", "supervising"),
)
_CATEGORY_NAMES = {"CY": "餐饮服务", "JS": "建设工地", "ZZ": "住宅小区", "JY": "加油站/燃气站点", "CZ": "出租房屋",
                   "WH": "文化市场"}
_SUB_CATEGORY_NAMES = {"JS01": ("JS", "房建工地"), "JS02": ("JS", "市政工地"), "JS03": ("JS", "拆除工地"),
                       "JS04": ("JS", "装修装饰工程"), "WH03": ("WH", "演出场所")}

_CN = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..999 in Chinese numerals, as in 第三十六条."""
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n - 10] if n > 10 else "")
    if n < 100:
        tens, ones = divmod(n, 10)
        return _CN[tens] + "十" + (_CN[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return _CN[hundreds] + "百"
    if rest < 10:
        return _CN[hundreds] + "百零" + _CN[rest]
    return _CN[hundreds] + "百" + (("一" + cn_number(rest)) if rest < 20 else cn_number(rest))


def _write(stdout, msg):
    if stdout is not None:
        stdout.write(msg)


# --- The plan (pure Python) -------------------------------------------------------------------

def build_matters(seed: int = DEFAULT_SEED) -> list[dict]:
    """Every matter row of the final version, in delegation order (round-robin over the 13 domains, so any
    prefix spans all of them), followed by the supervision duties (not delegated)."""
    rng = random.Random(f"{seed}:catalog")
    per_domain = []
    for dom_code, dom_name, dept, laws, text, inspections, coercive in D.DOMAINS:
        article_next = [start for _law, start in laws]
        rows = []

        def behaviour_rows(block):
            for line in block.strip().splitlines():
                parts = line.strip().split("|")
                behaviour, law_idx, flags = parts[0], int(parts[1]), parts[2].split() if len(parts) > 2 else []
                owner = next((f[2:] for f in flags if f.startswith("D=")), dept)
                law, _start = laws[law_idx]
                article = f"第{cn_number(article_next[law_idx])}条"
                article_next[law_idx] += 1
                rows.append({"name": f"对{behaviour}的行政处罚", "law": law, "article": article, "department": owner,
                             "kind": MatterKind.ADMINISTRATIVE_PENALTY, "domain": dom_name,
                             "non_site": "N" in flags, "major_decision": "M" in flags})

        behaviour_rows(text)
        for obj in inspections + D.MORE_INSPECTIONS.get(dom_code, ()):
            law, start = laws[0]
            rows.append({"name": f"对{obj}的行政检查", "law": law, "article": f"第{cn_number(max(start - 3, 2))}条",
                         "department": dept, "kind": MatterKind.INSPECTION, "domain": dom_name,
                         "non_site": False, "major_decision": False})
        behaviour_rows(D.MORE.get(dom_code, ""))
        for measure in coercive:
            law, start = laws[0]
            rows.append({"name": measure, "law": law, "article": f"第{cn_number(start + 1)}条", "department": dept,
                         "kind": MatterKind.COERCIVE_MEASURE, "domain": dom_name, "non_site": False,
                         "major_decision": True})
        counters = {}
        for row in rows:
            k = _KIND_CODE[row["kind"]]
            counters[k] = counters.get(k, 0) + 1
            row["code"] = f"{dom_code}-{k}{counters[k]:03d}"
        per_domain.append(rows)
    # Round-robin over the domains, ordinary matters first: streets take major-decision matters last
    # (general streets not at all), so a district department keeps e.g. illegal land occupation there.
    ordered = []
    for major in (False, True):
        lists = [[r for r in rows if r["major_decision"] == major] for rows in per_domain]
        for i in range(max(len(r) for r in lists)):
            for rows in lists:
                if i < len(rows):
                    ordered.append(rows[i])
    dom_codes = {d[1]: d[0] for d in D.DOMAINS}
    counters = {}
    for dept, domain, name, law, article in D.SUPERVISION:
        prefix = dom_codes[domain]
        counters[prefix] = counters.get(prefix, 0) + 1
        ordered.append({"code": f"{prefix}-JG{counters[prefix]:03d}", "name": name, "law": law, "article": article,
                        "department": dept, "kind": MatterKind.SUPERVISION, "domain": domain, "non_site": False,
                        "major_decision": False})
    # Exactly NON_SITE_TOTAL non-site matters: keep the flagged ones in order, top up from penalties by seed.
    flagged = [r for r in ordered if r["non_site"]]
    for r in flagged[NON_SITE_TOTAL:]:
        r["non_site"] = False
    missing = NON_SITE_TOTAL - min(len(flagged), NON_SITE_TOTAL)
    if missing:
        pool = [r for r in ordered if not r["non_site"] and r["kind"] == MatterKind.ADMINISTRATIVE_PENALTY]
        for r in rng.sample(pool, missing):
            r["non_site"] = True
    return ordered


def find_code(matters: list[dict], fragment: str) -> str:
    for m in matters:
        if fragment in m["name"]:
            return m["code"]
    raise KeyError(f"demo catalog has no matter like {fragment!r}")


def delegable(matters: list[dict]) -> list[dict]:
    return [m for m in matters if m["kind"] != MatterKind.SUPERVISION]


# --- Writing ----------------------------------------------------------------------------------

def _departments() -> dict[str, Department]:
    out = {d.code: d for d in Department.objects.all()}
    for code, name, short, kind in _DEFAULT_DEPARTMENTS + D.EXTRA_DEPARTMENTS:
        if code not in out:
            out[code] = Department.objects.create(code=code, name=name, short_name=short, kind=kind)
    return out


def _category(code: str) -> SubjectCategory:
    cat = SubjectCategory.objects.filter(code=code).first()
    if cat is not None:
        return cat
    if code in _SUB_CATEGORY_NAMES:
        parent_code, name = _SUB_CATEGORY_NAMES[code]
        return SubjectCategory.objects.create(code=code, name=name, parent=_category(parent_code))
    return SubjectCategory.objects.create(code=code, name=_CATEGORY_NAMES.get(code, code))


def _streets() -> tuple[dict[str, list[Area]], Area]:
    streets = list(Area.objects.filter(kind=AreaKind.STREET).order_by("code"))
    if not streets:
        raise Conflict("没有镇街：请先加载区域演示数据（grids.demo）。")
    by_tier = {t: [] for t in StreetTier.values}
    for s in streets:
        by_tier[s.tier or StreetTier.GENERAL].append(s)
    qsh = next((s for s in streets if s.name == QSH_STREET), None)
    qsh = qsh or (by_tier[StreetTier.GENERAL] or streets)[0]
    return by_tier, qsh


def _bulk_matters(version, rows, departments):
    Matter.objects.bulk_create([
        Matter(version=version, code=r["code"], name=r["name"], law=r["law"], article=r["article"],
               department=departments[r["department"]], kind=r["kind"], domain=r["domain"], non_site=r["non_site"],
               major_decision=r["major_decision"], **_fine_range(r))
        for r in rows
    ], batch_size=500)


def _fine_range(row) -> dict:
    """A demo fine range (yuan) for penalty matters: the cases' decisions are checked against it."""
    if row["kind"] != MatterKind.ADMINISTRATIVE_PENALTY:
        return {}
    low, high = ("10000", "200000") if row["major_decision"] else ("50", "20000")
    return {"fine_min": Decimal(low), "fine_max": Decimal(high)}


@transaction.atomic
def load(seed: int = DEFAULT_SEED, *, scale: int = 1, stdout=None, previous=None, results=None, large=False,
         **_ignored) -> dict:
    """Create the demo catalog (refuses when a catalog exists). `scale`, `large`, `previous`/`results`
    (the earlier loaders' counts) don't change the catalog: it is the same for any district size."""
    if CatalogVersion.objects.exists():
        raise Conflict("事项清单已存在：请在空数据库中加载演示数据。")
    _write(stdout, "事项清单演示数据 …")
    departments = _departments()
    by_tier, qsh = _streets()
    matters = build_matters(seed)
    order = delegable(matters)
    new_codes = {order[i]["code"] for i in NEW_IN_V2 if i < len(order)}

    # V1: everything but the ten matters V2 adds; one matter with an older article (V2 amends it).
    v1 = catalog_services.open_draft(None, note="2025年版综合行政执法事项目录")
    amended = order[3]["code"]
    v1_rows = [dict(r, article="第十条") if r["code"] == amended else r for r in matters if r["code"] not in new_codes]
    _bulk_matters(v1, v1_rows, departments)
    templates = {}
    for tier, size in TIER_SIZES.items():
        codes = [m["code"] for m in order[:size]]
        templates[tier] = codes
        catalog_services.set_tier_template(None, tier=tier, matter_codes=[c for c in codes if c not in new_codes],
                                   name=f"{StreetTier(tier).label}赋权事项（{size}项）")
        catalog_services.apply_tier_template(None, tier=tier, effective_from=V1_FROM)
    _add_problem_types(matters)
    catalog_services.publish_draft(None)

    # A revocation on the published version (mirrored into the next draft).
    general_others = [s for s in by_tier[StreetTier.GENERAL] if s.pk != qsh.pk]
    revoked = 0
    if general_others:
        d = Delegation.objects.filter(matter__version=v1, street=general_others[0]).order_by("matter__code").last()
        catalog_services.revoke_delegation(None, d, reason="街道承接能力评估未达标，暂由区级主管部门实施")
        revoked = 1

    # V2: the ten new matters, one amended article, one matter no longer non-site… plus 青山湖's own 56.
    v2 = catalog_services.open_draft(None, note="2025年7月修订：新增事项，青山湖街道扩大赋权")
    _bulk_matters(v2, [r for r in matters if r["code"] in new_codes], departments)
    catalog_services.update_matter(None, Matter.objects.get(version=v2, code=amended),
                           article=next(r["article"] for r in matters if r["code"] == amended))
    catalog_services.set_tier_template(None, tier=StreetTier.URBAN, matter_codes=templates[StreetTier.URBAN])
    catalog_services.apply_tier_template(None, tier=StreetTier.URBAN, effective_from=QSH_FROM)
    extra = order[TIER_SIZES[StreetTier.GENERAL]:QSH_TOTAL]
    held = set(Delegation.objects.filter(matter__version=v2, street=qsh).values_list("matter__code", flat=True))
    v2_matters = {m.code: m for m in Matter.objects.filter(version=v2)}
    Delegation.objects.bulk_create([
        Delegation(matter=v2_matters[m["code"]], street=qsh, tier=qsh.tier, effective_from=QSH_FROM,
                   source=DelegationSource.MANUAL)
        for m in extra if m["code"] not in held
    ])
    audit.record(None, "delegation.bulk_created", qsh, changes={"matters": [None, len(extra)], "version": [None, v2.number]})
    if by_tier[StreetTier.CENTRAL]:  # a pilot delegation that ended
        pilot = Delegation.objects.filter(matter__version=v2, street=by_tier[StreetTier.CENTRAL][0]).order_by("matter__code").first()
        catalog_services.update_delegation(None, pilot, effective_to=date(2025, 12, 31))
    catalog_services.publish_draft(None)

    categories = {c: _category(c) for c in ("CY", "JS", "ZZ", "JY", "CZ", "JS01", "JS02", "JS03", "JS04", "WH03")}
    checklist_items = _checklists(matters, categories)
    scenarios = _scenarios(matters, categories, checklist_items)

    on = timezone.localdate()
    from enforcement import selectors

    qsh_held = selectors.matters_held(qsh, on)
    counts = {
        "catalog_versions": CatalogVersion.objects.count(),
        "published_version": CatalogVersion.objects.get(status=VersionStatus.PUBLISHED).number,
        "matters": Matter.objects.filter(version=v2).count(),
        "domains": Matter.objects.filter(version=v2).values("domain").distinct().count(),
        "non_site": Matter.objects.filter(version=v2, non_site=True).count(),
        "major_decision": Matter.objects.filter(version=v2, major_decision=True).count(),
        "delegations": Delegation.objects.filter(matter__version=v2).count(),
        "revoked_delegations": revoked,
        "qsh_street": qsh.name,
        "qsh_matters": qsh_held.count(),
        "qsh_domains": qsh_held.values("domain").distinct().count(),
        "tier_templates": {str(StreetTier(t).label): len(c) for t, c in templates.items()},
        "problem_types": len(D.PROBLEM_TYPES),
        "checklists": Checklist.objects.count(),
        "construction_checklist_items": len(checklist_items["construction"]),
        "scenarios": scenarios,
    }
    audit.record(None, "demo.catalog_loaded", None, object_type="demo", object_id=str(seed), object_repr="事项清单演示数据",
                 changes={k: [None, v] for k, v in counts.items() if isinstance(v, int)})
    _write(stdout, (f"  事项 {counts['matters']}（{counts['domains']} 个领域，非现场 {counts['non_site']}）；"
                    f"{qsh.name} 承接 {counts['qsh_matters']} 项（{counts['qsh_domains']} 个领域）；"
                    f"问题类型 {counts['problem_types']}；场景 {len(scenarios)}"))
    return counts


def _add_problem_types(matters):
    for code, name, fragment, severity, group, about in D.PROBLEM_TYPES:
        power_services.save_problem_type(None, code=code, name=name, matter_code=find_code(matters, fragment),
                                   default_severity=severity, group=group, about_subject=about)


def _checklists(matters, categories) -> dict:
    out = {}
    for key, code, name, category, spec, description in (
        ("construction", "JC-JSGD", "建设工地综合查一次检查清单", categories["JS"], D.CONSTRUCTION_CHECKLIST,
         "住建、综合执法、生态环境、应急管理、消防、市场监管等部门对建设工地一次联合检查：9个重点领域42项。"),
        ("restaurant", "JC-CYDW", "餐饮单位综合查一次检查清单", categories["CY"], D.RESTAURANT_CHECKLIST,
         "综合执法、市场监管、消防、卫健等部门对餐饮单位一次联合检查。"),
    ):
        checklist, _ = checklists_services.save_checklist(None, code=code, name=name, category=category, description=description)
        items, n = [], 0
        for area_name, rows in spec:
            for text, fragment, weight in rows:
                n += 1
                item, _state = checklists_services.save_checklist_item(
                    None, checklist, code=f"{code}-{n:02d}", area_name=area_name, matter_code=find_code(matters, fragment),
                    text=text, weight=weight, order=n)
                items.append(item)
        out[key] = items
    return out


_VENUE_SUPERVISION = (
    ("TY", ("场馆运营单位安全管理制度落实", "赛事活动安全工作方案备案", "场馆设施设备定期检测", "观众席及看台结构安全巡查")),
    ("WGLT", ("赛事期间文艺演出活动报备", "场馆周边文化经营场所巡查", "旅游接待服务质量监督", "志愿服务点位文化宣传规范")),
    ("JXJ", ("场馆电力保障与应急电源检查", "通信网络保障巡查", "重点企业能源供应保障")),
    ("ZJ", ("场馆建筑结构安全监督", "临时搭建设施安全验收", "场馆燃气设施安全检查", "周边在建工地停工管控")),
    ("XF", ("场馆消防设施完好有效检查", "疏散通道和安全出口畅通检查", "大型活动消防安全监督", "临时用电和动火作业监督")),
    ("GA", ("大型群众性活动安全许可", "场馆安检和人员管控", "周边治安巡逻防控")),
    ("JJ", ("场馆周边交通组织", "临时停车区域设置", "赛事车辆通行保障")),
    ("WJ", ("场馆公共卫生监督", "医疗保障点设置", "传染病防控措施落实")),
    ("YJGL", ("应急预案编制与演练", "应急物资储备检查", "危险化学品使用场所排查")),
    ("SCJG", ("场馆内餐饮食品安全监督", "特种设备（电梯、扶梯）安全检查", "赛事商品价格监督")),
    ("JT", ("赛事公共交通接驳保障", "出租汽车和网约车服务保障", "运输车辆安全检查")),
)
_VENUE_ENFORCEMENT = (("ZHZF", 8), ("SCJG", 6), ("STHJ", 4), ("YJGL", 5), ("JT", 5), ("WJ", 4), ("WHSC", 5))


def _scenarios(matters, categories, checklist_items) -> dict:
    def m(fragment):
        return find_code(matters, fragment)

    def sup(dept, text, matter_fragment=None):
        return {"kind": ScenarioItemKind.SUPERVISION, "department": dept,
                "matter_code": m(matter_fragment) if matter_fragment else "", "text": text}

    def enf(fragment, dept=None):
        item = {"kind": ScenarioItemKind.ENFORCEMENT, "matter_code": m(fragment)}
        if dept:
            item["department"] = dept
        return item

    venue_enf = []
    for dept, n in _VENUE_ENFORCEMENT:
        rows = [r for r in matters if r["department"] == dept and r["kind"] != MatterKind.SUPERVISION][:n]
        venue_enf += [{"kind": ScenarioItemKind.ENFORCEMENT, "matter_code": r["code"]} for r in rows]
    construction = checklist_items["construction"]
    specs = (
        ("CJ001", "燃气安全一件事", "住建、综合执法、市场监管、消防四部门围绕燃气使用安全的监管与执法事项。",
         ("CY", "JY"), True, [
             sup("ZJ", "燃气经营企业安全检查和隐患排查", "城镇燃气行业监督管理"),
             sup("ZJ", "瓶装燃气供应站点规范化管理"),
             sup("SCJG", "燃气用具和配件产品质量抽查", "燃气用具产品质量监督"),
             sup("XF", "燃气使用场所消防安全检查", "消防安全重点单位监督检查"),
             enf("燃气泄漏报警装置"), enf("擅自改装、拆除、迁移燃气设施"), enf("瓶装燃气违规充装"),
             enf("未经许可从事燃气经营活动"), enf("使用不合格燃气器具"), enf("销售不合格产品", "SCJG"),
             enf("占用、堵塞疏散通道"),
         ]),
        ("CJ002", "亚运场馆安全保障一件事", "11个监管部门的37项监管事项与7个执法部门的37项执法事项，保障亚运场馆运行。",
         ("WH03",), True,
         [sup(dept, text) for dept, texts in _VENUE_SUPERVISION for text in texts] + venue_enf),
        ("CJ003", "建筑工地一件事", "建设工地质量安全、扬尘、渣土、噪声的联合监管（与综合查一次清单衔接）。",
         ("JS",), True, [
             sup("ZJ", "建筑工程质量安全监督", "建筑工程质量安全监督"),
             sup("ZJ", "建筑施工扬尘监督管理", "建筑施工扬尘监督管理"),
         ] + [{"kind": ScenarioItemKind.ENFORCEMENT, "checklist_item": i.pk, "text": i.text} for i in construction[:6]]),
        ("CJ004", "建筑扬尘一件事", "施工扬尘、渣土运输与道路遗撒的全链条监管。", ("JS01", "JS02", "JS03"), True, [
            sup("ZJ", "施工扬尘防治责任落实", "建筑施工扬尘监督管理"),
            enf("施工单位未采取扬尘防治措施"), enf("冲洗干净"), enf("未密闭存放易产生扬尘"), enf("泄漏、遗撒"),
            enf("渣土运输车辆", "JT"),
        ]),
        ("CJ005", "房屋装修一件事", "住宅装饰装修的申报、结构安全、燃气与消防、装修垃圾。", ("ZZ", "JS04"), True, [
            sup("ZJ", "住宅室内装饰装修监督管理", "住宅室内装饰装修监督管理"),
            enf("装修人未申报登记"), enf("擅自变动建筑主体和承重结构"), enf("装修垃圾"), enf("违规拆改燃气管道"),
            enf("违规动火作业"),
        ]),
        ("CJ006", "出租房屋一件事", "出租房屋的治安、消防、租赁与群租整治。", ("CZ",), True, [
            sup("GA", "出租房屋治安管理和流动人口登记", "出租房屋治安管理"),
            sup("ZJ", "房屋租赁登记备案监督", "房屋租赁监督管理"),
            enf("群租房未按规定设置消防安全设施"), enf("电动自行车在楼道"), enf("违规分隔出租"), enf("私拉乱接电线"),
        ]),
        ("CJ007", "房屋销售一件事", "商品房销售、广告与价格行为（草稿，待确定适用范围）。", (), False, [
            sup("ZJ", "商品房销售监督管理", "商品房销售监督管理"),
            enf("发布虚假广告"), enf("价格欺诈"),
        ]),
    )
    out = {}
    for code, name, description, cat_codes, publish, items in specs:
        scenario = scenarios_services.create_scenario(None, code=code, name=name, description=description,
                                            categories=[categories[c] for c in cat_codes], items=items, publish=publish)
        kinds = list(ScenarioItem.objects.filter(scenario=scenario).values_list("kind", "department_id"))
        sup_items = [d for k, d in kinds if k == ScenarioItemKind.SUPERVISION]
        enf_items = [d for k, d in kinds if k == ScenarioItemKind.ENFORCEMENT]
        out[name] = (f"监管 {len(set(sup_items))} 部门 {len(sup_items)} 项 / 执法 {len(set(enf_items))} 部门 "
                     f"{len(enf_items)} 项{'' if publish else '（草稿）'}")
    return out
