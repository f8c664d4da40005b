-- How recent the data of each extract is, and which loaded tables lag behind the newest one by more than their own rhythm allows.
-- Which dates count as freshness: only the event tables, by the date a nightly export moves forward
-- every day: partner_activities (occurred_at), opportunities (created_at; never a close date), opportunity_history
-- (changed_at), touchpoints (occurred_at), deal_registrations (registered_at) and payouts (period).
-- The newest of the daily tables is the data's as-of date (load_meta data_as_of) unless the settings set it. Partners never count:
-- joined_at is the latest join date, which is naturally weeks or months old in a fresh extract. Payouts are
-- monthly: a period covers its whole month (it "ends" on the last day of the month), and never sets the newest
-- date (a period says nothing about the day the export ran). Absent tables and loaded tables with no rows are
-- shown but are never stale and never the newest.
-- A table is stale when the newest data is ahead of it by more than its usual rhythm allows: the 95th percentile
-- of its gaps between event days over the 180 days up to its own latest one (freshness.rhythm_days, computed at
-- build), and at least stale_after_days (the settings the database was built with, 2 days when they say
-- nothing); a monthly table's rhythm is at least a month (31 days). A table named in the settings'
-- stale_after_days_by_table is allowed exactly the days given there instead.
-- Params:
--   $stale_after_days (integer, NULL = stale_after_days from the settings): the least lag that can be stale
-- Grain: one row per extract table of the data contract (absent ones included)
-- Money: none
-- Scope: program
with report as (
    select table_name, status from load_report
),

latest as (
    select table_name, latest_date, rhythm_days from freshness
),

configured as (
    select max(value) as settings_json
    from load_meta
    where key = 'settings_json'
),

threshold as (
    select
        coalesce(
            $stale_after_days, try_cast(json_extract_string(settings_json, '$.stale_after_days') as integer), 2
        ) as stale_after_days,
        settings_json
    from configured
),

tables as (
    select
        report.table_name,
        report.status,
        case report.table_name
            when 'partners' then 'joined_at'
            when 'partner_activities' then 'occurred_at'
            when 'opportunities' then 'created_at'
            when 'opportunity_history' then 'changed_at'
            when 'touchpoints' then 'occurred_at'
            when 'deal_registrations' then 'registered_at'
            when 'payouts' then 'period'
        end as date_column,
        latest.latest_date,
        latest.rhythm_days,
        report.table_name <> 'partners' as counts_for_freshness,
        -- A payout period is a month: its data runs to the last day of that month.
        case when report.table_name = 'payouts' then last_day(latest.latest_date) else latest.latest_date end
            as covers_through,
        case when report.table_name = 'payouts' then 31 else 0 end as grain_days,
        try_cast(
            json_extract_string(threshold.settings_json, '$.stale_after_days_by_table.' || report.table_name) as integer
        ) as table_setting_days
    from report
    left join latest using (table_name)
    cross join threshold
),

daily as (
    select * from tables
    where counts_for_freshness and table_name <> 'payouts' and status = 'loaded' and covers_through is not null
),

newest as (
    select table_name as newest_table, covers_through as newest_date
    from daily
    order by covers_through desc, table_name
    limit 1
),

allowed as (
    select
        tables.*,
        coalesce(
            tables.table_setting_days,
            greatest(threshold.stale_after_days, coalesce(tables.rhythm_days, 0), tables.grain_days)
        ) as days_allowed,
        case
            when tables.table_setting_days is not null then 'setting for this table'
            when coalesce(tables.rhythm_days, 0) >= greatest(threshold.stale_after_days, tables.grain_days)
                and tables.rhythm_days > 0 then 'usual rhythm'
            when tables.grain_days > threshold.stale_after_days then 'monthly table'
            else 'stale_after_days'
        end as allowed_by
    from tables
    cross join threshold
),

final as (
    select
        allowed.table_name,
        allowed.status,
        allowed.date_column,
        allowed.latest_date,
        allowed.covers_through,
        allowed.counts_for_freshness,
        newest.newest_table,
        newest.newest_date,
        case
            when allowed.counts_for_freshness and allowed.status = 'loaded' and allowed.covers_through is not null
                then greatest(date_diff('day', allowed.covers_through, newest.newest_date), 0)
        end as days_behind,
        allowed.rhythm_days,
        allowed.days_allowed,
        allowed.allowed_by,
        coalesce(
            allowed.counts_for_freshness
            and allowed.status = 'loaded'
            and date_diff('day', allowed.covers_through, newest.newest_date) > allowed.days_allowed,
            false
        ) as is_stale
    from allowed
    left join newest on true
)

select
    table_name,
    status,
    date_column,
    latest_date,
    covers_through,
    counts_for_freshness,
    newest_table,
    newest_date,
    days_behind,
    rhythm_days,
    days_allowed,
    allowed_by,
    is_stale
from final
order by
    case table_name
        when 'partners' then 1
        when 'partner_activities' then 2
        when 'opportunities' then 3
        when 'opportunity_history' then 4
        when 'touchpoints' then 5
        when 'deal_registrations' then 6
        when 'payouts' then 7
    end
