"""Demo data of the open data portal: the themes, 105 open datasets (35 topics for the province,
西安市 and 铜川市), each an exchange resource with rows, published through the publishing
service; a pending application of 张三 to a dataset of the data office (the demo steward
decides it) and an approved one of 王五 (who may create an API key). Idempotent.

The exchange resources are created directly (the catalog services are another part's); their
rows go through ``yiwang.exchange.rows.build_rows``, as every stored row does.
"""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from yiwang.exchange.models import (
    DataResource,
    FieldType,
    Grade,
    OpenClass,
    ResourceField,
    ResourceKind,
    ResourceRow,
    ResourceState,
    ShareClass,
)
from yiwang.exchange.rows import build_rows
from yiwang.identity.models import Department, User
from yiwang.opendata import services
from yiwang.opendata.models import Application, Dataset, Theme

ACTOR = "system:demo"
REGIONS = [("610000", "陕西省", 0), ("610100", "西安市", 1), ("610200", "铜川市", 2)]
THEMES = [
    ("economy", "经济建设", "Economy", "企业登记、市场主体、产业发展"),
    ("transport", "交通出行", "Transport", "公交、道路、停车、出行"),
    ("environment", "资源环境", "Environment", "空气、水质、自然资源"),
    ("education", "教育文化", "Education and culture", "学校、图书馆、文化场馆"),
    ("health", "医疗卫生", "Health", "医疗机构、药店、卫生监督"),
    ("social", "社保就业", "Jobs and social security", "就业、社保、养老"),
    ("public-safety", "公共安全", "Public safety", "应急、消防、安全生产"),
    ("urban", "城建住房", "Housing and urban development", "住房、城建、市政"),
    ("agriculture", "农业农村", "Agriculture", "农业生产、农村发展"),
    ("government", "机构团体", "Government services", "政务服务、机构信息"),
]
S, INT, D, DT_, B = FieldType.STRING, FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE, FieldType.BOOLEAN
DISTRICTS = ["新城区", "碑林区", "莲湖区", "雁塔区", "未央区", "灞桥区", "王益区", "印台区", "宜君县"]
# (slug, department kind, title, themes, tags, open class, conditions, frequency, rows, fields)
# field: (name, zh label, en label, type, values: list of choices | (low, high) | "seq" | "date")
TOPICS = [
    (
        "bus-lines",
        "JTT",
        "公交线路信息",
        ["transport"],
        ["公交", "线路"],
        "u",
        "",
        "monthly",
        40,
        [
            ("line_no", "线路编号", "Line", S, "seq"),
            ("start_stop", "起点站", "From", S, ["火车站", "钟楼", "北客站", "高新路"]),
            ("end_stop", "终点站", "To", S, ["大学城", "机场", "纺织城", "曲江"]),
            ("stops", "站点数", "Stops", INT, (8, 40)),
            ("fare", "票价（元）", "Fare (yuan)", D, (1, 3)),
        ],
    ),
    (
        "bus-stops",
        "JTT",
        "公交站点信息",
        ["transport"],
        ["公交", "站点"],
        "u",
        "",
        "monthly",
        60,
        [
            ("stop_id", "站点编号", "Stop", S, "seq"),
            ("stop_name", "站点名称", "Name", S, ["南门", "北门", "东门", "西门", "小寨"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("lines", "途经线路数", "Lines", INT, (1, 12)),
        ],
    ),
    (
        "parking-lots",
        "ZJT",
        "公共停车场信息",
        ["transport", "urban"],
        ["停车", "交通"],
        "u",
        "",
        "weekly",
        50,
        [
            ("lot_id", "停车场编号", "Lot", S, "seq"),
            ("name", "停车场名称", "Name", S, ["万达", "赛格", "大唐不夜城", "市图书馆"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("spaces", "车位数", "Spaces", INT, (50, 1200)),
            ("hourly_fee", "小时收费（元）", "Fee per hour", D, (2, 10)),
        ],
    ),
    (
        "road-works",
        "JTT",
        "道路施工占道信息",
        ["transport"],
        ["道路", "施工"],
        "u",
        "",
        "daily",
        30,
        [
            ("work_id", "编号", "Id", S, "seq"),
            ("road", "道路名称", "Road", S, ["长安路", "含光路", "太白路", "朱雀大街"]),
            ("start_date", "开始日期", "From", DT_, "date"),
            ("end_date", "结束日期", "Until", DT_, "date"),
        ],
    ),
    (
        "air-quality",
        "STHJ",
        "空气质量日报",
        ["environment"],
        ["空气质量", "AQI"],
        "u",
        "",
        "daily",
        90,
        [
            ("day", "日期", "Day", DT_, "date"),
            ("station", "监测点", "Station", S, ["高压开关厂", "市监测站", "兴庆小区", "纺织城"]),
            ("aqi", "AQI", "AQI", INT, (20, 260)),
            ("pm25", "PM2.5（μg/m³）", "PM2.5", D, (5, 180)),
            ("level", "空气质量级别", "Level", S, ["优", "良", "轻度污染", "中度污染"]),
        ],
    ),
    (
        "water-quality",
        "STHJ",
        "地表水水质月报",
        ["environment"],
        ["水质"],
        "u",
        "",
        "monthly",
        36,
        [
            ("section", "监测断面", "Section", S, ["渭河咸阳铁桥", "灞河口", "沣河入渭口", "浐河"]),
            ("month", "月份", "Month", DT_, "date"),
            ("grade", "水质类别", "Grade", S, ["Ⅱ类", "Ⅲ类", "Ⅳ类"]),
            ("cod", "化学需氧量（mg/L）", "COD", D, (5, 30)),
        ],
    ),
    (
        "noise-monitoring",
        "STHJ",
        "城市区域环境噪声监测",
        ["environment"],
        ["噪声"],
        "u",
        "",
        "quarterly",
        24,
        [
            ("point", "监测点", "Point", S, "seq"),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("db", "等效声级（dB）", "Level (dB)", D, (45, 75)),
        ],
    ),
    (
        "schools",
        "JYT",
        "中小学校名录",
        ["education"],
        ["学校", "教育"],
        "u",
        "",
        "yearly",
        80,
        [
            ("school_id", "学校代码", "Code", S, "seq"),
            ("name", "学校名称", "Name", S, ["实验小学", "第一中学", "育才中学", "铁一中"]),
            ("stage", "学段", "Stage", S, ["小学", "初中", "高中", "九年一贯制"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("public", "是否公办", "Public", B, [True, False]),
        ],
    ),
    (
        "kindergartens",
        "JYT",
        "幼儿园名录",
        ["education"],
        ["幼儿园", "教育"],
        "u",
        "",
        "yearly",
        50,
        [
            ("kg_id", "幼儿园代码", "Code", S, "seq"),
            ("name", "名称", "Name", S, ["阳光幼儿园", "小太阳幼儿园", "机关幼儿园"]),
            ("places", "学位数", "Places", INT, (90, 600)),
            ("public", "是否公办", "Public", B, [True, False]),
        ],
    ),
    (
        "libraries",
        "WHLY",
        "公共图书馆信息",
        ["education"],
        ["图书馆", "文化"],
        "u",
        "",
        "yearly",
        20,
        [
            ("library", "图书馆名称", "Library", S, ["市图书馆", "区图书馆", "少儿图书馆"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("books", "藏书量（册）", "Books", INT, (20000, 3000000)),
            ("open_hours", "开放时间", "Opening hours", S, ["9:00-17:00", "9:00-21:00"]),
        ],
    ),
    (
        "scenic-spots",
        "WHLY",
        "A级旅游景区名录",
        ["education", "economy"],
        ["旅游", "景区"],
        "u",
        "",
        "yearly",
        30,
        [
            ("spot", "景区名称", "Spot", S, ["大雁塔", "城墙", "华清宫", "玉华宫", "照金"]),
            ("grade", "等级", "Grade", S, ["5A", "4A", "3A"]),
            ("district", "所在区县", "District", S, DISTRICTS),
        ],
    ),
    (
        "hospitals",
        "WJW",
        "医疗机构名录",
        ["health"],
        ["医院", "医疗"],
        "u",
        "",
        "quarterly",
        60,
        [
            ("org_code", "机构代码", "Code", S, "seq"),
            ("name", "机构名称", "Name", S, ["人民医院", "中医医院", "妇幼保健院", "社区卫生服务中心"]),
            ("level", "等级", "Level", S, ["三级甲等", "二级甲等", "一级"]),
            ("beds", "床位数", "Beds", INT, (20, 3000)),
        ],
    ),
    (
        "pharmacies",
        "YBJ",
        "医保定点零售药店",
        ["health", "social"],
        ["药店", "医保"],
        "u",
        "",
        "monthly",
        70,
        [
            ("store_id", "药店编号", "Store", S, "seq"),
            ("name", "药店名称", "Name", S, ["大药房", "百姓药房", "康复药店"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("insured", "是否医保定点", "Insurance", B, [True]),
        ],
    ),
    (
        "vaccination-sites",
        "WJW",
        "预防接种门诊",
        ["health"],
        ["疫苗", "接种"],
        "u",
        "",
        "monthly",
        30,
        [
            ("site", "门诊名称", "Site", S, ["社区卫生服务中心接种门诊", "疾控中心接种门诊"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("weekend", "周末开放", "Open at weekends", B, [True, False]),
        ],
    ),
    (
        "job-fairs",
        "RST",
        "招聘会信息",
        ["social"],
        ["就业", "招聘"],
        "u",
        "",
        "weekly",
        25,
        [
            ("fair", "招聘会名称", "Fair", S, ["春风行动专场", "高校毕业生专场", "民营企业招聘月"]),
            ("day", "举办日期", "Day", DT_, "date"),
            ("employers", "参会单位数", "Employers", INT, (20, 400)),
            ("positions", "岗位数", "Positions", INT, (100, 8000)),
        ],
    ),
    (
        "training-institutions",
        "RST",
        "职业技能培训机构",
        ["social", "education"],
        ["培训", "技能"],
        "u",
        "",
        "quarterly",
        35,
        [
            ("inst", "机构名称", "Institution", S, ["职业技能培训学校", "技工学校", "培训中心"]),
            ("trades", "培训工种数", "Trades", INT, (1, 30)),
        ],
    ),
    (
        "pension-institutions",
        "MZT",
        "养老机构名录",
        ["social"],
        ["养老"],
        "u",
        "",
        "quarterly",
        40,
        [
            ("home", "机构名称", "Home", S, ["颐养院", "福利院", "康养中心"]),
            ("beds", "床位数", "Beds", INT, (30, 800)),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("public", "是否公办", "Public", B, [True, False]),
        ],
    ),
    (
        "marriage-offices",
        "MZT",
        "婚姻登记机关",
        ["government"],
        ["婚姻登记"],
        "u",
        "",
        "yearly",
        12,
        [
            ("office", "登记机关", "Office", S, ["婚姻登记处"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("phone", "咨询电话", "Phone (office)", S, ["029-12345", "0919-12345"]),
        ],
    ),
    (
        "shelters",
        "YJT",
        "应急避难场所",
        ["public-safety"],
        ["应急", "避难"],
        "u",
        "",
        "yearly",
        30,
        [
            ("site", "场所名称", "Site", S, ["中心广场", "体育场", "公园"]),
            ("capacity", "可容纳人数", "Capacity", INT, (500, 50000)),
            ("district", "所在区县", "District", S, DISTRICTS),
        ],
    ),
    (
        "safety-inspections",
        "YJT",
        "安全生产执法检查结果",
        ["public-safety", "economy"],
        ["安全生产", "执法"],
        "u",
        "",
        "monthly",
        45,
        [
            ("case_no", "检查编号", "Inspection", S, "seq"),
            ("industry", "行业", "Industry", S, ["危化品", "工贸", "建筑施工"]),
            ("day", "检查日期", "Day", DT_, "date"),
            ("result", "检查结果", "Result", S, ["合格", "限期整改", "立案处罚"]),
        ],
    ),
    (
        "market-entities",
        "SCJG",
        "市场主体登记统计",
        ["economy"],
        ["市场主体", "企业"],
        "u",
        "",
        "monthly",
        36,
        [
            ("month", "月份", "Month", DT_, "date"),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("new_firms", "新设企业数", "New firms", INT, (50, 3000)),
            ("new_individual", "新设个体工商户数", "New sole traders", INT, (100, 5000)),
        ],
    ),
    (
        "food-inspections",
        "SCJG",
        "食品安全抽检结果",
        ["economy", "health"],
        ["食品安全", "抽检"],
        "u",
        "",
        "monthly",
        80,
        [
            ("sample_no", "样品编号", "Sample", S, "seq"),
            ("food", "食品名称", "Food", S, ["面粉", "食用油", "牛奶", "蔬菜"]),
            ("day", "抽检日期", "Day", DT_, "date"),
            ("qualified", "是否合格", "Passed", B, [True, True, True, False]),
        ],
    ),
    (
        "price-monitoring",
        "FGW",
        "主要农产品价格监测",
        ["economy", "agriculture"],
        ["价格", "农产品"],
        "u",
        "",
        "weekly",
        60,
        [
            ("goods", "品名", "Goods", S, ["猪肉", "鸡蛋", "大白菜", "苹果"]),
            ("week", "周", "Week", DT_, "date"),
            ("price", "均价（元/公斤）", "Price (yuan/kg)", D, (2, 40)),
        ],
    ),
    (
        "statistics-gdp",
        "TJJ",
        "地区生产总值（季度）",
        ["economy"],
        ["统计", "GDP"],
        "u",
        "",
        "quarterly",
        20,
        [
            ("quarter", "季度", "Quarter", S, ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]),
            ("gdp", "生产总值（亿元）", "GDP", D, (100, 9000)),
            ("growth", "同比增长（%）", "Growth", D, (1, 9)),
        ],
    ),
    (
        "population-stats",
        "TJJ",
        "常住人口统计（年度）",
        ["social"],
        ["统计", "人口"],
        "u",
        "",
        "yearly",
        15,
        [
            ("year", "年份", "Year", INT, (2010, 2025)),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("population", "常住人口（万人）", "Population", D, (10, 300)),
        ],
    ),
    (
        "farm-cooperatives",
        "NYNC",
        "农民专业合作社名录",
        ["agriculture"],
        ["合作社", "农业"],
        "u",
        "",
        "quarterly",
        50,
        [
            ("coop", "合作社名称", "Cooperative", S, ["苹果专业合作社", "猕猴桃合作社", "蔬菜种植合作社"]),
            ("members", "成员数", "Members", INT, (5, 500)),
        ],
    ),
    (
        "irrigation",
        "SLT",
        "水利工程基本情况",
        ["agriculture", "environment"],
        ["水利"],
        "u",
        "",
        "yearly",
        25,
        [
            ("project", "工程名称", "Project", S, ["水库", "灌区", "泵站"]),
            ("capacity", "库容（万立方米）", "Capacity", D, (10, 5000)),
        ],
    ),
    (
        "forest-parks",
        "LYJ",
        "森林公园名录",
        ["environment"],
        ["森林", "公园"],
        "u",
        "",
        "yearly",
        15,
        [
            ("park", "公园名称", "Park", S, ["国家森林公园", "省级森林公园"]),
            ("area", "面积（公顷）", "Area (ha)", D, (100, 30000)),
        ],
    ),
    (
        "sports-venues",
        "TYJ",
        "公共体育场馆",
        ["education"],
        ["体育", "场馆"],
        "u",
        "",
        "yearly",
        30,
        [
            ("venue", "场馆名称", "Venue", S, ["体育中心", "全民健身中心", "游泳馆"]),
            ("free", "是否免费开放", "Free", B, [True, False]),
        ],
    ),
    (
        "housing-projects",
        "ZJT",
        "商品房预售许可信息",
        ["urban"],
        ["住房", "预售"],
        "u",
        "",
        "weekly",
        40,
        [
            ("permit_no", "预售许可证号", "Permit", S, "seq"),
            ("project", "项目名称", "Project", S, ["花园小区", "滨河苑", "新城华府"]),
            ("units", "套数", "Units", INT, (50, 2000)),
            ("day", "发证日期", "Issued", DT_, "date"),
        ],
    ),
    (
        "legal-aid",
        "SFT",
        "法律援助机构",
        ["government"],
        ["法律援助"],
        "u",
        "",
        "yearly",
        15,
        [
            ("center", "机构名称", "Centre", S, ["法律援助中心", "法律援助工作站"]),
            ("district", "所在区县", "District", S, DISTRICTS),
        ],
    ),
    # The data office's datasets: two open on conditions (the demo steward decides applications).
    (
        "service-halls",
        "SJJ",
        "政务服务大厅信息",
        ["government"],
        ["政务服务", "办事大厅"],
        "u",
        "",
        "quarterly",
        20,
        [
            ("hall", "大厅名称", "Hall", S, ["政务服务中心", "便民服务中心"]),
            ("district", "所在区县", "District", S, DISTRICTS),
            ("windows", "窗口数", "Windows", INT, (5, 200)),
        ],
    ),
    (
        "service-ratings",
        "SJJ",
        "政务服务好差评汇总",
        ["government"],
        ["好差评", "政务服务"],
        "c",
        "用于政务服务研究与评价，不得用于商业营销；注明数据来源。",
        "monthly",
        60,
        [
            ("month", "月份", "Month", DT_, "date"),
            ("department", "部门", "Department", S, ["市场监管", "公安", "人社", "医保"]),
            ("ratings", "评价数", "Ratings", INT, (100, 20000)),
            ("satisfied", "满意率（%）", "Satisfied (%)", D, (90, 100)),
        ],
    ),
    (
        "service-volumes",
        "SJJ",
        "政务服务事项办件量统计",
        ["government", "economy"],
        ["办件量", "统计"],
        "c",
        "仅用于科研与公共管理研究，成果须报送数据提供方。",
        "monthly",
        60,
        [
            ("month", "月份", "Month", DT_, "date"),
            ("item", "事项类别", "Kind of item", S, ["行政许可", "公共服务", "行政确认"]),
            ("cases", "办件量", "Cases", INT, (100, 90000)),
            ("online_rate", "网办率（%）", "Online (%)", D, (50, 100)),
        ],
    ),
    (
        "enterprise-credit",
        "FGW",
        "企业公共信用综合评价结果",
        ["economy"],
        ["信用", "企业"],
        "c",
        "用于信用研究和风险评估，不得向第三方转让。",
        "monthly",
        50,
        [
            ("credit_code", "统一社会信用代码", "Credit code", S, "seq"),
            ("grade", "信用等级", "Grade", S, ["A", "B", "C", "D"]),
            ("industry", "行业", "Industry", S, ["制造业", "批发零售", "建筑业", "餐饮"]),
        ],
    ),
]


def _value(rng: random.Random, spec, i: int, region_code: str):
    name, _zh, _en, ftype, values = spec
    if values == "seq":
        return f"{region_code}{i:05d}"
    if values == "date":
        return (dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))).isoformat()
    if isinstance(values, tuple):
        low, high = values
        return rng.randint(low, high) if ftype == FieldType.INTEGER else round(rng.uniform(low, high), 2)
    return rng.choice(values)


def _themes() -> None:
    for position, (name, title, title_en, description) in enumerate(THEMES):
        Theme.objects.update_or_create(
            name=name,
            defaults={"title": title, "title_en": title_en, "description": description, "position": position},
        )


def _resource(code: str, provider: Department, topic, region_name: str) -> DataResource:
    _slug, _kind, title, theme_names, tags, open_class, conditions, frequency, count, fields = topic
    resource, created = DataResource.objects.get_or_create(
        code=code,
        defaults={
            "name": f"{region_name}{title}",
            "description": f"{provider.name}发布的{title}（演示数据）。",
            "provider": provider,
            "kind": ResourceKind.DEPARTMENT,
            "share_class": ShareClass.UNCONDITIONAL,
            "open_class": OpenClass.UNCONDITIONAL if open_class == "u" else OpenClass.CONDITIONAL,
            "open_conditions": conditions,
            "update_frequency": frequency,
            "themes": list(theme_names),
            "tags": list(tags),
            "state": ResourceState.PUBLISHED,
        },
    )
    if created:
        specs = [
            ResourceField(
                resource=resource,
                name=f[0],
                label_zh=f[1],
                label_en=f[2],
                type=f[3],
                grade=Grade.PUBLIC,
                position=n,
            )
            for n, f in enumerate(fields)
        ]
        ResourceField.objects.bulk_create(specs)
        rng = random.Random(code)  # noqa: S311 — demo values, not secrets
        records = [{f[0]: _value(rng, f, i + 1, code[-5:]) for f in fields} for i in range(count)]
        ResourceRow.objects.bulk_create(build_rows(resource, specs, records), batch_size=1000)
        resource.row_count, resource.loaded_at = count, timezone.now()
        resource.save(update_fields=["row_count", "loaded_at"])
    return resource


def resource_code(region_index: int, topic_index: int) -> str:
    """The demo resource code of a topic in a region: C8 + region digit + topic (2 digits) + 0."""
    return f"C8{region_index}{topic_index:02d}0"


@transaction.atomic
def build(*, stdout=None, regions=REGIONS) -> int:
    """Themes, the datasets of every topic in ``regions``, and the demo applications; returns
    how many datasets were published now."""
    _themes()
    departments = {d.code: d for d in Department.objects.all()}
    published = 0
    for region_code, region_name, index in regions:
        for t, topic in enumerate(TOPICS):
            provider = departments.get(f"{region_code}-{topic[1]}")
            if provider is None:
                continue
            resource = _resource(resource_code(index, t), provider, topic, region_name)
            name = f"{region_code}-{topic[0]}"
            if Dataset.objects.filter(resource=resource).exists() or services.reasons_not_openable(resource):
                continue
            services.dataset_publish(resource=resource, actor=ACTOR, themes=topic[3], name=name)
            published += 1
    _steward_examples(departments.get("610000-SJJ"))
    _applications()
    if stdout is not None:
        stdout.write(f"Open data: {published} datasets published, {Dataset.objects.count()} in all.\n")
    return published


# Two resources of the data office the demo steward finds on their page: one fit to open (not
# published yet), one never openable (it holds names of people).
HOTLINE = (
    "hotline-topics",
    "SJJ",
    "12345热线诉求分类统计",
    ["government"],
    ["12345", "热线"],
    "u",
    "",
    "monthly",
    24,
    [
        ("month", "月份", "Month", DT_, "date"),
        ("topic", "诉求类别", "Topic", S, ["交通", "住房", "教育", "医疗"]),
        ("count", "诉求量", "Requests", INT, (100, 9000)),
    ],
)
WINDOW_STAFF = (
    "window-staff",
    "SJJ",
    "政务服务窗口人员名录",
    ["government"],
    ["政务服务"],
    "u",
    "",
    "monthly",
    10,
    [("window", "窗口", "Window", S, "seq"), ("hall", "大厅", "Hall", S, ["政务服务中心"])],
)


def _steward_examples(office: Department | None) -> None:
    if office is None:
        return
    _resource("C89010", office, HOTLINE, "陕西省")
    staff = _resource("C89020", office, WINDOW_STAFF, "陕西省")
    ResourceField.objects.get_or_create(
        resource=staff,
        name="staff_name",
        defaults={
            "label_zh": "工作人员姓名",
            "label_en": "Staff name",
            "grade": Grade.SENSITIVE,
            "personal": "name",
            "position": 9,
        },
    )


def _applications() -> None:
    citizen = User.objects.filter(username="citizen").first()
    agent = User.objects.filter(username="agent").first()
    ratings = Dataset.objects.filter(name="610000-service-ratings").first()
    volumes = Dataset.objects.filter(name="610000-service-volumes").first()
    if citizen and ratings and not Application.objects.filter(applicant=citizen, dataset=ratings).exists():
        services.application_submit(
            dataset=ratings,
            actor=citizen,
            organization="西北演示大学公共管理学院",
            purpose="研究政务服务满意度的变化与影响因素（课程论文）。",
        )
    if agent and volumes and not Application.objects.filter(applicant=agent, dataset=volumes).exists():
        application = services.application_submit(
            dataset=volumes,
            actor=agent,
            organization="西安演示餐饮管理有限公司",
            purpose="分析开办餐饮企业相关事项的办理量，规划门店选址。",
        )
        services.application_decide(application=application, actor=ACTOR, approve=True)
