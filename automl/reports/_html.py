"""HTML pieces of the report pages: the page shell, header, cards, panels and tables.

Shared by the study dashboard (``_dashboard.py``), the live dashboard
(``_server.py``, which serves plotly.js separately so that reloads stay cheap) and
the comparison page (``_compare.py``). All text goes through ``html.escape``.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Panels whose title contains one of these words take the full width of the grid.
_WIDE_PANEL_WORDS = ("parallel", "timeline", "slice", "learning curve", "diagnostics")

# ---------------------------------------------------------------------------
# HTML pieces (all text goes through html.escape)


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _slug(text: str, index: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40]
    return f"panel-{index}-{slug}" if slug else f"panel-{index}"


def _header_html(title: str, subtitle: str, *, live: bool = False) -> str:
    live_html = ""
    if live:
        live_html = (
            '<div class="live" id="live-status" data-live-state="waiting">'
            '<span class="dot"></span><span class="live-text">live</span>'
            '<label><input type="checkbox" id="live-auto" checked> auto-refresh</label></div>'
        )
    sub = f'<p class="subtitle">{_esc(subtitle)}</p>' if subtitle else ""
    return f'<header class="top"><div><h1>{_esc(title)}</h1>{sub}</div>{live_html}</header>'


def _cards_html(cards: Iterable[tuple[str, str]]) -> str:
    items = "".join(
        f'<div class="card" data-card="{_esc(label)}"><div class="card-label">{_esc(label)}</div>'
        f'<div class="card-value">{_esc(value)}</div></div>'
        for label, value in cards
    )
    return f'<section class="cards" aria-label="Summary">{items}</section>'


def _meta_html(rows: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return ""
    items = "".join(
        f'<div class="meta-item"><dt>{_esc(label)}</dt><dd>{_esc(value)}</dd></div>'
        for label, value in rows
    )
    return f'<section class="meta" aria-label="Study"><dl>{items}</dl></section>'


def _panel_ids(titles: Iterable[str]) -> list[str]:
    return [_slug(title, i) for i, title in enumerate(titles)]


def _is_wide(title: str, figure) -> bool:
    lowered = str(title).lower()
    if any(word in lowered for word in _WIDE_PANEL_WORDS):
        return True
    layout = figure.get("layout", {}) if isinstance(figure, Mapping) else None
    if layout is None:
        try:
            layout = figure.layout.to_plotly_json()
        except AttributeError:
            return False
    return sum(1 for key in layout if re.fullmatch(r"xaxis\d*", key)) >= 3  # many subplots


def _layout_panels(figures: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """``(panel id, title, wide)`` in display order on a two-column grid.

    Wide panels take a row; a half-width panel fills the earliest row that still has
    room (so a wide panel does not leave a hole after a half one), and a half panel
    left alone in the last open row is widened.
    """
    rows: list[list[tuple[str, str, bool]]] = []
    open_row = None
    for pid, (title, figure) in zip(_panel_ids(figures), figures.items()):
        if _is_wide(title, figure):
            rows.append([(pid, title, True)])
        elif open_row is not None:
            open_row.append((pid, title, False))
            open_row = None
        else:
            open_row = [(pid, title, False)]
            rows.append(open_row)
    if open_row is not None:
        pid, title, _ = open_row[0]
        open_row[0] = (pid, title, True)
    return [panel for row in rows for panel in row]


def _panels_html(figures: Mapping[str, Any]) -> str:
    panels = [
        f'<section class="panel{" wide" if wide else ""}" id="{pid}" data-panel="{_esc(title)}" '
        f'data-rendered="false"><h2>{_esc(title)}</h2><div class="plot"></div></section>'
        for pid, title, wide in _layout_panels(figures)
    ]
    return f'<main class="grid">{"".join(panels)}</main>'


def _table_section_html(title: str, table, *, table_id: str, max_rows: int = 5000) -> str:
    """A titled section holding ``table`` (a pandas DataFrame) as a sortable HTML table."""
    n_rows = 0 if table is None else len(table)
    note = ""
    if n_rows > max_rows:
        note = f'<p class="note">First {max_rows} of {n_rows} rows.</p>'
        table = table.iloc[:max_rows]
    body = _table_html(table, table_id=table_id) if n_rows else '<p class="note">No rows yet.</p>'
    return (
        f'<section class="panel wide table-panel" data-panel="{_esc(title)}" '
        f'data-rendered="true"><h2>{_esc(title)}</h2>{note}<div class="table-wrap">{body}'
        "</div></section>"
    )


def _table_html(table, *, table_id: str) -> str:
    columns = [str(c) for c in table.columns]
    values = table.to_numpy(dtype=object).tolist() if len(columns) else []
    numeric = [_is_numeric_column(row[j] for row in values) for j in range(len(columns))]
    heads = "".join(
        f'<th scope="col" data-col="{j}" data-type="{"number" if numeric[j] else "text"}" '
        f'aria-sort="none" tabindex="0" title="Sort by {_esc(name)}">{_esc(name)}</th>'
        for j, name in enumerate(columns)
    )
    rows = []
    for row in values:
        cells = []
        for value, is_num in zip(row, numeric):
            text = _cell_text(value)
            key = _sort_key(value) if is_num else None
            attr = f' data-value="{_esc(key)}"' if key is not None else ""
            cells.append(f"<td{attr}{' class=num' if is_num else ''}>{_esc(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table id="{_esc(table_id)}" class="sortable" data-sortable="true">'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NaT or (not isinstance(value, (list, tuple, dict)) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_numeric_column(values: Iterable) -> bool:
    seen = False
    for value in values:
        if _is_missing(value):
            continue
        if _sort_key(value) is None:
            return False
        seen = True
    return seen


def _sort_key(value) -> str | None:
    """A number for numeric sorting (durations in seconds, times as epoch seconds), else None."""
    if isinstance(value, bool) or _is_missing(value):
        return None
    if isinstance(value, numbers.Real):
        return repr(float(value))
    seconds = getattr(value, "total_seconds", None)  # timedelta
    if callable(seconds):
        return repr(float(seconds()))
    stamp = getattr(value, "timestamp", None)  # datetime / Timestamp
    if callable(stamp):
        return repr(float(stamp()))
    return None


def _cell_text(value) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    if hasattr(value, "total_seconds"):
        return f"{value.total_seconds():.1f} s"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


# ---------------------------------------------------------------------------
# JSON inside <script type="application/json">


def _script_json(text: str) -> str:
    """JSON text made safe inside a <script> element.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\\uXXXX``
    escapes mean the same, so no ``</script>`` or ``<!--`` can end the element.
    """
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _figure_json(figure, title: str | None = None) -> str:
    """The figure as plotly JSON; its own title is dropped when the panel shows it."""
    import plotly.io as pio

    if isinstance(figure, Mapping):
        spec = json.loads(json.dumps(figure, default=str))
    else:
        spec = json.loads(pio.to_json(figure, validate=False))
    layout = spec.setdefault("layout", {})
    text = layout.get("title", {}).get("text") if isinstance(layout.get("title"), dict) else None
    if title is not None and text is not None and str(text) == str(title):
        del layout["title"]
        margin = layout.setdefault("margin", {})
        margin["t"] = min(margin.get("t", 40), 40)
    try:
        return json.dumps(spec, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN / inf are not JSON: null, as plotly.js expects for gaps
        return json.dumps(_finite_json(spec), allow_nan=False, separators=(",", ":"))


def _finite_json(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_json(v) for v in obj]
    return obj


def _figures_json(figures: Mapping[str, Any]) -> str:
    items = [
        f'{{"id":{json.dumps(pid)},"title":{json.dumps(str(title))},"figure":{_figure_json(fig, title)}}}'
        for pid, (title, fig) in zip(_panel_ids(figures), figures.items())
    ]
    return _script_json("[" + ",".join(items) + "]")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # plotly.js holds no "</script"; guard anyway so the inline element cannot end early.
    return re.sub(r"</(script)", r"<\\/\1", get_plotlyjs(), flags=re.IGNORECASE)


# ---------------------------------------------------------------------------
# The page shell


def _page(
    *,
    title: str,
    body: str,
    figures: Mapping[str, Any],
    live: Mapping[str, Any] | None = None,
    generator: str | None = None,
) -> str:
    """A complete page: ``body`` HTML, the figures drawn into their panels, scripts."""
    from automl import __version__

    if live is None:
        plotly = f"<script>{_plotly_js()}</script>" if figures else ""
        live_attrs = ""
        live_script = ""
    else:
        plotly = f'<script src="{_esc(live["plotly_src"])}"></script>' if figures else ""
        live_attrs = (
            f' data-live="true" data-version="{_esc(live["version"])}"'
            f' data-refresh-ms="{int(float(live["refresh_s"]) * 1000)}"'
        )
        live_script = f"<script>{_LIVE_JS}</script>"
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    footer = generator or f"automl {__version__}"
    return f"""<!DOCTYPE html>
