-- How each extract loaded: rows read, loaded and quarantined, per table.
-- Params: none
-- Grain: one row per table of the data contract (absent extracts included, status 'absent')
-- Money: none
-- Scope: program
with report as (
    select * from load_report
),

final as (
    select
        report.table_name,
        report.source_file,
        report.status,
        report.rows_read,
        report.rows_loaded,
        report.rows_quarantined,
        freshness.latest_date,
        report.quarantine_alarm,
        report.warnings,
        report.encoding,
        report.settings_snippet
    from report
    left join freshness using (table_name)
)

select * from final
