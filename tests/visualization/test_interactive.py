"""bandster.visualization.interactive (HpBandSter's interactive plot) and .tool_tips."""

import matplotlib.pyplot as plt
from analysis_helpers import check_png

from bandster import visualization as vis


def test_tool_tips(known, bohb_result):
    tips = vis.default_tool_tips(known, known.get_learning_curves(), include_run_info=True)
    assert tips[(0, 0, 2)] == ("config_id: (0, 0, 2)\n  x: 0.9\n  kind: a\nmodel based pick: False\n"
                               "budget 1: failed, 2 s")
    lcs = bohb_result.get_learning_curves()
    tips = vis.default_tool_tips(bohb_result, lcs, include_run_info=True)
    assert set(tips) == set(lcs) and all(t.startswith("config_id: ") for t in tips.values())
    assert "budget 1: " in next(iter(tips.values()))


def test_figure(bohb_result, tmp_path, shows):
    lcs = bohb_result.get_learning_curves()
    tips = vis.default_tool_tips(bohb_result, lcs)
    fig, ax, check, none_button, all_button = vis.interactive_HBS_plot(lcs, tool_tip_strings=tips, log_x=True,
                                                                        title="curves")
    assert ax.get_xscale() == "log" and ax.get_title() == "curves"
    check_png(fig, tmp_path / "interactive_HBS_plot.png")
    assert shows == []  # nothing was shown (the interactive plot shows itself only on an interactive backend)


def test_interactive_widgets(bohb_result, shows):
    lcs = bohb_result.get_learning_curves()
    ids = list(lcs)
    colors = {cid: 0.0 for cid in ids}
    fig, ax, check, none_button, all_button = vis.interactive_HBS_plot(lcs, colors_floats=colors, log_y=True,
                                                                        reset_times=True, show=False)
    assert ax.get_yscale() == "log"
    assert len({tuple(line.get_color()) for line in ax.lines}) == 1  # colors_floats is honoured
    # one check box per iteration, as in HpBandSter (not one per configuration: issue 11, item 17)
    iterations = sorted({cid[0] for cid in ids})
    assert [t.get_text() for t in check.labels] == [f"iteration {i}" for i in iterations]
    assert len(ids) > len(iterations)
    first = [line for line in ax.lines if line.get_label() in {str(c) for c in ids if c[0] == iterations[0]}]
    assert first and all(line.get_visible() for line in first)
    check.set_active(0)
    assert not any(line.get_visible() for line in first)
    assert any(line.get_visible() for line in ax.lines)  # the other iterations stay
    check.set_active(0)
    assert all(line.get_visible() for line in first)
    check.set_active(0)
    none_button._observers.process("clicked", None)
    assert not any(line.get_visible() for line in ax.lines) and not any(check.get_status())
    all_button._observers.process("clicked", None)
    assert all(line.get_visible() for line in ax.lines) and all(check.get_status())
    plt.close(fig)
    assert shows == []
    fig, *_ = vis.interactive_HBS_plot(lcs, show=True)
    plt.close(fig)
    assert shows == [1]


def test_interactive_plot_groups_warm_start_data(shows):
    lcs = {(-1, 0, 0): [[(1.0, 0.5)]], (0, 0, 0): [[(1.0, 0.4)]], (0, 0, 1): [[(1.0, 0.3)]], (1, 0, 0): [[(3.0, 0.2)]]}
    fig, ax, check, *_ = vis.interactive_HBS_plot(lcs, show=False)
    assert [t.get_text() for t in check.labels] == ["warmstart data", "iteration 0", "iteration 1"]
    check.set_active(0)
    assert [line.get_visible() for line in ax.lines] == [False, True, True, True]
    plt.close(fig)
