"""Demo data of the exchange's catalog: resources of several departments with their rows, the
information systems and data demands inventories, requests in every state, and the standing
grants the platform's forms and rules fetch facts under.

``build`` is idempotent: a resource that exists is left as it is (another builder may have made
a base resource first, see ``basedata``) and only rows whose key is missing are added; requests
and grants are made once. Everything goes through ``services`` as the departments' data stewards
would do it, so the audit log holds the demo's story. The demo people of the population base
data are identity's demo people, with the same identity numbers, so real-name checks match.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.exchange import basedata, services
from yiwang.exchange import rows as rowstore
from yiwang.exchange.models import (
    AccessRequest,
    DataDemand,
    DataResource,
    Grant,
    InformationSystem,
    ResourceRow,
)
from yiwang.identity import demo as identity_demo
from yiwang.identity import services as identity_services
from yiwang.identity.models import Department, Official, Role, User
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

DEMO_ACTOR = "system:demo"
X = "610100-SCJG"  # the demo's department X (西安市市场监督管理局)
DATA_OFFICE = "610000-SJJ"  # the platform's own data office (陕西省数据和政务服务局)

# The providers' data stewards: (username, name, department). ``gatsteward`` is in the README;
# ``steward`` (the data office's) is identity's demo account.
STEWARDS = [
    ("gatsteward", "马数据", "610000-GAT"),
    ("scjgsteward", "林数据", "610000-SCJG"),
    ("rststeward", "何数据", "610000-RST"),
    ("jttsteward", "高数据", "610000-JTT"),
    ("sthjsteward", "罗数据", "610000-STHJ"),
    ("mztsteward", "梁数据", "610000-MZT"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "杰", "军", "勇", "涛", "明", "超", "霞"]
COUNTIES = ["610102", "610103", "610104", "610113"]


def _f(name, zh, en, type_="string", grade=1, personal=""):
    return {"name": name, "label_zh": zh, "label_en": en, "type": type_, "grade": grade, "personal": personal}


def _base_fields(code: str) -> list[dict]:
    return [_f(*spec) for spec in basedata.BASE_RESOURCES[code]["fields"]]


# --- the people and enterprises of the base data ----------------------------------------------


def population_records(extra: int) -> list[dict]:
    """identity's demo people (its one definition of their register records) and ``extra`` more
    fake residents."""
    records = identity_demo.register_records()[0]
    for i in range(extra):
        county = COUNTIES[i % len(COUNTIES)]
        birth = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
        seq = 100 + i % 900
        records.append(
            {
                "id_number": make_id_number(county, birth, seq),
                "name": SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)],
                "gender": "男" if seq % 2 else "女",
                "birth_date": birth.isoformat(),
                "household_region": county,
                "household_address": f"西安市演示街道{i % 80 + 1}号",
                "residence_region": county,
                "residence_since": dt.date(1990 + i % 34, 1 + i % 12, 1).isoformat(),
                "phone": f"139{10000000 + i:08d}",
            }
        )
    return records


def legal_entity_records() -> list[dict]:
    """identity's demo enterprises (its one definition of them) and a few more."""
    records = identity_demo.register_records()[1]
    shops = [
        "演示面馆",
        "演示药房",
        "演示书店",
        "演示花店",
        "演示超市",
        "演示茶社",
        "演示文具店",
        "演示烘焙坊",
    ]
    for i, shop in enumerate(shops):
        region = "610100" if i % 2 == 0 else "610300"
        rep_birth = dt.date(1975 + i, 3, 1 + i)
        records.append(
            {
                "credit_code": make_credit_code(region, 20260100 + i),
                "name": f"{'西安' if region == '610100' else '宝鸡'}{shop}有限公司",
                "legal_representative": SURNAMES[i] + GIVEN[i],
                "representative_id_number": make_id_number("610113", rep_birth, 400 + i),
                "region_code": region,
                "address": f"{'西安市碑林区' if region == '610100' else '宝鸡市渭滨区'}演示路{10 + i}号",
                "established_on": dt.date(2015 + i % 9, 1 + i, 10).isoformat(),
                "status": "存续" if i != 5 else "注销",
            }
        )
    return records


