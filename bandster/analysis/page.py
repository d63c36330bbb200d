"""HTML pieces shared by the report (:mod:`bandster.analysis.report`) and the dashboard
(:mod:`bandster.analysis.dashboard`): styles, scripts, embedded data, the runs table and the interactive figures.

The scripts are small files in ``bandster/analysis/assets`` (the runs table, drawing the figures, the
dashboard's updates) plus plotly.js from the ``plotly`` package, which the report embeds whole so that the file
opens offline. Data reaches the page only as JSON inside ``<script type="application/json">`` elements and is
put into the page with ``textContent``, never as HTML.
"""

from __future__ import annotations

import html
import json
import math
from functools import cache, lru_cache
from importlib import resources
from typing import Any

try:  # optional (the ``report`` extra): writes the dashboard's large answers ten times faster than json
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the installation
    _orjson = None

__all__ = ["asset", "plotly_js", "json_script", "figures_html", "runs_table_html", "escape", "has_plotly"]

PLOTLY_MISSING = ("the interactive figures need plotly.js, which the plotly package ships: "
                  "pip install 'bandster[report]' (or pip install plotly)")


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


@cache
def asset(name: str) -> str:
    """The text of ``bandster/analysis/assets/<name>``."""
    return resources.files("bandster.analysis").joinpath("assets", name).read_text(encoding="utf-8")


def has_plotly() -> bool:
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js (minified, about 4.6 MiB) from the ``plotly`` package.

    Raises
    ------
    ImportError
        Without the ``plotly`` package, saying how to install it.
    """
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as err:
        raise ImportError(PLOTLY_MISSING) from err
    return get_plotlyjs()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Strict JSON (NaN and infinities as null; other non-JSON values as their ``str``); written by orjson when it
    is installed (the ``report`` extra: ten times faster on the dashboard's figures of 100,000 runs)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=str,
                                 option=_orjson.OPT_NON_STR_KEYS | _orjson.OPT_SERIALIZE_NUMPY).decode()
        except (TypeError, ValueError):  # e.g. an integer beyond 64 bits: the json module writes it
            pass
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_json_safe(value), separators=(",", ":"), allow_nan=False, default=str)


def json_script(value: Any, **attributes: str) -> str:
    """``value`` as JSON in a ``<script type="application/json">`` element (``</`` escaped so it cannot end it)."""
    attrs = "".join(f' {name.replace("_", "-")}="{escape(v)}"' for name, v in attributes.items())
    text = to_json(value).replace("</", "<\\/").replace("<!--", "<\\!--")
    return f'<script type="application/json"{attrs}>{text}</script>'


def figures_html(figures: list[tuple[str, str, dict]]) -> str:
    """One ``<figure>`` per ``(name, caption, plotly spec)``, page-wide, drawn by ``figures.js``."""
    parts = []
    for name, caption, spec in figures:
        plot = f"plot-{name}"
        parts.append(f'<figure id="fig-{escape(name)}" data-figure="{escape(name)}"><div class="plot" '
                     f'id="{escape(plot)}"></div>{json_script(spec, data_figure_spec=plot)}'
                     f"<figcaption>{escape(caption)}</figcaption></figure>")
    return "".join(parts)


def runs_table_html(table: dict, element_id: str = "runs-table") -> str:
    """The runs table's container and its data (``RunsTable.to_dict()``), set up by ``runs_table.js``."""
    return (f'<div id="{escape(element_id)}" class="runs-table"></div>'
            f"{json_script(table, id=element_id + '-data')}")


def scripts(*names: str, plotly: bool = False) -> str:
    """Inline ``<script>`` elements of the named assets (and plotly.js first, when asked)."""
    parts = []
    if plotly:
        parts.append(f"<script>{plotly_js()}</script>")
    parts.extend(f"<script>{asset(name)}</script>" for name in names)
    return "".join(parts)
