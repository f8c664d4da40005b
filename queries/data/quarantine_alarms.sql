-- Which loaded extracts had more of their rows quarantined than quarantine_warn_share allows
-- (the pages that read them show a banner; the build refused past quarantine_fail_share).
-- Params: none
-- Grain: one row per table whose quarantine alarm went off at the build
-- Money: none
-- Scope: program
with report as (
    select table_name, source_file, rows_read, rows_quarantined, quarantine_alarm from load_report
),

configured as (
    select try_cast(json_extract_string(value, '$.quarantine_warn_share') as double) as warn_share
    from load_meta
    where key = 'settings_json'
),

final as (
    select
        report.table_name,
        report.source_file,
        report.rows_read,
        report.rows_quarantined,
        report.rows_quarantined / report.rows_read as quarantined_share,
        coalesce((select max(warn_share) from configured), 0.05) as warn_share
    from report
    where report.quarantine_alarm
)

select
    table_name,
    source_file,
    rows_read,
    rows_quarantined,
    quarantined_share,
    warn_share
from final
order by table_name
