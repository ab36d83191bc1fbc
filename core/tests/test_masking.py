"""core.masking: one rule for phone fields and for phones, resident IDs and plates found in free text."""
import pytest

from core.masking import mask_personal_text, mask_phone, mask_value


@pytest.mark.parametrize("text,expected", [
    # Mainland mobiles, with or without separators or +86.
    ("联系人电话13812345678谢谢", "联系人电话138****5678谢谢"),
    ("电话 138-1234-5678", "电话 138******5678"),
    ("电话 138 1234 5678。", "电话 138******5678。"),
    ("+8613812345678", "+86*******5678"),
    # Landlines with an area code.
    ("座机0571-88889999", "座机057******9999"),
    ("座机057188889999", "座机057*****9999"),
    ("座机(0571)88889999", "座机(05*******9999"),
    ("010 12345678", "010*****5678"),
    # Resident ID numbers, X included.
    ("身份证330102199001011234", "身份证330***********1234"),
    ("身份证33010219900101123X。", "身份证330***********123X。"),
    ("身份证33010219900101123x", "身份证330***********123x"),
    # Plates: ordinary, with a dot, new energy, lowercase, 学.
    ("车牌浙A12345停在门口", "车牌*****45停在门口"),
    ("浙A·12345", "******45"),
    ("浙AD12345新能源", "******45新能源"),
    ("浙a12345", "*****45"),
    ("浙A1234学", "*****4学"),
    # Several in one text.
    ("张三13812345678，车浙B88888", "张三138****5678，车*****88"),
])
def test_masks_personal_numbers_in_text(text, expected):
    assert mask_personal_text(text) == expected


@pytest.mark.parametrize("text", [
    "邮编310000", "事件 12345 已处理", "事件编号 20261123001", "订单 1234567890123456",
    "2026-11-23 10:15 发现", "面积 88889999 平方米", "12345678901", "坐标 30.2001, 120.2001",
    "门牌 138 号", "3301021990010112345", "浙江省杭州市", "ABC12345", "A12345",
    "", None,
])
def test_leaves_alone_what_is_not_personal(text):
    assert mask_personal_text(text) == text


def test_one_rule_for_fields_and_text():
    assert mask_phone("13812345678") == mask_value("13812345678") == mask_personal_text("13812345678")
    assert mask_personal_text("0571-88889999") == mask_phone("0571-88889999")
