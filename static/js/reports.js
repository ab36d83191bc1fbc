// /reports/: draws the charts (ECharts, vendored) from the figures the page embeds; the tables under each
// chart carry the same numbers for readers who do not see the chart.
const data = JSON.parse(document.getElementById("report-data").textContent);
const echarts = window.echarts;
const lang = document.documentElement.lang || "zh-hans";
const en = lang.startsWith("en");
const t = (zh, eng) => (en ? eng : zh);
// Series colours for figures (not severities or credit colours, which keep their own meaning on maps).
const palette = ["#1f5fa6", "#b35900", "#3c6e47", "#8e24aa", "#9c2f6b", "#00838f", "#6d4c41", "#455a64"];

function chart(id, option) {
  const el = document.getElementById(id);
  if (!el || !echarts) return;
  const c = echarts.init(el, null, { renderer: "svg", locale: en ? "EN" : "ZH" });
  c.setOption({ color: palette, animation: false, tooltip: { trigger: "axis" }, ...option });
  window.addEventListener("resize", () => c.resize());
}

const rows = data.events;
const groupLabel = (r) => (r.label === null ? t("全部", "All") : String(r.label));
const labels = rows.map(groupLabel);
chart("chart-events", {
  legend: {},
  xAxis: { type: "category", data: labels },
  yAxis: { type: "value", minInterval: 1 },
  series: [
    { name: t("受理", "Received"), type: "bar", data: rows.map((r) => r.received) },
    { name: t("已处置", "Resolved"), type: "bar", data: rows.map((r) => r.resolved) },
  ],
});
chart("chart-stages", {
  xAxis: { type: "category", data: data.stages.map((s) => `${s[0]} · ${s[1]}`) },
  yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
  series: [{ name: t("按时率", "On-time rate"), type: "bar", data: data.stages.map((s) => s[4]) }],
});
chart("chart-sources", {
  tooltip: { trigger: "item" },
  series: [{ type: "pie", radius: "65%", data: data.sources.map((s) => ({ name: s[0], value: s[1] })) }],
});
chart("chart-trends", {
  legend: { type: "scroll" },
  xAxis: { type: "category", data: data.trend.buckets },
  yAxis: { type: "value", minInterval: 1 },
  series: data.trend.series.flatMap((s) => [
    { name: s.name, type: "line", data: s.counts, symbol: "circle" },
    { name: `${s.name} ${t("移动平均", "moving avg")}`, type: "line", data: s.moving_average, lineStyle: { type: "dashed" }, symbol: "none" },
  ]),
});
// A bar per figure for each group: [[zh, en, field], …].
function bars(id, rs, figures) {
  chart(id, {
    legend: {},
    xAxis: { type: "category", data: rs.map(groupLabel) },
    yAxis: { type: "value", minInterval: 1 },
    series: figures.map(([zh, eng, field]) => ({ name: t(zh, eng), type: "bar", data: rs.map((r) => r[field]) })),
  });
}
bars("chart-inspections", data.inspections, [
  ["综合检查次数", "Joint visits", "joint_visits"],
  ["被替代的分散检查次数", "Separate visits replaced", "separate_visits_replaced"],
  ["发现问题数", "Problems found", "findings"],
]);
bars("chart-cases", data.cases, [
  ["立案", "Filed", "filed"], ["结案", "Closed", "closed"], ["按期结案", "Closed on time", "closed_on_time"],
]);
