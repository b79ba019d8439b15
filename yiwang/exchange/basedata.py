"""The base resources (基础信息资源) the platform's own forms, rules and real-name checks read
through the exchange: the population base data (人口库), the legal-entity base data (法人库) and
social insurance. One definition of their codes and fields, used by the demo, the registers
identity checks against, and the facts forms and rules are bound to.

Field spec: (name, zh label, en label, type, grade, personal kind).
"""

POPULATION = "A01001"  # 人口基础信息 — provided by the public security department (GAT)
LEGAL_ENTITY = "A02001"  # 法人单位基础信息 — provided by market regulation (SCJG)
SOCIAL_INSURANCE = "C03001"  # 社会保险参保信息 — provided by human resources and social security (RST)

BASE_RESOURCES = {
    POPULATION: {
        "name": "人口基础信息",
        "name_en": "Population base data",
        "provider_kind": "GAT",
        "kind": "basic",
        "key_field": "id_number",
        "fields": [
            ("id_number", "公民身份号码", "Identity number", "string", 3, "id_number"),
            ("name", "姓名", "Name", "string", 3, "name"),
            ("gender", "性别", "Sex", "string", 2, ""),
            ("birth_date", "出生日期", "Date of birth", "date", 3, "other"),
            (
                "household_region",
                "户籍地行政区划代码",
                "Household registration (division code)",
                "string",
                2,
                "",
            ),
            ("household_address", "户籍地址", "Household registration address", "string", 3, "address"),
            ("residence_region", "居住地行政区划代码", "Place of residence (division code)", "string", 2, ""),
            ("residence_since", "居住起始日期", "Resident there since", "date", 2, ""),
            ("phone", "联系电话", "Phone", "string", 3, "phone"),
        ],
    },
    LEGAL_ENTITY: {
        "name": "法人单位基础信息",
        "name_en": "Legal-entity base data",
        "provider_kind": "SCJG",
        "kind": "basic",
        "key_field": "credit_code",
        "fields": [
            ("credit_code", "统一社会信用代码", "Unified social credit code", "string", 1, ""),
            ("name", "名称", "Name", "string", 1, ""),
            ("legal_representative", "法定代表人", "Legal representative", "string", 2, "name"),
            (
                "representative_id_number",
                "法定代表人身份号码",
                "Representative's identity number",
                "string",
                3,
                "id_number",
            ),
            ("region_code", "登记地行政区划代码", "Registered region (division code)", "string", 1, ""),
            ("address", "住所", "Registered address", "string", 1, ""),
            ("established_on", "成立日期", "Established on", "date", 1, ""),
            ("status", "登记状态", "Registration status", "string", 1, ""),
        ],
    },
    SOCIAL_INSURANCE: {
        "name": "社会保险参保信息",
        "name_en": "Social insurance enrolment",
        "provider_kind": "RST",
        "kind": "department",
        "key_field": "id_number",
        "fields": [
            ("id_number", "公民身份号码", "Identity number", "string", 3, "id_number"),
            ("insured", "是否参保", "Insured", "boolean", 2, ""),
            ("insurance_kind", "参保险种", "Kind of insurance", "string", 2, ""),
            ("insured_since", "参保起始日期", "Insured since", "date", 2, ""),
            ("last_paid_month", "最近缴费月份", "Last month paid", "string", 2, ""),
        ],
    },
}
