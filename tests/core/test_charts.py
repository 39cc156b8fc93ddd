"""The one chart drawer (core/charts.py + templates/charts/): real sizes, readable text, escaped labels, an empty
state instead of bare axes, hover values and a table view."""
from django.template.loader import render_to_string

from labelstudio_app.core import charts

HOSTILE = '<script>alert(1)</script>"&'


def render(chart: dict) -> str:
    return render_to_string("charts/chart.html", {"chart": chart})


def test_every_label_is_escaped_in_the_svg_the_hover_titles_and_the_table():
    html = "".join(render(c) for c in (
        charts.forest([{"label": HOSTILE, "value": 0.6, "low": 0.5, "high": 0.7, "n": 10}], title=HOSTILE),
        charts.paired_bars([{"label": HOSTILE, "a": {"mean": 3, "low": 2, "high": 4}, "b": {"mean": 4, "low": 3,
                                                                                            "high": 5}}],
                           title="t", labels=(HOSTILE, "b")),
        charts.heatmap([HOSTILE, "b"], [[None, 0.7], [0.3, None]], title="t"),
        charts.lines([{"name": HOSTILE, "points": [(1, 2.0, HOSTILE), (2, 1.0, HOSTILE)]}], title=HOSTILE,
                     x_label=HOSTILE, y_label=HOSTILE)))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "style=" not in html  # the CSP forbids inline styles


def test_a_chart_keeps_its_real_size_and_shows_hover_values_and_a_table():
    chart = charts.forest([{"label": "总体 overall", "value": 0.62, "low": 0.51, "high": 0.72, "n": 88}],
                          title="Win rate", value_name="Win rate")
    html = render(chart)
    assert f'width="{chart["width"]}"' in html and chart["width"] >= 600  # never squeezed into a 333 px card
    assert "<title>总体 overall: 62% [51% – 72%] n=88</title>" in html  # the hover value
    assert "Show as a table" in html and "<td class=\"num\">51% – 72%</td>" in html
    assert 'class="interval"' in html  # the interval bar


def test_an_empty_chart_says_so_instead_of_drawing_bare_axes():
    for chart in (charts.forest([], title="t", empty="No judgments yet."),
                  charts.paired_bars([{"label": "x", "a": {"mean": None}, "b": {"mean": None}}], title="t",
                                     labels=("a", "b"), empty="No judgments yet."),
                  charts.heatmap([], [], title="t", empty="No judgments yet."),
                  charts.lines([{"name": "loss", "points": []}], title="t", x_label="x", y_label="y",
                               empty="No judgments yet.")):
        html = render(chart)
        assert "No judgments yet." in html and "<svg" not in html


def test_legend_entries_do_not_overlap_even_with_long_or_cjk_names():
    chart = charts.lines([{"name": "训练损失 training loss", "points": [(1, 1.0)]},
                          {"name": "held-out eval loss", "points": [(1, 2.0)]}], title="t", x_label="step",
                         y_label="loss")
    first, second = chart["legend"]
    assert second["x"] >= first["text_x"] + charts.text_width("训练损失 training loss")


def test_ticks_are_round_numbers_and_whole_steps_on_a_step_axis():
    assert charts.nice_ticks(0.13, 0.87) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    chart = charts.lines([{"name": "loss", "points": [(1, 2.0), (2, 1.5), (3, 1.0)]}], title="t", x_label="step",
                         y_label="loss")
    assert [t["label"] for t in chart["x_ticks"]] == ["1", "2", "3"]
