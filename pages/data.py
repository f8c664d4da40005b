"""Data: are the extracts loaded, fresh and clean, what was rejected and why; upload new ones."""

from __future__ import annotations

import polars as pl
import streamlit as st

import queries
import state
import ui
from loaders import uploads
from queries import glossary

ui.require_frame()
st.title("Data")
problem = state.db_problem()

if problem == "missing":
    st.subheader("No data loaded yet")
    st.markdown(
        "Partner Pulse reads extracts of your partner program (partners, opportunities, touchpoints, "
        "registrations, payouts, activities). Load your own below, or start with the demo program: "
        "about 500 partners and 20,000 deals over three years."
    )
    if st.button("Load the demo program", type="primary", icon=":material/play_arrow:"):
        with st.status("Building the demo program...", expanded=True) as status:
            report = uploads.build_demo(progress=lambda fraction, message: status.write(message))
            status.update(label="Demo program loaded", state="complete")
        st.rerun()
elif problem:
    st.error(problem, icon=":material/error:")
    source, _ = uploads.current_source()
    if source is not None and st.button(f"Rebuild from the same extracts ({source})", type="primary", icon=":material/refresh:"):
        with st.status("Rebuilding...", expanded=True) as status:
            try:
                uploads.rebuild_served(progress=lambda fraction, message: status.write(message))
            except uploads.UploadRefused as refused:
                status.update(label="Rebuild refused", state="error")
                st.error(str(refused), icon=":material/error:")
                st.stop()
            status.update(label="Rebuilt", state="complete")
        st.rerun()
else:
    info = ui.meta()
    st.caption(
        f"Built {info.get('built_at', '?')} from `{info.get('source_dir', '?')}`"
        + (f" with the {info['preset']} preset" if info.get("preset") else "")
        + f"; amounts in {info.get('reporting_currency', 'USD')}."
    )
    report = queries.run("load_report")
    read, loaded, quarantined = (int(report[c].sum()) for c in ("rows_read", "rows_loaded", "rows_quarantined"))
    cards = st.columns(3)
    rows_help = glossary.tooltip("rows_quarantined")
    cards[0].metric("Rows read", f"{read:,}", help=rows_help)
    cards[1].metric("Rows loaded", f"{loaded:,}", help=rows_help)
    cards[2].metric("Rows quarantined", f"{quarantined:,}", help=rows_help)
    st.subheader("Load report")
    ui.table(
        report,
        "load_report.csv",
        column_config={
            "table_name": "Table",
            "source_file": "File",
            "status": "Status",
            "rows_read": st.column_config.NumberColumn("Read", format="localized"),
            "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
            "rows_quarantined": st.column_config.NumberColumn("Quarantined", format="localized"),
            "latest_date": st.column_config.DateColumn("Data as of", help=glossary.tooltip("data_as_of"), format=ui.DATE_FORMAT),
            "quarantine_alarm": st.column_config.CheckboxColumn("Alarm", help=glossary.tooltip("quarantine_alarm")),
            "warnings": st.column_config.TextColumn("Warnings", width="large"),
            "encoding": st.column_config.TextColumn("Encoding", help=glossary.tooltip("encoding")),
            "settings_snippet": None,  # shown whole below; the CSV keeps it
        },
    )
    for row in report.filter(pl.col("warnings").fill_null("") != "").iter_rows(named=True):
        alarm = row["quarantine_alarm"]
        with st.expander(f"{ui.table_label(row['table_name'])} ({row['source_file']}): warnings", expanded=alarm,
                         icon=":material/report:" if alarm else ":material/info:"):
            st.markdown("\n".join(f"- {ui.as_plain_text(line)}" for line in row["warnings"].splitlines()))
            if row["settings_snippet"]:
                st.caption("Paste into your settings TOML and build again to give these stages an order and a probability:")
                st.code(row["settings_snippet"], language="toml")

    st.subheader("Quarantined rows")
    # Rows as read can hold any partner's data and payout amounts: for admins only.
    rejected = queries.run("quarantine") if ui.may("quarantine") else None
    if rejected is None:
        st.caption("The quarantined rows themselves are shown to admins.")
    elif rejected.is_empty():
        st.success("No row was rejected.", icon=":material/check_circle:")
    else:
        left, right = st.columns([1, 2])
        tables = ["All tables", *rejected["table_name"].unique().sort().to_list()]
        table_choice = left.selectbox("Table", tables, key="data_table")
        search = right.text_input("Reason contains", key="data_reason", placeholder="e.g. duplicate, stage, partner_id")
        shown = rejected
        if table_choice != "All tables":
            shown = shown.filter(pl.col("table_name") == table_choice)
        if search:
            shown = shown.filter(pl.col("reason").str.contains(search, literal=True))
        ui.table(
            shown,
            "quarantine.csv",
            column_config={
                "table_name": "Table",
                "source_file": "File",
                "line_number": st.column_config.NumberColumn("Line", format="%d"),
                "reason": st.column_config.TextColumn("Reason", width="large"),
                "row": st.column_config.TextColumn("Row as read", width="large"),
            },
            empty="No quarantined row matches. Clear the table or reason filter to see them all.",
        )

if not ui.may("load_extracts"):
    st.caption("Loading new extracts is for admins.")
    st.stop()

st.subheader("Load new extracts")
st.markdown(
    "One file per table, named after it (`partners.csv`, `opportunities.xlsx`, `payouts.parquet`, ...), "
    "or a vendor export with a preset. Uploaded tables replace the same tables; the others stay as loaded. "
    "A file that cannot be read is refused and the current data keeps being served."
)
files = st.file_uploader(
    "Extract files", type=[ext.lstrip(".") for ext in uploads.EXTENSIONS], accept_multiple_files=True, key="data_upload"
)
preset = st.selectbox("Preset", ["none (canonical columns)", "salesforce", "hubspot", "partnerstack"], key="data_preset")
replace_all = st.checkbox("Replace every table (drop the tables not uploaded)", key="data_replace")
if st.button("Load these files", type="primary", disabled=not files, icon=":material/upload:"):
    bar = st.progress(0.0, text="Starting")
    try:
        report = uploads.build_from_upload(
            [(f.name, f.getvalue()) for f in files],
            preset=None if preset.startswith("none") else preset,
            replace_all=replace_all,
            progress=lambda fraction, message: bar.progress(min(fraction, 1.0), text=message),
        )
    except uploads.UploadRefused as exc:
        bar.empty()
        st.error(f"Nothing was loaded: {exc}", icon=":material/block:")
    else:
        quarantined = int(report["rows_quarantined"].sum())
        st.success(
            f"Loaded {int(report['rows_loaded'].sum()):,} rows"
            + (f"; {quarantined:,} quarantined (see above)." if quarantined else "."),
            icon=":material/check_circle:",
        )
        st.button("Show the new data")  # a click reruns the page on the new database