def insurance_records() -> list[dict]:
    out = []
    for n, r in enumerate(population_records(0)):
        insured = r["name"] not in {"孙小明"}
        out.append(
            {
                "id_number": r["id_number"],
                "insured": insured,
                "insurance_kind": "城镇职工基本养老保险" if insured else "",
                "insured_since": "2012-07-01" if insured else None,
                "last_paid_month": "2026-10" if insured and n != 3 else ("2019-12" if insured else ""),
            }
        )
    return out


# --- the catalog -------------------------------------------------------------------------------


def _common(code, name, kind, share, freq, **more):
    data = {
        "code": code,
        "name": name,
        "kind": kind,
        "share_class": share,
        "update_frequency": freq,
        "source_kind": "table",
        "open_class": "none",
    }
    data.update(more)
    return data


def resource_specs(scale: str) -> list[dict]:
    """(provider, data, fields, rows, published, system code) of every demo resource."""
    extra = {"small": 8, "normal": 60}.get(scale, 60)
    stations = [
        ("雁塔区演示派出所", "610113", "029-85200110"),
        ("新城区演示派出所", "610102", "029-87200110"),
        ("碑林区演示派出所", "610103", "029-87600110"),
        ("莲湖区演示派出所", "610104", "029-87300110"),
    ]
    lines = [
        ("600", "火车站", "电子城", 28, "06:00", "22:30"),
        ("609", "钟楼", "大雁塔", 19, "06:30", "23:00"),
        ("K5", "西安站", "华清池", 35, "07:00", "19:00"),
        ("14", "北客站", "钟楼", 24, "06:00", "22:00"),
        ("321", "小寨", "曲江池", 16, "06:30", "21:30"),
        ("游8", "钟楼", "法门寺", 12, "08:00", "17:00"),
    ]
    days = 30 if scale == "small" else 120
    today = timezone.localdate()
    air = []
    for d in range(days):
        for site, base in (("高新西区", 62), ("小寨", 75), ("市人民体育场", 70)):
            aqi = base + (d * 7 + len(site) * 5) % 60
            air.append(
                {
                    "date": (today - dt.timedelta(days=d + 1)).isoformat(),
                    "site": site,
                    "aqi": aqi,
                    "pm25": round(aqi * 0.52, 1),
                    "level": "优" if aqi <= 50 else "良" if aqi <= 100 else "轻度污染",
                    "primary_pollutant": "PM2.5" if aqi > 50 else "",
                }
            )
    entities = legal_entity_records()
    pop = basedata.BASE_RESOURCES[basedata.POPULATION]
    ent = basedata.BASE_RESOURCES[basedata.LEGAL_ENTITY]
    ins = basedata.BASE_RESOURCES[basedata.SOCIAL_INSURANCE]
    return [
        {
            "provider": "610000-GAT",
            "system": "610000-GAT-RK01",
            "data": _common(
                basedata.POPULATION,
                pop["name"],
                "basic",
                "conditional",
                "daily",
                key_field=pop["key_field"],
                description="全省常住人口与户籍人口的基础信息，供政务服务身份核验与事项办理。",
                share_conditions=basedata.SHARING[basedata.POPULATION][1],
                themes=["人口"],
                tags=["身份", "户籍"],
            ),
            "fields": _base_fields(basedata.POPULATION),
            "rows": population_records(extra),
        },
        {
            "provider": "610000-GAT",
            "system": "610000-GAT-CRJ01",
            "data": _common(
                "C01002",
                "出入境证件办理信息",
                "department",
                "conditional",
                "realtime",
                source_kind="http",
                upstream_url="https://gat.example.org/exchange/exit-entry",
                upstream_timeout_ms=2000,
                key_field="id_number",
                share_conditions="仅限因公出国（境）审批与涉外事项办理。",
            ),
            "fields": [
                _f("id_number", "公民身份号码", "Identity number", grade=3, personal="id_number"),
                _f("document_kind", "证件类型", "Kind of document", grade=2),
                _f("document_state", "证件状态", "State of the document", grade=2),
                _f("valid_until", "有效期至", "Valid until", "date", 2),
            ],
            "rows": None,
        },
        {
            "provider": "610000-GAT",
            "system": "610000-GAT-RK01",
            "data": _common(
                "C01003",
                "户籍派出所名录",
                "department",
                "unconditional",
                "monthly",
                open_class="unconditional",
                key_field="station",
                themes=["公共安全"],
            ),
            "fields": [
                _f("station", "派出所名称", "Police station"),
                _f("region_code", "所在行政区划代码", "Division code"),
                _f("phone", "户籍窗口电话", "Registration desk phone"),
            ],
            "rows": [{"station": s, "region_code": r, "phone": p} for s, r, p in stations],
        },
        {
            "provider": "610000-SCJG",
            "system": "610000-SCJG-DJ01",
            "data": _common(
                basedata.LEGAL_ENTITY,
                ent["name"],
                "basic",
                "conditional",
                "daily",
                key_field=ent["key_field"],
                description="市场主体登记的法人单位基础信息。",
                share_conditions=basedata.SHARING[basedata.LEGAL_ENTITY][1],
                themes=["法人"],
            ),
            "fields": _base_fields(basedata.LEGAL_ENTITY),
            "rows": entities,
        },
        {
            "provider": "610000-SCJG",
            "system": "610000-SCJG-DJ01",
            "data": _common(
                "C02002",
                "营业执照信息",
                "department",
                "unconditional",
                "daily",
                key_field="credit_code",
                themes=["市场监管"],
                tags=["营业执照"],
            ),
            "fields": [
                _f("credit_code", "统一社会信用代码", "Unified social credit code"),
                _f("name", "名称", "Name"),
                _f("business_scope", "经营范围", "Business scope"),
                _f("valid_from", "营业期限自", "In business from", "date"),
                _f("legal_representative", "法定代表人", "Legal representative", grade=2, personal="name"),
            ],
            "rows": [
                {
                    "credit_code": e["credit_code"],
                    "name": e["name"],
                    "business_scope": "餐饮服务；食品销售",
                    "valid_from": e["established_on"],
                    "legal_representative": e["legal_representative"],
                }
                for e in entities
            ],
        },
        {
            "provider": "610000-SCJG",
            "system": "610000-SCJG-SP01",
            "data": _common(
                "C02003",
                "食品经营许可信息",
                "department",
                "unconditional",
                "daily",
                key_field="licence_no",
                open_class="conditional",
                open_conditions="用于食品安全社会共治，申请后开放。",
                themes=["市场监管"],
            ),
            "fields": [
                _f("licence_no", "许可证编号", "Licence number"),
                _f("credit_code", "统一社会信用代码", "Unified social credit code"),
                _f("operator", "经营者名称", "Operator"),
                _f("category", "主体业态", "Category"),
                _f("valid_until", "有效期至", "Valid until", "date"),
            ],
            "rows": [
                {
                    "licence_no": f"JY1610113{20260000 + i:08d}",
                    "credit_code": e["credit_code"],
                    "operator": e["name"],
                    "category": "餐饮服务经营者",
                    "valid_until": "2031-06-30",
                }
                for i, e in enumerate(entities[:6])
            ],
        },
        {
            "provider": "610000-RST",
            "system": "610000-RST-SB01",
            "data": _common(
                basedata.SOCIAL_INSURANCE,
                ins["name"],
                "department",
                "conditional",
                "monthly",
                key_field=ins["key_field"],
                share_conditions=basedata.SHARING[basedata.SOCIAL_INSURANCE][1],
                themes=["社会保障"],
            ),
            "fields": _base_fields(basedata.SOCIAL_INSURANCE),
            "rows": insurance_records(),
        },
        {
            "provider": "610000-RST",
            "system": "610000-RST-JY01",
            "data": _common(
                "C03002",
                "就业失业登记信息",
                "department",
                "conditional",
                "monthly",
                key_field="id_number",
                share_conditions="用于就业援助与失业保险待遇核定。",
            ),
            "fields": [
                _f("id_number", "公民身份号码", "Identity number", grade=3, personal="id_number"),
                _f("status", "就业状态", "Employment status", grade=2),
                _f("registered_on", "登记日期", "Registered on", "date", 2),
            ],
            "rows": None,
            "draft": True,
        },
        {
            "provider": "610000-JTT",
            "system": "610000-JTT-GJ01",
            "data": _common(
                "C04001",
                "公交线路信息",
                "department",
                "unconditional",
                "weekly",
                key_field="line",
                open_class="unconditional",
                themes=["交通出行"],
                tags=["公交"],
            ),
            "fields": [
                _f("line", "线路", "Line"),
                _f("from_stop", "起点站", "From"),
                _f("to_stop", "终点站", "To"),
                _f("stops", "站数", "Stops", "integer"),
                _f("first_bus", "首班时间", "First bus"),
                _f("last_bus", "末班时间", "Last bus"),
            ],
            "rows": [
                {"line": a, "from_stop": b, "to_stop": c, "stops": d, "first_bus": e, "last_bus": f}
                for a, b, c, d, e, f in lines
            ],
        },
        {
            "provider": "610000-JTT",
            "system": "610000-JTT-GJ01",
            "data": _common(
                "C04002",
                "公共交通客流统计",
                "department",
                "unconditional",
                "daily",
                open_class="unconditional",
                themes=["交通出行"],
            ),
            "fields": [
                _f("date", "日期", "Date", "date"),
                _f("line", "线路", "Line"),
                _f("passengers", "客运量（人次）", "Passengers", "integer"),
            ],
            "rows": [
                {
                    "date": (today - dt.timedelta(days=d + 1)).isoformat(),
                    "line": line[0],
                    "passengers": 8000 + (d * 37 + i * 911) % 6000,
                }
                for d in range(14)
                for i, line in enumerate(lines)
            ],
        },
        {
            "provider": "610000-STHJ",
            "system": "610000-STHJ-JC01",
            "data": _common(
                "C05001",
                "空气质量监测日报",
                "department",
                "unconditional",
                "daily",
                open_class="unconditional",
                themes=["生态环境"],
                tags=["空气质量", "AQI"],
            ),
            "fields": [
                _f("date", "日期", "Date", "date"),
                _f("site", "监测点", "Monitoring site"),
                _f("aqi", "空气质量指数", "AQI", "integer"),
                _f("pm25", "PM2.5（μg/m³）", "PM2.5", "decimal"),
                _f("level", "质量级别", "Level"),
                _f("primary_pollutant", "首要污染物", "Primary pollutant"),
            ],
            "rows": air,
        },
        {
            "provider": "610000-STHJ",
            "system": "610000-STHJ-JC01",
            "data": _common(
                "C05002",
                "排污许可信息",
                "department",
                "conditional",
                "monthly",
                key_field="permit_no",
                share_conditions="用于环境监管、项目审批。",
                open_class="conditional",
                open_conditions="企业与科研机构申请后开放。",
                themes=["生态环境"],
            ),
            "fields": [
                _f("permit_no", "许可证编号", "Permit number"),
                _f("credit_code", "统一社会信用代码", "Credit code"),
                _f("company", "单位名称", "Company"),
                _f("industry", "行业类别", "Industry"),
                _f("valid_until", "有效期至", "Valid until", "date"),
            ],
            "rows": [
                {
                    "permit_no": f"91610{i:05d}MA6U{i:04d}001P",
                    "credit_code": e["credit_code"],
                    "company": e["name"],
                    "industry": "餐饮业",
                    "valid_until": "2029-12-31",
                }
                for i, e in enumerate(entities[:4])
            ],
        },
        {
            "provider": "610000-MZT",
            "system": "610000-MZT-HY01",
            "data": _common(
                "C06001",
                "婚姻登记信息",
                "department",
                "none",
                "daily",
                key_field="id_number",
                no_share_basis="《婚姻登记条例》：婚姻登记档案仅限当事人及法定机关查询，不予共享；核验通过电子证照办理。",
                on_negative_list=True,
                negative_list_basis="涉及个人隐私，列入公共数据开放负面清单。",
            ),
            "fields": [
                _f("id_number", "公民身份号码", "Identity number", grade=4, personal="id_number"),
                _f("marital_status", "婚姻状况", "Marital status", grade=4, personal="other"),
                _f("registered_on", "登记日期", "Registered on", "date", 3),
            ],
            "rows": None,
        },
        {
            "provider": "610000-MZT",
            "system": "610000-MZT-DB01",
            "data": _common(
                "C06002",
                "最低生活保障对象信息",
                "department",
                "conditional",
                "monthly",
                key_field="id_number",
                share_conditions="仅用于社会救助事项办理与救助对象核对。",
                on_negative_list=True,
                negative_list_basis="涉及困难群众个人信息，不予开放。",
            ),
            "fields": [
                _f("id_number", "公民身份号码", "Identity number", grade=4, personal="id_number"),
                _f("name", "姓名", "Name", grade=3, personal="name"),
                _f("monthly_amount", "月保障金额（元）", "Monthly amount (yuan)", "decimal", 3),
                _f("since", "保障起始月份", "Supported since"),
            ],
            "rows": [
                {
                    "id_number": make_id_number("610113", dt.date(1950, 8, 12), 464),
                    "name": "赵大爷",
                    "monthly_amount": 780.0,
                    "since": "2021-03",
                },
            ],
        },
        {
            "provider": DATA_OFFICE,
            "system": "610000-SJJ-ZZ01",
            "data": _common(
                "B01001",
                "电子证照目录信息",
                "theme",
                "unconditional",
                "daily",
                key_field="licence_type",
                themes=["电子证照"],
                description="全省电子证照的种类、签发部门与签发数量。",
            ),
            "fields": [
                _f("licence_type", "证照类型代码", "Licence type"),
                _f("name", "证照名称", "Name"),
                _f("issuer", "签发部门", "Issuer"),
                _f("issued", "签发数量", "Issued", "integer"),
            ],
            "rows": [
                {
                    "licence_type": "business_licence",
                    "name": "营业执照",
                    "issuer": "市场监督管理局",
                    "issued": 1280,
                },
                {
                    "licence_type": "food_operation",
                    "name": "食品经营许可证",
                    "issuer": "市场监督管理局",
                    "issued": 412,
                },
                {"licence_type": "residence_permit", "name": "居住证", "issuer": "公安局", "issued": 930},
            ],
        },
        {
            "provider": DATA_OFFICE,
            "system": "610000-SJJ-HCP01",
            "data": _common(
                "B01002",
                "政务服务好差评信息",
                "theme",
                "conditional",
                "daily",
                key_field="case_no",
                share_conditions="用于服务质量改进与整改督办，需说明整改事项。",
                themes=["政务服务"],
            ),
            "fields": [
                _f("case_no", "办件编号", "Case number", grade=2),
                _f("department", "办理部门", "Department"),
                _f("level", "评价等级", "Rating"),
                _f("rated_on", "评价日期", "Rated on", "date"),
                _f("phone", "评价人联系电话", "Rater's phone", grade=3, personal="phone"),
            ],
            "rows": [
                {
                    "case_no": f"6101002026{i:06d}",
                    "department": "西安市市场监督管理局",
                    "level": ["非常满意", "满意", "基本满意", "不满意"][i % 4],
                    "rated_on": (today - dt.timedelta(days=i + 1)).isoformat(),
                    "phone": f"138{20000000 + i:08d}",
                }
                for i in range(12)
            ],
        },
    ]


