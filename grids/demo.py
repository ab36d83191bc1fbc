"""The demo district (拱墅区): areas, subject categories, subjects, departments, teams, officers, demo users.

Shaped like the seeds (DOMAIN.md): 5 streets of the three tiers, ≥150 grids and ≥400 micro-grids that tile
each street, 5 defence zones in 青山湖街道, 1,589 subjects in 拱宸桥街道 (17 major / 57 sub-categories),
62 construction sites in 东新街道, a team per street with officers seconded from ≥7 departments
(青山湖: 38 officers), and one demo user per role.

Two steps, so determinism can be checked without a database:
    build_plan(seed, scale=1) -> Plan      pure Python: every row to write, from seeded random streams
    load(seed, scale=1, stdout=None)       writes a plan in one transaction (bulk inserts), returns counts

Same seed → same data (names, licence numbers, points…); only position timestamps follow the clock.

DEMO ONLY: every demo account (and every generated officer account) has the password DEMO_PASSWORD.
Never load the demo into a production database.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from core import audit
from core.exceptions import Conflict
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER
from grids import accounts, geometry, services, spatial
from grids.choices import AreaKind, DepartmentKind, DutyStatus, Rank, SubjectStatus
from grids.demo_geometry import DISTRICT_CODE, build_district, random_point_in
from grids.models import (
    Area, AreaMembership, Department, Officer, OfficerPosition, Subject, SubjectCategory, Tag, Team,
)

DEFAULT_SEED = 20261123
# Demo only: printed by `manage.py demo_logins`; all demo accounts share it.
DEMO_PASSWORD = "demo-pass-2026"

DISTRICT = "district"  # stands for the district's code in DEMO_USERS
# (username, role, bound area: DISTRICT or a street name, display name)
DEMO_USERS = (
    ("dispatcher", DISPATCHER, DISTRICT, "指挥中心值班员（演示）"),
    ("leader_qsh", TEAM_LEADER, "青山湖街道", "青山湖街道执法队队长（演示）"),
    ("leader_gcq", TEAM_LEADER, "拱宸桥街道", "拱宸桥街道执法队队长（演示）"),
    ("bureau", BUREAU_STAFF, DISTRICT, "区综合执法局（演示）"),
    ("officer_demo", OFFICER, "青山湖街道", ""),
    ("platform", API_CLIENT, DISTRICT, "外部平台（演示）"),
)
DEMO_USERNAMES = tuple(u[0] for u in DEMO_USERS)
OFFICER_DEMO_STREET = "青山湖街道"

# (code, name, short name, kind): the "1+8" enforcement departments, then the supervising bodies.
DEPARTMENTS = (
    ("ZHZF", "综合行政执法局", "综合执法", DepartmentKind.ENFORCEMENT),
    ("SCJG", "市场监督管理局", "市场监管", DepartmentKind.ENFORCEMENT),
    ("STHJ", "生态环境分局", "生态环境", DepartmentKind.ENFORCEMENT),
    ("ZRZY", "规划和自然资源分局", "自然资源", DepartmentKind.ENFORCEMENT),
    ("YJGL", "应急管理局", "应急管理", DepartmentKind.ENFORCEMENT),
    ("JT", "交通运输局", "交通运输", DepartmentKind.ENFORCEMENT),
    ("WJ", "卫生健康局", "卫生健康", DepartmentKind.ENFORCEMENT),
    ("WHSC", "文化市场执法队", "文化市场", DepartmentKind.ENFORCEMENT),
    ("NY", "农业农村局", "农业农村", DepartmentKind.ENFORCEMENT),
    ("XF", "消防救援大队", "消防", DepartmentKind.SUPERVISING),
    ("GA", "公安分局", "公安", DepartmentKind.SUPERVISING),
    ("JJ", "交警大队", "交警", DepartmentKind.SUPERVISING),
    ("ZJ", "住房和城乡建设局", "住建", DepartmentKind.SUPERVISING),
)
ENFORCEMENT_DEPTS = tuple(d[0] for d in DEPARTMENTS if d[3] == DepartmentKind.ENFORCEMENT)

# Sub-category templates: (code, name, subject-name pattern, shop-sign pattern, suffixes, licence kind)
# Patterns use {brand} (trade name), {place} (a local place name), {road}, {x} (one of the suffixes),
# {plot}, {no}. Licence kind: "91" company, "92" individual business, "12" public institution,
# "52" private non-enterprise unit, None: no business licence (residential compounds, rented homes).
CATEGORIES = (
    ("CY", "餐饮服务", 22, (
        ("CY01", "中餐馆", "拱墅区{brand}{x}", "{brand}{x}", ("菜馆", "饭店", "酒家", "小厨", "土菜馆", "私房菜"), "92"),
        ("CY02", "小吃店", "拱墅区{brand}{x}", "{brand}{x}", ("面馆", "小吃", "馄饨店", "包子铺", "米线", "煎饼铺"), "92"),
        ("CY03", "烧烤店", "拱墅区{brand}{x}", "{brand}{x}", ("烧烤", "烤串", "烧烤大排档", "炭火烤肉"), "92"),
        ("CY04", "火锅店", "杭州{brand}餐饮管理有限公司", "{brand}{x}", ("火锅", "老火锅", "串串香", "重庆火锅"), "91"),
        ("CY05", "饮品甜品店", "拱墅区{brand}{x}", "{brand}{x}", ("奶茶", "咖啡", "茶饮", "甜品"), "92"),
    )),
    ("JS", "建设工地", 1.5, (
        ("JS01", "房建工地", "{place}单元{plot}地块{x}", "{brand}建设集团", ("住宅项目", "商住项目", "安置房项目", "综合体项目"), "91"),
        ("JS02", "市政工地", "{road}{x}", "{brand}市政工程有限公司", ("道路提升改造工程", "综合管廊工程", "雨污分流改造工程", "桥梁维修加固工程"), "91"),
        ("JS03", "拆除工地", "{place}{x}", "{brand}拆除工程有限公司", ("旧厂房拆除工程", "城中村改造拆除工程"), "91"),
        ("JS04", "装修装饰工程", "{brand}大厦{x}", "{brand}装饰工程有限公司", ("装修改造工程", "外立面整治工程"), "91"),
    )),
    ("ZZ", "住宅小区", 5, (
        ("ZZ01", "商品房小区", "{place}{x}", "{place}{x}", ("花园", "公寓", "雅苑", "名邸", "府"), None),
        ("ZZ02", "老旧小区", "{place}{x}", "{place}{x}", ("新村", "小区", "西苑", "东苑"), None),
        ("ZZ03", "安置房小区", "{place}{x}", "{place}{x}", ("安置小区", "家园", "人家"), None),
    )),
    ("SY", "商业综合体", 2, (
        ("SY01", "购物中心", "杭州{brand}商业管理有限公司", "{brand}{x}", ("广场", "购物中心", "天地", "汇"), "91"),
        ("SY02", "百货商场", "杭州{brand}百货有限公司", "{brand}{x}", ("百货", "商厦"), "91"),
        ("SY03", "大型超市", "杭州{brand}超市有限公司", "{brand}{x}", ("超市", "生活超市", "量贩"), "91"),
    )),
    ("XZ", "写字楼", 4, (
        ("XZ01", "甲级写字楼", "杭州{brand}置业有限公司", "{brand}{x}", ("国际中心", "金融大厦", "中心"), "91"),
        ("XZ02", "产业园楼宇", "杭州{brand}科技园管理有限公司", "{brand}{x}", ("创意园", "科技园", "智慧谷", "产业园"), "91"),
        ("XZ03", "商务楼宇", "杭州{brand}物业管理有限公司", "{brand}{x}", ("大厦", "商务楼", "大楼"), "91"),
    )),
    ("NM", "农贸市场", 2, (
        ("NM01", "农贸市场", "杭州{place}农贸市场有限公司", "{place}{x}", ("农贸市场",), "91"),
        ("NM02", "社区菜场", "杭州{brand}市场经营管理有限公司", "{place}{x}", ("菜场", "邻里菜场"), "91"),
        ("NM03", "专业批发市场", "杭州{brand}{x}批发市场有限公司", "{brand}{x}批发市场", ("水果", "水产", "小商品", "建材"), "91"),
    )),
    ("YJ", "沿街商铺", 28, (
        ("YJ01", "便利店", "拱墅区{brand}{x}", "{brand}{x}", ("便利店", "便利", "烟酒便利店"), "92"),
        ("YJ02", "服装鞋帽店", "拱墅区{brand}{x}", "{brand}{x}", ("服饰", "女装", "童装", "鞋店"), "92"),
        ("YJ03", "美容美发店", "拱墅区{brand}{x}", "{brand}{x}", ("美发", "美容院", "理发店", "美甲"), "92"),
        ("YJ04", "五金建材店", "拱墅区{brand}{x}", "{brand}{x}", ("五金店", "建材商行", "水电五金"), "92"),
        ("YJ05", "水果生鲜店", "拱墅区{brand}{x}", "{brand}{x}", ("水果店", "生鲜", "果蔬"), "92"),
    )),
    ("YL", "娱乐场所", 4, (
        ("YL01", "歌舞娱乐场所", "杭州{brand}娱乐有限公司", "{brand}{x}", ("KTV", "量贩KTV"), "91"),
        ("YL02", "网吧", "杭州{brand}网络科技有限公司", "{brand}{x}", ("网咖", "网吧"), "91"),
        ("YL03", "棋牌室", "拱墅区{brand}{x}", "{brand}{x}", ("棋牌室", "茶室"), "92"),
        ("YL04", "游艺娱乐场所", "杭州{brand}文化娱乐有限公司", "{brand}{x}", ("电玩城", "游艺厅"), "91"),
    )),
    ("BG", "宾馆酒店", 4, (
        ("BG01", "星级酒店", "杭州{brand}酒店有限公司", "{brand}{x}", ("大酒店", "国际酒店"), "91"),
        ("BG02", "快捷酒店", "杭州{brand}酒店管理有限公司", "{brand}{x}", ("快捷酒店", "精选酒店", "商务宾馆"), "91"),
        ("BG03", "民宿旅馆", "拱墅区{brand}{x}", "{brand}{x}", ("民宿", "客栈", "旅馆"), "92"),
    )),
    ("JY", "加油站/燃气站点", 1.5, (
        ("JY01", "加油站", "中国石化销售股份有限公司浙江杭州{place}加油站", "中国石化{place}{x}", ("加油站",), "91"),
        ("JY02", "液化气供应站", "杭州{brand}燃气有限公司{place}供应站", "{brand}{x}", ("燃气", "液化气"), "91"),
        ("JY03", "瓶装燃气供应点", "杭州{brand}燃气有限公司{place}{x}", "{brand}燃气", ("供应点", "便民服务点"), "91"),
    )),
    ("CZ", "出租房屋", 6, (
        ("CZ01", "群租房", "{road}{no}号{x}", "", ("出租房", "群租房"), None),
        ("CZ02", "单元出租房", "{place}{x}", "", ("小区出租房", "新村出租房"), None),
        ("CZ03", "集中式公寓", "杭州{brand}公寓管理有限公司", "{brand}{x}", ("公寓", "青年公寓", "人才公寓"), "91"),
    )),
    ("QX", "汽修洗车", 5, (
        ("QX01", "汽车维修", "拱墅区{brand}{x}", "{brand}{x}", ("汽车维修部", "汽修厂", "汽车服务中心"), "92"),
        ("QX02", "洗车美容", "拱墅区{brand}{x}", "{brand}{x}", ("洗车行", "汽车美容店"), "92"),
        ("QX03", "电动车维修", "拱墅区{brand}{x}", "{brand}{x}", ("电动车维修", "电动车行"), "92"),
    )),
    ("XX", "学校周边", 3, (
        ("XX01", "中小学", "杭州市{place}{x}", "杭州市{place}{x}", ("小学", "中学", "实验学校"), "12"),
        ("XX02", "幼儿园", "杭州市拱墅区{place}{x}", "{place}{x}", ("幼儿园", "实验幼儿园"), "52"),
        ("XX03", "校外培训机构", "杭州拱墅区{brand}{x}", "{brand}教育", ("培训学校", "艺术培训学校", "体育培训中心"), "52"),
    )),
    ("YY", "医疗机构", 4, (
        ("YY01", "医院", "杭州{brand}{x}", "{brand}{x}", ("医院", "中医医院", "口腔医院"), "91"),
        ("YY02", "诊所", "杭州拱墅{brand}{x}", "{brand}{x}", ("中医诊所", "口腔诊所", "内科诊所"), "92"),
        ("YY03", "药店", "杭州{brand}大药房有限公司{place}店", "{brand}{x}", ("大药房", "药店"), "91"),
    )),
    ("WL", "物流仓储", 4, (
        ("WL01", "快递网点", "杭州{brand}快递有限公司{place}营业部", "{brand}{x}", ("快递", "速递"), "91"),
        ("WL02", "仓储库房", "杭州{brand}仓储有限公司", "{brand}{x}", ("仓库", "冷链仓储"), "91"),
        ("WL03", "物流园区", "杭州{brand}物流有限公司", "{brand}{x}", ("物流园", "物流中心"), "91"),
    )),
    ("WH", "文化市场", 2, (
        ("WH01", "书店音像", "拱墅区{brand}{x}", "{brand}{x}", ("书店", "书屋", "音像店"), "92"),
        ("WH02", "印刷企业", "杭州{brand}印刷有限公司", "{brand}{x}", ("印刷", "彩印"), "91"),
        ("WH03", "演出场所", "杭州{brand}文化传媒有限公司", "{brand}{x}", ("剧场", "演艺中心", "Livehouse"), "91"),
    )),
    ("QT", "其他", 3, (
        ("QT01", "废品回收站", "拱墅区{brand}{x}", "{brand}{x}", ("废品回收站", "再生资源回收站"), "92"),
        ("QT02", "户外广告设施", "杭州{brand}广告有限公司", "{brand}{x}", ("广告", "户外传媒"), "91"),
        ("QT03", "其他经营主体", "拱墅区{brand}{x}", "{brand}{x}", ("商行", "经营部", "工作室"), "92"),
    )),
)
CONSTRUCTION_MAJOR = "JS"

TAGS = ("重点监管", "夜间经营", "临街", "油烟排放", "消防重点", "扬尘管控", "食品安全", "燃气使用")
# Per major category: (tag, probability). Everything else: 重点监管 5%, 临街 10%.
_TAG_RULES = {
    "CY": (("临街", 0.8), ("油烟排放", 0.6), ("食品安全", 0.6), ("燃气使用", 0.5), ("夜间经营", 0.25)),
    "JS": (("扬尘管控", 0.9), ("重点监管", 0.5)),
    "SY": (("消防重点", 0.6), ("食品安全", 0.3)),
    "NM": (("食品安全", 0.7), ("重点监管", 0.4)),
    "YJ": (("临街", 0.85),),
    "YL": (("夜间经营", 0.8), ("消防重点", 0.5), ("重点监管", 0.4)),
    "BG": (("消防重点", 0.5),),
    "JY": (("重点监管", 0.8), ("消防重点", 0.7), ("燃气使用", 0.6)),
    "CZ": (("消防重点", 0.5), ("重点监管", 0.2)),
    "WL": (("消防重点", 0.5),),
    "XX": (("食品安全", 0.3),),
}
_NIGHT_SUBS = {"CY03": 0.8, "CY04": 0.7}

# Subjects per street: 拱宸桥 is the seed's figure; others get OTHER_STREET_SUBJECTS × scale.
STREET_SUBJECTS = {"拱宸桥街道": 1589}
OTHER_STREET_SUBJECTS = 400
# Streets whose construction sites are counted exactly (the seeds: 东新 62 sites).
STREET_CONSTRUCTION_SITES = {"东新街道": 62}
CLOSED_SHARE = 0.03
NO_LICENCE_SHARE = 0.05  # some businesses have no licence number on file

# 拱墅 roads; each street takes a slice.
ROADS = (
    "莫干山路", "湖州街", "丽水路", "登云路", "上塘路", "东新路", "石桥路", "香积寺路", "德胜路", "文一路",
    "大关路", "金华路", "沈半路", "半山路", "康桥路", "长乐路", "和睦路", "小河路", "舟山东路", "台州路",
    "温州路", "湖墅南路", "红石板路", "杭行路", "拱康路", "绍兴路", "新天地街", "永华街", "重工路", "北秀街",
    "瓜山路", "祥园路", "通益路", "古运路", "东文路", "学院北路", "萍水街", "花园岗街", "沈家路", "皋亭坝路",
    "储鑫路", "华中路", "白石路", "留祥路", "永佳路", "隐秀路", "中亚路", "宸北路", "顺帆路", "运河东路",
)
_BRAND_A = "鑫宏福聚百鸿和金悦顺永新祥嘉瑞天恒华兴德乐好万佳红青东星明富安康泰隆盛昌达丰茂汇鼎信诚"
_BRAND_B = "源达满福味运记桥来发盛华和禾丰成信美隆润家佳叶方河品鼎顺利祥宝兴旺泰康晟辉阳远城"
_PLACE_EXTRA = (
    "运河", "大关", "半山", "祥符", "康桥", "上塘", "东新", "翠苑", "古荡", "文新", "石桥", "登云", "卖鱼桥",
    "拱宸", "湖墅", "米市", "潮王", "蔡马", "勾庄", "杭钢", "塘河", "桃源", "丁桥", "长浜", "华丰",
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严戴莫孔汤"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚英华慧建国志红玉兰海峰晨浩宇欣怡涵轩俊婷琪斌鹏飞波辉琳雪梅萍燕鑫晶凯"
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "198", "199",
)
# Unified social credit code (GB 32100-2015): 31-character alphabet and check-character weights.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Duty statuses of the generated officers: mostly available during the demo.
_DUTY_WEIGHTS = (
    (DutyStatus.AVAILABLE, 65), (DutyStatus.BUSY, 8), (DutyStatus.EN_ROUTE, 6), (DutyStatus.ON_SCENE, 6),
    (DutyStatus.ON_BREAK, 5), (DutyStatus.OFF_DUTY, 10),
)
# 青山湖 (the seeds: 38 resident officers from 7 departments; 1 captain, 7 deputies).
_QSH_DEPT_COUNTS = (("ZHZF", 12), ("SCJG", 8), ("STHJ", 4), ("ZRZY", 4), ("YJGL", 4), ("JT", 3), ("WJ", 3))
_QSH_RANKS = (Rank.CAPTAIN,) + (Rank.DEPUTY_CAPTAIN,) * 7 + (Rank.SQUAD_LEADER,) * 6 + (Rank.MEMBER,) * 24


def _write(stdout, msg):
    if stdout is not None:
        stdout.write(msg)


# --- Random data helpers (all take the caller's Random, so streams stay independent) --------------

def person_name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


def uscc(prefix: str, rng: random.Random) -> str:
    """An 18-character unified social credit code with a correct check character."""
    body = prefix + DISTRICT_CODE + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


# --- The plan ---------------------------------------------------------------------------------------

@dataclass
class Plan:
    seed: int
    scale: int
    geo: dict  # grids.demo_geometry.build_district output
    subjects: list = field(default_factory=list)   # dicts, see _plan_subjects
    officers: list = field(default_factory=list)   # dicts, see _plan_officers

    def street_code(self, name: str) -> str:
        return next(s["code"] for s in self.geo["streets"] if s["name"] == name)


def build_plan(seed: int = DEFAULT_SEED, *, scale: int = 1) -> Plan:
    """Every row of the demo, as plain data. Pure: the same seed gives an equal plan."""
    geo = build_district(seed, scale=scale)
    plan = Plan(seed=seed, scale=scale, geo=geo)
    plan.subjects = _plan_subjects(plan)
    plan.officers = _plan_officers(plan)
    return plan


def _sub_categories():
    """[(major code, weight, sub template)] in catalog order."""
    return [(major, weight, sub) for major, _name, weight, subs in CATEGORIES for sub in subs]


def _plan_subjects(plan: Plan) -> list[dict]:
    rng = random.Random(f"{plan.seed}:subjects")
    geo = plan.geo
    grids_by_street: dict[str, list[dict]] = {}
    for g in geo["grids"]:
        grids_by_street.setdefault(g["code"][:9], []).append(g)
    places = [c["name"].removesuffix("社区") for c in geo["communities"]] + list(_PLACE_EXTRA)
    subs = _sub_categories()
    non_site = [s for s in subs if s[0] != CONSTRUCTION_MAJOR]
    sites = [s for s in subs if s[0] == CONSTRUCTION_MAJOR]
    used_names: set[str] = set()
    used_licences: set[str] = set()
    out = []
    road_pool = list(ROADS)
    rng.shuffle(road_pool)
    per_street_roads = max(6, len(road_pool) // len(geo["streets"]))

    for k, street in enumerate(geo["streets"]):
        name = street["name"]
        total = STREET_SUBJECTS.get(name, OTHER_STREET_SUBJECTS * plan.scale)
        n_sites = STREET_CONSTRUCTION_SITES.get(name)
        roads = [road_pool[(k * per_street_roads + i) % len(road_pool)] for i in range(per_street_roads)]
        chosen = []
        if n_sites is not None:
            chosen += [rng.choice(sites) for _ in range(n_sites)]
            pool = non_site
        else:
            # Every sub-category at least once in the big street (17 major / 57 sub-categories).
            chosen += list(subs) if total >= len(subs) else []
            pool = subs
        weights = [w / sum(1 for s in pool if s[0] == m) for m, w, _ in pool]
        chosen += rng.choices(pool, weights=weights, k=total - len(chosen))
        rng.shuffle(chosen)
        street_grids = grids_by_street[street["code"]]
        for major, _w, sub in chosen:
            grid = rng.choice(street_grids)
            lat, lng = random_point_in(grid["boundary"], rng)
            out.append(_plan_subject(rng, major, sub, grid["code"], lat, lng, places, roads, used_names, used_licences))
    return out


def _plan_subject(rng, major, sub, grid_code, lat, lng, places, roads, used_names, used_licences) -> dict:
    code, _name, name_pat, sign_pat, suffixes, licence_kind = sub
    for attempt in range(20):
        values = {
            "brand": rng.choice(_BRAND_A) + rng.choice(_BRAND_B), "place": rng.choice(places),
            "road": rng.choice(roads), "x": rng.choice(suffixes), "no": rng.randint(1, 999),
            "plot": f"GS{rng.randint(1, 12):02d}{rng.randint(1, 20):02d}-R{rng.randint(11, 29)}-{rng.randint(1, 30):02d}",
        }
        name = name_pat.format(**values)
        if name not in used_names:
            break
    else:  # a branch of an existing business
        name = f"{name}（{values['road']}分店）"
    used_names.add(name)
    licence = None
    if licence_kind and rng.random() >= NO_LICENCE_SHARE:
        licence = uscc(licence_kind, rng)
        while licence in used_licences:
            licence = uscc(licence_kind, rng)
        used_licences.add(licence)
    road = values["road"] if "{road}" in name_pat else rng.choice(roads)
    number = values["no"] if "{no}" in name_pat else rng.randint(1, 999)
    address = f"拱墅区{road}{number}号"
    if rng.random() < 0.15:
        address += f"{rng.randint(1, 3)}0{rng.randint(1, 9)}室"
    tags = [t for t, p in _TAG_RULES.get(major, (("重点监管", 0.05), ("临街", 0.1))) if rng.random() < p]
    if code in _NIGHT_SUBS and "夜间经营" not in tags and rng.random() < _NIGHT_SUBS[code]:
        tags.append("夜间经营")
    return {
        "name": name[:200],
        "category": code,
        "legal_representative": person_name(rng),
        "contact_phone": mobile(rng),
        "licence_no": licence,
        "shop_sign": sign_pat.format(**values)[:200],
        "address": address,
        "lat": lat,
        "lng": lng,
        "grid": grid_code,
        "status": SubjectStatus.CLOSED if rng.random() < CLOSED_SHARE else SubjectStatus.ACTIVE,
        "tags": sorted(tags, key=TAGS.index),
    }


def _plan_officers(plan: Plan) -> list[dict]:
    rng = random.Random(f"{plan.seed}:officers")
    out = []
    used_names: set[str] = set()
    for k, street in enumerate(plan.geo["streets"], start=1):
        if street["name"] == OFFICER_DEMO_STREET:
            ranks = list(_QSH_RANKS)
            depts = [d for d, n in _QSH_DEPT_COUNTS for _ in range(n)]
            # Leaders come from the comprehensive bureau first; the rest is mixed.
            depts = depts[:1] + rng.sample(depts[1:], len(depts) - 1)
        else:
            n = rng.randint(20, 40)
            deputies, leaders = rng.randint(2, 4), rng.randint(3, 5)
            ranks = [Rank.CAPTAIN] + [Rank.DEPUTY_CAPTAIN] * deputies + [Rank.SQUAD_LEADER] * leaders
            ranks += [Rank.MEMBER] * (n - len(ranks))
            seven = ["ZHZF"] + rng.sample([d for d in ENFORCEMENT_DEPTS if d != "ZHZF"], 6)
            rest = rng.choices(ENFORCEMENT_DEPTS, weights=[4 if d == "ZHZF" else 1 for d in ENFORCEMENT_DEPTS],
                               k=n - len(seven))
            tail = seven[1:] + rest
            rng.shuffle(tail)
            depts = seven[:1] + tail
        street_no = street["code"][-3:]
        demo_slot = ranks.index(Rank.SQUAD_LEADER) if street["name"] == OFFICER_DEMO_STREET else None
        for i, (rank, dept) in enumerate(zip(ranks, depts), start=1):
            name = person_name(rng)
            while name in used_names:
                name = person_name(rng)
            used_names.add(name)
            skills = [dept] + (["ZHZF"] if dept != "ZHZF" else [])
            if rng.random() < 0.3:
                extra = rng.choice(ENFORCEMENT_DEPTS)
                if extra not in skills:
                    skills.append(extra)
            is_demo = demo_slot is not None and i == demo_slot + 1
            if rank >= Rank.SQUAD_LEADER or is_demo:
                duty = DutyStatus.AVAILABLE
            else:
                duty = rng.choices([d for d, _ in _DUTY_WEIGHTS], weights=[w for _, w in _DUTY_WEIGHTS])[0]
            lat, lng = random_point_in(street["boundary"], rng)
            age = rng.randint(3 * 3600, 14 * 3600) if duty == DutyStatus.OFF_DUTY else rng.randint(5, 600)
            out.append({
                "street": street["code"],
                "username": "officer_demo" if is_demo else f"officer_{street_no}_{i:03d}",
                "name": name,
                "badge_no": f"3301{street_no}{i:04d}",
                "home_department": dept,
                "seconded": dept != "ZHZF",  # seconded (下沉) from a specialist department
                "rank": int(rank),
                "skills": skills,
                "phone": mobile(rng),
                "duty_status": str(duty),
                "lat": lat, "lng": lng,
                "accuracy": round(rng.uniform(3, 30), 1),
                "heading": float(rng.randrange(360)),
                "age_seconds": age,
            })
    return out


# --- Writing ----------------------------------------------------------------------------------------

def _write_areas(geo: dict) -> dict[str, Area]:
    """Bulk-insert the tree level by level, validating each boundary; then set every path in one pass."""
    by_code: dict[str, Area] = {}
    levels = (
        ("district", [geo["district"]]), ("streets", geo["streets"]), ("communities", geo["communities"]),
        ("grids", geo["grids"]), ("micro_grids", geo["micro_grids"]), ("zones", geo["zones"]),
    )
    geoms = {}
    for _label, specs in levels:
        rows = []
        for spec in specs:
            parent = by_code.get(spec["parent_code"]) if spec["parent_code"] else None
            # Same checks as the create_area service (kind/parent, valid and closed boundary, inside its
            # parent), minus the per-row insert.
            geom = services.validate_area(
                kind=spec["kind"], parent=parent, boundary=spec["boundary"], tier=spec.get("tier", ""),
                parent_geom=geoms.get(spec["parent_code"]),
            )
            if spec["kind"] != AreaKind.MICRO_GRID:
                geoms[spec["code"]] = geom
            area = Area(code=spec["code"], name=spec["name"], kind=spec["kind"], parent=parent,
                        tier=spec.get("tier", ""), boundary=spec["boundary"], **geometry.bbox(geom))
            rows.append(area)
        Area.objects.bulk_create(rows, batch_size=500)
        for area in rows:
            parent = by_code.get(area.parent.code) if area.parent_id else None
            area.path = (parent.path if parent else "/") + f"{area.pk}/"
            by_code[area.code] = area
    Area.objects.bulk_update(list(by_code.values()), ["path"], batch_size=500)
    for zone_spec in geo["zones"]:
        Area.objects.filter(code__in=zone_spec["grid_codes"]).update(zone=by_code[zone_spec["code"]])
    return by_code


def _write_categories() -> dict[str, SubjectCategory]:
    out = {}
    for code, name, _weight, subs in CATEGORIES:
        major, _ = SubjectCategory.objects.update_or_create(code=code, defaults={"name": name, "parent": None})
        out[code] = major
        for sub in subs:
            out[sub[0]], _ = SubjectCategory.objects.update_or_create(
                code=sub[0], defaults={"name": sub[1], "parent": major})
    return out


def _write_departments() -> dict[str, Department]:
    out = {}
    for code, name, short, kind in DEPARTMENTS:
        out[code], _ = Department.objects.update_or_create(
            code=code, defaults={"name": name, "short_name": short, "kind": kind})
    return out


def _write_subjects(plan: Plan, areas, categories) -> list[Subject]:
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    rows = [
        Subject(
            name=s["name"], category=categories[s["category"]], legal_representative=s["legal_representative"],
            contact_phone=s["contact_phone"], licence_no=s["licence_no"], shop_sign=s["shop_sign"],
            address=s["address"], lat=s["lat"], lng=s["lng"], grid=areas[s["grid"]], status=s["status"],
        )
        for s in plan.subjects
    ]
    Subject.objects.bulk_create(rows, batch_size=500)
    through = Subject.tags.through
    links = [
        through(subject_id=row.pk, tag_id=tags[t].pk) for row, s in zip(rows, plan.subjects) for t in s["tags"]
    ]
    through.objects.bulk_create(links, batch_size=1000)
    return rows


def _write_officers(plan: Plan, areas, departments, password_hash: str, demo_users: dict) -> tuple[dict, list]:
    User = get_user_model()
    teams = {}
    for street in plan.geo["streets"]:
        teams[street["code"]], _ = Team.objects.update_or_create(
            code=f"TEAM-{street['code']}",
            defaults={"name": f"{street['name']}综合行政执法队", "street": areas[street["code"]]},
        )
    new_users = [
        User(username=o["username"], first_name=o["name"], password=password_hash)
        for o in plan.officers if o["username"] not in demo_users
    ]
    User.objects.bulk_create(new_users, batch_size=500)
    users = {u.username: u for u in new_users} | demo_users
    group, _ = Group.objects.get_or_create(name=OFFICER)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=group.pk) for u in new_users], batch_size=1000)
    by_username = {o["username"]: o for o in plan.officers}
    AreaMembership.objects.bulk_create(
        [AreaMembership(user=u, area=areas[by_username[u.username]["street"]]) for u in new_users], batch_size=1000)

    now = timezone.now().replace(microsecond=0)
    officers = []
    for o in plan.officers:
        at = now - timedelta(seconds=o["age_seconds"])
        officers.append(Officer(
            user=users[o["username"]], name=o["name"], badge_no=o["badge_no"], team=teams[o["street"]],
            home_department=departments[o["home_department"]], seconded=o["seconded"], rank=o["rank"],
            phone=o["phone"], duty_status=o["duty_status"], last_lat=o["lat"], last_lng=o["lng"],
            last_accuracy=o["accuracy"], last_heading=o["heading"], last_position_at=at,
        ))
    Officer.objects.bulk_create(officers, batch_size=500)
    through = Officer.skill_departments.through
    through.objects.bulk_create([
        through(officer_id=row.pk, department_id=departments[d].pk)
        for row, o in zip(officers, plan.officers) for d in o["skills"]
    ], batch_size=1000)
    OfficerPosition.objects.bulk_create([
        OfficerPosition(officer=row, lat=row.last_lat, lng=row.last_lng, accuracy=row.last_accuracy,
                        heading=row.last_heading, recorded_at=row.last_position_at, source="demo")
        for row in officers
    ], batch_size=500)
    return teams, officers


def grant_bureau_admin_permissions() -> int:
    """Bureau staff configure through /admin/: give their group the model permissions of the business apps."""
    group, _ = Group.objects.get_or_create(name=BUREAU_STAFF)
    perms = Permission.objects.filter(
        content_type__app_label__in=("grids", "enforcement", "credit", "command_center")
    ).exclude(codename__in=("delete_area", "delete_subject"))
    perms = list(perms) + list(Permission.objects.filter(content_type__app_label="core", codename="view_auditlog"))
    group.permissions.add(*perms)
    return len(perms)


def _write_demo_users(plan: Plan, areas, password_hash: str) -> dict:
    User = get_user_model()
    out = {}
    officer_rows = {o["username"]: o for o in plan.officers}
    for username, role, area, display in DEMO_USERS:
        code = DISTRICT_CODE if area == DISTRICT else plan.street_code(area)
        if username in officer_rows:
            display = display or officer_rows[username]["name"]
        user, _ = accounts.add_user(None, username=username, role=role, area_codes=[code], display_name=display)
        out[username] = user
    # One hash for all of them (hashing is deliberately slow); add_user left them without a usable password.
    User.objects.filter(username__in=DEMO_USERNAMES).update(password=password_hash)
    return out


@transaction.atomic
def load(seed: int = DEFAULT_SEED, *, scale: int = 1, stdout=None, results=None, large: bool = False) -> dict:
    """Create the demo district. Refuses (Conflict) when the demo district is already there.

    `results` (the earlier loaders' counts) is unused here; `large` means scale=10 unless a scale is given.
    """
    if large and scale == 1:
        scale = 10
    if Area.objects.filter(code=DISTRICT_CODE).exists():
        raise Conflict(f"演示区（{DISTRICT_CODE}）已存在：请在空数据库中加载演示数据。")
    _write(stdout, f"演示数据：种子 {seed}，规模 ×{scale} …")
    plan = build_plan(seed, scale=scale)
    areas = _write_areas(plan.geo)
    categories = _write_categories()
    departments = _write_departments()
    subjects = _write_subjects(plan, areas, categories)
    password_hash = make_password(DEMO_PASSWORD)
    demo_users = _write_demo_users(plan, areas, password_hash)
    officer_demo = {"officer_demo": demo_users["officer_demo"]}
    teams, officers = _write_officers(plan, areas, departments, password_hash, officer_demo)
    n_perms = grant_bureau_admin_permissions()
    spatial.note_change()  # bulk inserts send no post_save: tell the spatial indexes ourselves

    kinds = Counter(a.kind for a in areas.values())
    street_names = {s["code"]: s["name"] for s in plan.geo["streets"]}
    per_street = Counter(street_names[s["grid"][:9]] for s in plan.subjects)
    sites = Counter(street_names[s["grid"][:9]] for s in plan.subjects if s["category"].startswith(CONSTRUCTION_MAJOR))
    counts = {
        "seed": seed,
        "scale": scale,
        "areas": len(areas),
        **{f"areas_{k}": kinds[k] for k in AreaKind.values},
        "categories_major": len(CATEGORIES),
        "categories_sub": sum(len(c[3]) for c in CATEGORIES),
        "subjects": len(subjects),
        "subjects_by_street": dict(per_street),
        "construction_sites_by_street": dict(sites),
        "departments": len(departments),
        "teams": len(teams),
        "officers": len(officers),
        "officer_departments": len({o["home_department"] for o in plan.officers}),
        "demo_users": len(demo_users),
        "bureau_permissions": n_perms,
    }
    audit.record(None, "demo.loaded", None, object_type="demo", object_id=str(seed), object_repr="演示数据",
                 changes={k: [None, v] for k, v in counts.items() if isinstance(v, int)})
    _write(stdout, (
        f"  区域 {counts['areas']}（镇街 {kinds['street']}，村社 {kinds['community']}，网格 {kinds['grid']}，"
        f"微网格 {kinds['micro_grid']}，防区 {kinds['zone']}）；管理对象 {counts['subjects']}；"
        f"执法队 {counts['teams']}；队员 {counts['officers']}（{counts['officer_departments']} 个部门）"
    ))
    return counts


def sample_digest(subjects) -> str:
    """A short fingerprint of subjects' names and licence numbers, for determinism checks."""
    import hashlib

    text = "\n".join(f"{s['name']}|{s['licence_no'] or ''}|{s['lat']:.6f},{s['lng']:.6f}" for s in subjects)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
