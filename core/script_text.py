"""The strings page scripts show, translated on the server (the scripts have no catalog of their own).

One table, so a label the desk, the map and the phone page share is written once. A page's view picks
the keys its script needs into its configuration (`"messages": script_text.pick(...)`), which the
template hands over with `json_script` (data, not code: nothing for the Content Security Policy to refuse).
"""
from django.utils.translation import gettext_lazy as _

TEXT = {
    # shared
    "failed": _("操作失败"), "left": _("剩余"), "overdue": _("超时"), "noDeadline": _("无时限"),
    "loading": _("加载中…"), "subjectsCount": _("个对象"), "truncated": _("对象过多，仅显示部分，请放大地图"),
    "credit": _("信用"),
    "subjectFile": _("一户一档"), "returnReason": _("退回重办原因"),
    "creditColors": {"red": _("红"), "yellow": _("黄"), "green": _("绿"), "none": _("未评分")},
    # the desk and the big screen
    "live": _("实时"), "down": _("已断开"), "connecting": _("连接中…"), "resyncing": _("同步中…"),
    "mute": _("静音"), "unmute": _("取消静音"),
    "shown": _("显示"), "of": _("共"), "refine": _("条，请用筛选缩小范围"),
    "redEvent": _("红色事件"), "breach": _("超时告警"), "moreAlerts": _("条告警（见队列）"),
    "details": _("详情"), "photos": _("照片"), "timeline": _("时间线"),
    "deadlines": _("时限"), "candidates": _("推荐处置人"),
    "dispatch": _("派遣"), "reassign": _("改派"), "met": _("已完成"),
    "description": _("描述"), "address": _("地址"), "street": _("镇街"), "grid": _("村社 · 网格"),
    "team": _("责任执法队"), "officer": _("当前处置人"), "source": _("来源"),
    "reporter": _("上报人"), "created": _("受理时间"), "routing": _("分拨依据"),
    "subject": _("涉及对象"), "duplicate": _("疑似重复"), "escalation": _("升级层级"),
    "stale": _("事件已被他人修改，已刷新，请确认后重试。"), "gone": _("事件已不在您的待办范围内。"),
    "meters": _("米"), "load": _("在办"), "rank": _("职级"),
    "ago": _("前"), "min": _("分钟"), "heading": _("朝向"), "visit": _("今日检查"),
    # the desk's drawer when the ranking leaves officers out, and the override
    "excludedHead": _("未列入推荐："), "excludedItem": _("{n} 人{label}"),
    "noneEligible": _("没有符合条件的推荐处置人。"),
    "overrideHead": _("指定推荐以外的本街道在岗队员"), "overrideOfficer": _("队员"),
    "overrideWhy": _("未列入推荐的原因："), "overrideReason": _("指定理由（必填，记入时间线）"),
    "overrideConfirm": _("我已知悉上述原因，仍确认派遣该队员"), "overrideSubmit": _("指定派遣"),
    "overrideNone": _("本街道没有可指定的在岗队员。"),
    "severity": _("等级"), "subjectCluster": _("个管理对象，按回车放大查看"),
    # the officers' phone page
    "late": _("已超时"), "working": _("提交中…"), "submitted": _("已提交"),
    "network": _("网络异常，请重试。"), "reasonRequired": _("请填写退回原因。"),
    "resultRequired": _("请填写处置结果。"), "tooMany": _("照片过多"),
    "gpsOff": _("本机不支持定位"), "gpsDenied": _("定位未授权，请在浏览器设置中允许定位"),
    "gpsWaiting": _("正在定位…"), "gpsSent": _("位置已上报"), "gpsFailed": _("位置上报失败"),
    "confirmDecline": _("确认退回该任务？"),
    "newTask": _("新任务"), "reassignedTask": _("改派给您的任务"), "withdrawnTask": _("任务已撤回"),
    "soundOn": _("提示音已开启"), "polling": _("实时连接已断开，每隔一段时间自动刷新"),
    # case deadlines (case.deadline) on the desk and the leader's pages
    "caseDue": _("⏰ 案件即将到期"), "caseOverdue": _("⚠ 案件已超期"), "caseDueAt": _("本环节期限"),
    # the same pushes for appeals (kind "appeal") and colour appeals (kind "color_appeal")
    "appealDue": _("⏰ 复议/申诉即将到期"), "appealOverdue": _("⚠ 复议/申诉已超期"), "appealDueAt": _("办理期限"),
    "colorAppealDue": _("⏰ 信用颜色复议/申诉即将到期"), "colorAppealOverdue": _("⚠ 信用颜色复议/申诉已超期"),
}

DESK = ("failed", "left", "overdue", "noDeadline", "subjectsCount", "truncated", "live", "down", "connecting",
        "resyncing", "mute", "unmute", "shown", "of", "refine", "redEvent", "breach", "moreAlerts", "details",
        "photos", "timeline", "deadlines", "candidates", "dispatch", "reassign", "met", "description", "address",
        "street", "grid", "team", "officer", "source", "reporter", "created", "routing", "subject", "duplicate",
        "escalation", "stale", "gone", "meters", "load", "rank", "ago", "min", "heading", "severity", "subjectCluster",
        "visit", "excludedHead", "excludedItem", "noneEligible", "overrideHead", "overrideOfficer", "overrideWhy",
        "overrideReason", "overrideConfirm", "overrideSubmit", "overrideNone", "subjectFile", "returnReason")
CASE_ALERTS = ("caseDue", "caseOverdue", "caseDueAt", "appealDue", "appealOverdue", "appealDueAt", "colorAppealDue",
               "colorAppealOverdue")
DESK = DESK + CASE_ALERTS
MAP = ("loading", "subjectsCount", "truncated", "credit", "creditColors", "subjectCluster", "subjectFile")
PHONE = ("left", "late", "noDeadline", "working", "submitted", "failed", "network", "reasonRequired",
         "resultRequired", "tooMany", "gpsOff", "gpsDenied", "gpsWaiting", "gpsSent", "gpsFailed", "confirmDecline",
         "newTask", "reassignedTask", "withdrawnTask", "soundOn", "live", "polling", "connecting")


def pick(keys) -> dict:
    """The translated strings of `keys`, in the request's language (plain str: ready for json_script)."""
    def text(value):
        return {k: str(v) for k, v in value.items()} if isinstance(value, dict) else str(value)

    return {key: text(TEXT[key]) for key in keys}