SYSTEMS = [
    ("610000-GAT", "610000-GAT-RK01", "人口信息管理系统", "政务外网"),
    ("610000-GAT", "610000-GAT-CRJ01", "出入境管理信息系统", "公安专网"),
    ("610000-SCJG", "610000-SCJG-DJ01", "市场主体登记注册系统", "政务外网"),
    ("610000-SCJG", "610000-SCJG-SP01", "食品经营许可管理系统", "政务外网"),
    ("610000-RST", "610000-RST-SB01", "社会保险信息系统", "政务外网"),
    ("610000-RST", "610000-RST-JY01", "就业信息管理系统", "政务外网"),
    ("610000-JTT", "610000-JTT-GJ01", "城市公共交通运营监管平台", "互联网"),
    ("610000-STHJ", "610000-STHJ-JC01", "环境空气质量监测系统", "政务外网"),
    ("610000-MZT", "610000-MZT-HY01", "婚姻登记管理系统", "民政专网"),
    ("610000-MZT", "610000-MZT-DB01", "社会救助信息系统", "政务外网"),
    ("610000-SJJ", "610000-SJJ-ZZ01", "电子证照库", "政务外网"),
    ("610000-SJJ", "610000-SJJ-HCP01", "政务服务好差评系统", "政务外网"),
    ("610100-SCJG", "610100-SCJG-YW01", "西安市市场监管综合业务系统", "政务外网"),
]

