"""What a new tab costs, page by page, apart from the browser's clock: the server's work for a
new session's first run, what it sends, and how much the browser has to draw.

    .venv/bin/python -m bench.newtab [--scale 10] [--rounds 2] [--page partner ...] [--no-browser]

For each page, after one untimed visit of every page (the server's caches hold what an earlier
visitor left, as in bench/browser.py):

- server: a new websocket session (Streamlit's own protocol, as bench/load.py speaks it) runs
  the page once; the wall time to script_finished, the server process's CPU seconds over it,
  and the bytes sent by element type (tables, charts, ...), medians over `--rounds`;
- browser: chromium opens the page in a new tab (bench/browser.py's finished page) and counts
  DOM nodes, the SVG nodes of every Plotly chart, and table canvases. Counts, not times: on
  a shared machine they do not move with the load, and a browser's drawing time grows with them.

The trivial floor page of bench/browser.py is measured the same way beside the app.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import time

PAGE_COUNTS_JS = """() => ({
  nodes: document.getElementsByTagName('*').length,
  chart_svg_nodes: [...document.querySelectorAll('[data-testid=stPlotlyChart]')].map(c => c.querySelectorAll('svg *').length),
  table_canvases: document.querySelectorAll('[data-testid=stDataFrame] canvas').length,
})"""


async def server_run(url: str, page: str, query: str) -> tuple[float, collections.Counter]:
    """One run of the page in a new session: seconds to script_finished, bytes by element type."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    sizes: collections.Counter = collections.Counter()
    async with websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", max_size=None) as ws:
        request = BackMsg()
        request.rerun_script.query_string = query
        request.rerun_script.page_name = page
        started = time.perf_counter()
        await ws.send(request.SerializeToString())
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=300)
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                return time.perf_counter() - started, sizes
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                sizes[message.delta.new_element.WhichOneof("type")] += len(raw)


def main(argv: list[str] | None = None) -> int:
    import psutil

    from bench import browser as bench_browser
    from scripts.screenshots import serve

    parser = argparse.ArgumentParser(prog="python -m bench.newtab", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--page", action="append", help="only these pages (url paths; repeatable)")
    parser.add_argument("--no-browser", action="store_true", help="the server's side only")
    args = parser.parse_args(argv)

    db = bench_browser.ensure_database(args.scale)
    partner = bench_browser.busiest_partner(db)
    pages = [page for page in bench_browser.page_paths() if not args.page or page in args.page]
    query = {page: f"partner={partner}" if page == "partner" and partner else "" for page in pages}
    print(f"scale {args.scale:g}, {len(pages)} pages, medians of {args.rounds} new sessions")
    print("| page | server s | server CPU s | sent kB | tables kB | charts kB | DOM nodes | chart SVG nodes | table canvases |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    with serve(db) as app, bench_browser.floor_server() as floor:
        targets = [("floor", floor, "floor_b", "")] + [(page, app, page, query[page]) for page in pages]
        for _, url, page, q in targets:
            asyncio.run(server_run(url, page, q))  # untimed: caches warm, as for any later visitor
        counts = {}
        if not args.no_browser:
            with bench_browser.chromium() as browser:
                context = bench_browser.new_context(browser)
                for name, url, page, q in targets:
                    tab = context.new_page()
                    counter = bench_browser.RunCounter(tab)
                    tab.goto(f"{url}/{page}" + (f"?{q}" if q else ""), wait_until="commit", timeout=bench_browser.TIMEOUT_MS)
                    bench_browser.finished_at(tab, counter)
                    counts[name] = tab.evaluate(PAGE_COUNTS_JS)
                    tab.close()
                context.close()
        for name, url, page, q in targets:
            process = psutil.Process(url.pid)
            seconds, cpu, sent = [], [], []
            for _ in range(args.rounds):
                before = process.cpu_times()
                took, sizes = asyncio.run(server_run(url, page, q))
                after = process.cpu_times()
                seconds.append(took)
                cpu.append((after.user + after.system) - (before.user + before.system))
                sent.append(sizes)
            sizes = sent[-1]
            shown = counts.get(name, {})
            print(
                f"| {name} | {statistics.median(seconds):.2f} | {statistics.median(cpu):.2f} "
                f"| {sum(sizes.values()) / 1000:,.0f} | {sizes['dataframe'] / 1000:,.0f} | {sizes['plotly_chart'] / 1000:,.0f} "
                f"| {shown.get('nodes', '-')} | {', '.join(map(str, shown.get('chart_svg_nodes', []))) or '-'} "
                f"| {shown.get('table_canvases', '-')} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
