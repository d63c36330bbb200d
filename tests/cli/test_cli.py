import os
import subprocess
import sys

import bandster


def test_version_from_console_script():
    exe = os.path.join(os.path.dirname(sys.executable), "bandster")
    cmd = [exe, "--version"] if os.path.exists(exe) else [sys.executable, "-m", "bandster", "--version"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"bandster {bandster.__version__}"


def test_help_texts_are_plain_text(capsys):
    """Issue 11, item 10: no reStructuredText markup and no doubled or empty defaults in any ``--help``."""
    import re

    import pytest

    from bandster.cli import SUBCOMMANDS
    from bandster.cli import main as cli_main

    for command in SUBCOMMANDS:
        with pytest.raises(SystemExit):
            cli_main([command, "--help"])
        out = capsys.readouterr().out
        assert "``" not in out and not re.search(r":(func|class|meth|mod|attr):`", out), (command, out)
        assert "(default: None)" not in out, (command, out)
        options = re.split(r"\n  (?=-)", out)
        assert all(o.count("(default") <= 1 for o in options), (command, out)
    with pytest.raises(SystemExit):
        cli_main(["report", "--help"])
    assert "the HTML file to write (default: DIR/report.html;\n" in capsys.readouterr().out


def test_plan_counts_in_words(capsys):
    from bandster.cli import main as cli_main

    assert cli_main(["plan", "--min-budget", "1", "--max-budget", "1", "--n-iterations", "1"]) == 0
    assert "overall: 1 iteration, 1 run of 1 configuration," in capsys.readouterr().out


def test_optimizers_page_names_all_six():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "optimizers.md")) as fh:
        text = fh.read()
    assert "All three" not in text
    for name in ("RandomSearch(", "HyperBand(", "BOHB(", "ASHA(", "AsyncHyperBand(", "AsyncBOHB("):
        assert f"| `{name}" in text, name