# Standing grants (一次录入、多渠道共用): (resource, fields, unmasked, purpose).
STANDING = [
    (
        basedata.POPULATION,
        [
            "id_number",
            "name",
            "gender",
            "birth_date",
            "household_region",
            "household_address",
            "residence_region",
            "residence_since",
        ],
        ["id_number", "name", "birth_date", "household_address"],
        "平台表单预填与秒批规则核验：申请人身份、户籍地、居住地与居住年限（一次录入、多渠道共用）",
    ),
    (
        basedata.LEGAL_ENTITY,
        [
            "credit_code",
            "name",
            "legal_representative",
            "representative_id_number",
            "region_code",
            "address",
            "established_on",
            "status",
        ],
        ["legal_representative", "representative_id_number"],
        "平台表单预填与企业身份核验：登记信息与法定代表人",
    ),
    (
        basedata.SOCIAL_INSURANCE,
        ["id_number", "insured", "insurance_kind", "insured_since", "last_paid_month"],
        ["id_number"],
        "秒批规则核验：申请人参保状态与缴费情况",
    ),
]


def _csv(fields: list[dict], records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    names = [f["name"] for f in fields]
    writer.writerow(names)
    for record in records:
        writer.writerow(["" if record.get(n) is None else record.get(n) for n in names])
    return out.getvalue().encode("utf-8")


def _stewards(admin: User) -> dict[str, User]:
    departments = {
        d.code: d for d in Department.objects.filter(code__in=[s[2] for s in STEWARDS] + [DATA_OFFICE])
    }
    found = {}
    for username, name, code in STEWARDS:
        user = User.objects.filter(username=username).first()
        if user is None:
            official = identity_services.official_create(
                username=username,
                name=name,
                department=departments[code],
                roles=[Role.DATA_STEWARD],
                password=identity_demo.DEMO_PASSWORD,
                actor=admin,
                title="数据管理员",
            )
            user = official.user
            user.email = f"{username}@example.org"
            user.save(update_fields=["email"])
        found[code] = user
    data_office = Official.objects.filter(department__code=DATA_OFFICE, roles__role=Role.DATA_STEWARD).first()
    if data_office is not None:
        found[DATA_OFFICE] = data_office.user
    return found


def _put_rows(resource: DataResource, fields: list[dict], records: list[dict], actor) -> int:
    """Load the rows (through the upload service) into an empty table resource; into one that
    has rows, append only the records whose key is missing."""
    if resource.row_count == 0 and not ResourceRow.objects.filter(resource=resource).exists():
        return services.resource_load_rows(
            actor=actor, resource=resource, content=_csv(fields, records), filename="demo.csv"
        )
    specs = list(resource.fields.all())
    have = set(ResourceRow.objects.filter(resource=resource).values_list("key", flat=True))
    missing = [r for r in records if rowstore.key_for(resource, specs, r.get(resource.key_field)) not in have]
    if not missing or not resource.key_field:
        return 0
    start = (
        ResourceRow.objects.filter(resource=resource)
        .order_by("-row_no")
        .values_list("row_no", flat=True)
        .first()
        or 0
    ) + 1
    ResourceRow.objects.bulk_create(rowstore.build_rows(resource, specs, missing, start=start))
    resource.row_count = ResourceRow.objects.filter(resource=resource).count()
    resource.loaded_at = timezone.now()
    resource.save(update_fields=["row_count", "loaded_at", "updated_at"])
    audit.record(
        actor=actor,
        event="exchange:resource:load_rows",
        target=resource,
        data={"code": resource.code, "appended": len(missing)},
    )
    return len(missing)


@transaction.atomic
def build(scale: str = "normal", *, stdout=None) -> dict:
    """Build (or complete) the exchange's demo; returns counts. ``scale``: small (tests), normal."""
    if not settings.DEV:
        raise RuntimeError("The exchange demo is for development only (YIWANG_DEV=1).")
    started = time.monotonic()
    admin = User.objects.get(username="admin")
    stewards = _stewards(admin)
    departments = {
        d.code: d
        for d in Department.objects.filter(code__in=[s[0] for s in SYSTEMS] + ["610100-JTT", DATA_OFFICE])
    }
    for dept_code, code, name, network in SYSTEMS:
        if not InformationSystem.objects.filter(code=code).exists():
            actor = stewards.get(dept_code) or admin
            services.system_register(
                actor=actor,
                department=departments[dept_code],
                code=code,
                data={
                    "name": name,
                    "network": network,
                    "contact": f"{dept_code} 信息中心 029-8800{len(code):04d}",
                },
            )
    rows = 0
    for spec in resource_specs(scale):
        provider = departments.get(spec["provider"]) or Department.objects.get(code=spec["provider"])
        steward = stewards.get(spec["provider"], admin)
        resource = DataResource.objects.filter(code=spec["data"]["code"]).first()
        if resource is None:
            system = InformationSystem.objects.filter(code=spec["system"]).first()
            resource = services.resource_register(
                actor=steward, provider=provider, data=spec["data"], fields=spec["fields"], system=system
            )
        if spec["rows"]:
            rows += _put_rows(resource, spec["fields"], spec["rows"], steward)
        if not spec.get("draft") and resource.state == "draft":
            # made by another builder first (basedata's spec has no conditions of sharing, say):
            # describe it as the demo does, then publish
            resource = services.resource_update(
                actor=steward, resource=resource, data={k: v for k, v in spec["data"].items() if k != "code"}
            )
            services.resource_publish(actor=steward, resource=resource)
    _grants_and_requests(stewards, departments, admin)
    _demands(stewards, departments)
    counts = {
        "resources": DataResource.objects.count(),
        "rows_added": rows,
        "grants": Grant.objects.count(),
        "requests": AccessRequest.objects.count(),
    }
    if stdout is not None:
        stdout.write(
            f"exchange: {counts['resources']} resources ({rows} rows added), {counts['grants']} grants, "
            f"{counts['requests']} requests in {time.monotonic() - started:.1f} s"
        )
    return counts


def _official(code: str) -> User:
    """An official of the department (the demo's department X has several; the first will do)."""
    official = Official.objects.filter(department__code=code, is_active=True).order_by("pk").first()
    return official.user if official is not None else None


def standing_grants(consumer: Department, *, admin: User, stewards: dict | None = None, codes=None) -> int:
    """The demo's standing grants (``STANDING``) of the base resources to ``consumer``, for the
    platform's forms and rules, where the resource exists and none is held yet; returns how many
    were made. The applications demo calls it for its department too, when it is built alone."""
    until = timezone.localdate() + dt.timedelta(days=3 * 365)
    made = 0
    for code, fields, unmasked, purpose in STANDING:
        resource = DataResource.objects.filter(code=code).select_related("provider").first()
        if resource is None or (codes is not None and code not in codes):
            continue
        if Grant.objects.filter(resource=resource, consumer=consumer, standing=True).exists():
            continue
        services.grant_create(
            actor=(stewards or {}).get(resource.provider.code, admin),
            resource=resource,
            consumer=consumer,
            fields=fields,
            unmasked_fields=unmasked,
            purpose=purpose,
            valid_until=until,
            standing=True,
            rate_limit_per_minute=1200,
        )
        made += 1
    return made


def _grants_and_requests(stewards, departments, admin) -> None:
    for consumer_code in (X, DATA_OFFICE):
        standing_grants(departments[consumer_code], admin=admin, stewards=stewards)
    x_official = _official(X)
    jtt = Department.objects.filter(code="610100-JTT").first()
    soon = timezone.localdate() + dt.timedelta(days=365)
    plan = [
        # (consumer, resource, fields, purpose, then)
        (X, "B01002", ["case_no", "level", "rated_on"], "差评整改督办：核对本局办件的评价等级", "pending"),
        (
            X,
            basedata.SOCIAL_INSURANCE,
            ["id_number", "insured"],
            "个体工商户登记扶持政策：核验经营者参保状态",
            "pending",
        ),
        (
            X,
            "C02003",
            ["licence_no", "operator", "valid_until"],
            "食品安全日常监督检查对象核对",
            "granted at once",
        ),
        (
            DATA_OFFICE,
            basedata.LEGAL_ENTITY,
            ["credit_code", "name", "status"],
            "政务服务效能分析：市场主体存续状态",
            "approved",
        ),
        ("610100-JTT", basedata.POPULATION, ["name", "phone"], "公交卡办理回访", "refused"),
        (X, "C05002", ["permit_no", "company"], "餐饮业油烟排放联合检查", "withdrawn"),
    ]
    for consumer_code, code, fields, purpose, then in plan:
        consumer = departments.get(consumer_code) or jtt
        if consumer is None:
            continue
        resource = DataResource.objects.get(code=code)
        if AccessRequest.objects.filter(resource=resource, consumer=consumer).exists():
            continue
        actor = x_official if consumer_code == X else _official(consumer_code)
        if actor is None:
            actor = _demo_official(consumer, admin)
        req = services.access_request(
            actor=actor,
            resource=resource,
            consumer=consumer,
            fields=fields,
            purpose=purpose,
            valid_until=soon,
            legal_basis="《政务信息资源共享管理暂行办法》",
        )
        steward = stewards.get(resource.provider.code, admin)
        if then == "approved":
            services.request_decide(actor=steward, request=req, approve=True, reason="用途明确，符合共享条件")
        elif then == "refused":
            services.request_decide(
                actor=steward, request=req, approve=False, reason="用途与部门职责不符，联系电话不予提供"
            )
        elif then == "withdrawn":
            services.request_withdraw(actor=actor, request=req)


def _demo_official(department: Department, admin: User) -> User:
    username = f"demo-{department.code.lower()}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = identity_services.official_create(
            username=username,
            name="演示工作人员",
            department=department,
            roles=[Role.CLERK],
            password=identity_demo.DEMO_PASSWORD,
            actor=admin,
        ).user
    return user