<html lang="en" data-js-errors="0" data-panels-total="{len(figures)}" data-panels-rendered="0"{live_attrs}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{_esc(footer)}">
<title>{_esc(title)}</title>
<style>{_CSS}</style>
<script>{_ERRORS_JS}</script>
{plotly}
</head>
<body>
{body}
<pre id="automl-js-errors" class="js-errors" hidden></pre>
<footer>Generated by {_esc(footer)} on {_esc(stamp)}.</footer>
<script type="application/json" id="automl-figures">{_figures_json(figures)}</script>
<script>{_RENDER_JS}</script>
{live_script}
</body>
</html>
"""


_CSS = """
:root{--bg:#f4f6f9;--fg:#1d2430;--muted:#5b6577;--card:#fff;--line:#dde2ea;--accent:#2f6fde}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px 32px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
header.top{display:flex;justify-content:space-between;align-items:flex-start;gap:16px}
h1{font-size:22px;margin:0 0 2px}
.subtitle{margin:0;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card-value{font-size:20px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}
.meta dl{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 16px;padding:10px 14px;
background:var(--card);border:1px solid var(--line);border-radius:8px}
.meta-item{display:flex;gap:6px}
.meta dt{color:var(--muted)}
.meta dd{margin:0;font-weight:500;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
@media (max-width:1000px){.grid{grid-template-columns:minmax(0,1fr)}}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
.panel.wide{grid-column:1/-1}
.panel h2{font-size:15px;margin:0 0 6px}
.plot{min-height:380px}
.panel-error{color:#a61b1b;padding:12px}
.table-panel{margin-top:16px}
.table-wrap{overflow:auto;max-height:640px}
table.sortable{border-collapse:collapse;width:100%;font-size:12.5px}
table.sortable th,table.sortable td{padding:4px 8px;border-bottom:1px solid var(--line);white-space:nowrap;text-align:left}
table.sortable td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{position:sticky;top:0;background:#eef1f6;cursor:pointer;user-select:none}
table.sortable th:hover{background:#e2e7f0}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
table.sortable tbody tr:hover{background:#f3f6fb}
.note{color:var(--muted);margin:4px 0}
.error-box{background:#fff4f4;border:1px solid #e7b4b4;border-radius:8px;padding:14px 18px;margin:16px 0}
.error-box code{background:#fbe3e3;padding:1px 4px;border-radius:3px}
.live{display:flex;align-items:center;gap:8px;color:var(--muted);font-size:13px;
background:var(--card);border:1px solid var(--line);border-radius:16px;padding:4px 12px}
.live .dot{width:9px;height:9px;border-radius:50%;background:#9aa3b2}
.live[data-live-state=ok] .dot{background:#23a55a}
.live[data-live-state=offline] .dot{background:#d93f3f}
.js-errors{color:#a61b1b;white-space:pre-wrap}
footer{margin-top:20px;color:var(--muted);font-size:12px}
""".strip()

# Records uncaught errors, rejected promises and console.error calls in the DOM
# (<html data-js-errors>, <pre id=automl-js-errors>), so a headless browser's
# --dump-dom shows them. Runs before plotly.js.
_ERRORS_JS = """
(function(){"use strict";var errs=[];window.__automlErrors=errs;
function show(){var r=document.documentElement;r.setAttribute("data-js-errors",String(errs.length));
var el=document.getElementById("automl-js-errors");if(el&&errs.length){el.hidden=false;el.textContent=errs.join("\\n");}}
function rec(msg){errs.push(String(msg));show();}
window.__automlRecordError=rec;
window.addEventListener("error",function(e){rec(e.message||(e.target&&e.target.src?"failed to load "+e.target.src:"error"));},true);
window.addEventListener("unhandledrejection",function(e){var r=e.reason;rec("Unhandled rejection: "+(r&&r.message?r.message:r));});
var ce=console.error;console.error=function(){rec(Array.prototype.map.call(arguments,String).join(" "));return ce.apply(console,arguments);};
document.addEventListener("DOMContentLoaded",show);
})();
""".strip()

# Draws every figure into its panel and makes tables sortable.
_RENDER_JS = """
(function(){"use strict";var root=document.documentElement,rec=window.__automlRecordError,done=0,items=[];
try{items=JSON.parse(document.getElementById("automl-figures").textContent);}catch(e){rec("figures JSON: "+e.message);}
function fail(panel,e){var msg=e&&e.message?e.message:String(e);panel.setAttribute("data-rendered","error");
var div=panel.querySelector(".plot");if(div){div.innerHTML="";var p=document.createElement("p");p.className="panel-error";
p.textContent="This panel could not be drawn: "+msg;div.appendChild(p);}rec("panel "+panel.getAttribute("data-panel")+": "+msg);}
items.forEach(function(item){var panel=document.getElementById(item.id);if(!panel){return;}
var div=panel.querySelector(".plot");try{if(typeof Plotly==="undefined"){throw new Error("plotly.js is not loaded");}
var fig=item.figure||{},layout=fig.layout||{};delete layout.width;layout.autosize=true;
Plotly.newPlot(div,fig.data||[],layout,{responsive:true,displaylogo:false}).then(function(){
panel.setAttribute("data-rendered","true");done+=1;root.setAttribute("data-panels-rendered",String(done));},
function(e){fail(panel,e);});}catch(e){fail(panel,e);}});
function key(cell,numeric){var v=cell.getAttribute("data-value");if(numeric){var x=parseFloat(v===null?cell.textContent:v);return isNaN(x)?null:x;}
var t=cell.textContent;return t===""?null:t;}
function sortBy(table,th,col){var asc=th.getAttribute("aria-sort")!=="ascending",numeric=th.getAttribute("data-type")==="number";
Array.prototype.forEach.call(th.parentNode.cells,function(c){c.setAttribute("aria-sort","none");});
th.setAttribute("aria-sort",asc?"ascending":"descending");var body=table.tBodies[0];
var rows=Array.prototype.map.call(body.rows,function(r,i){return {row:r,key:key(r.cells[col],numeric),i:i};});
rows.sort(function(a,b){if(a.key===null||b.key===null){return a.key===b.key?a.i-b.i:(a.key===null?1:-1);}
var c=numeric?a.key-b.key:String(a.key).localeCompare(String(b.key),undefined,{numeric:true});
if(c===0){return a.i-b.i;}return asc?c:-c;});rows.forEach(function(r){body.appendChild(r.row);});}
Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"),function(table){
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
th.addEventListener("click",function(){sortBy(table,th,col);});
th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();sortBy(table,th,col);}});});});
})();
""".strip()

# Live dashboard: polls api/version and reloads the page when finished trials change.
_LIVE_JS = """
(function(){"use strict";var root=document.documentElement,current=root.getAttribute("data-version"),
every=parseInt(root.getAttribute("data-refresh-ms"),10)||5000,box=document.getElementById("live-status"),
auto=document.getElementById("live-auto");
function state(s,text){if(box){box.setAttribute("data-live-state",s);var t=box.querySelector(".live-text");if(t){t.textContent=text;}}}
function poll(){fetch("api/version",{cache:"no-store"}).then(function(r){return r.json();}).then(function(v){
var when=new Date().toLocaleTimeString();
if(v.version!==current){if(!auto||auto.checked){location.reload();return;}state("ok","new results · refresh to see them");return;}
state("ok","live · "+v.finished+" finished · checked "+when);}).catch(function(){state("offline","server not reachable");});}
state("ok","live");setInterval(poll,every);
})();
""".strip()