def _demands(stewards, departments) -> None:
    if DataDemand.objects.exists():
        return
    x_official = _official(X)
    demand = services.demand_file(
        actor=x_official,
        department=departments[X],
        title="个体工商户登记：经营者户籍与居住信息",
        description="登记个体工商户时核验经营者户籍地、居住地与居住年限，免于提交户口簿与居住证明。",
        purpose="个体工商户登记（一次录入、多渠道共用）",
        wanted_fields="户籍地行政区划代码、居住地、居住起始日期",
    )
    services.demand_match(
        actor=x_official, demand=demand, resource=DataResource.objects.get(code=basedata.POPULATION)
    )
    data_office = stewards.get(DATA_OFFICE)
    if data_office is not None:
        services.demand_file(
            actor=data_office,
            department=departments[DATA_OFFICE],
            title="不动产登记信息",
            description="全省不动产登记的权利人、坐落与权利类型，用于住房公积金与落户事项。",
            purpose="住房公积金提取、落户事项办理免交不动产权证书",
            wanted_fields="权利人、坐落、权利类型、登记日期",
        )
    closed = services.demand_file(
        actor=x_official,
        department=departments[X],
        title="市场主体存续状态",
        description="日常监管中核对市场主体登记状态。",
        purpose="双随机抽查对象核对",
    )
    services.demand_update(actor=x_official, demand=closed, close=True)
