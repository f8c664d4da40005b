-- How recent the data of each extract is, and which loaded tables lag behind the newest one.
-- Which dates count as freshness: only the event tables, by the date a nightly export moves forward
-- every day: partner_activities (occurred_at), opportunities (created_at; never a close date), opportunity_history
-- (changed_at), touchpoints (occurred_at), deal_registrations (registered_at) and payouts (period).
-- The newest of the daily tables is the data's as-of date (load_meta data_as_of) unless the settings set it. Partners never count:
-- joined_at is the latest join date, which is naturally weeks or months old in a fresh extract. Payouts are
-- monthly: a period covers its whole month (it "ends" on the last day of the month) and is posted after the month
-- closes, so payouts get one month (31 days) more than the threshold, and never set the newest date (a period
-- says nothing about the day the export ran). Absent tables and loaded tables with no rows are shown but are
-- never stale and never the newest. The threshold is stale_after_days from the settings the
-- database was built with (load_meta settings_json; 2 days when it says nothing).
-- Params:
--   $stale_after_days (integer, NULL = stale_after_days from the settings): days a table may lag the newest one
-- Grain: one row per extract table of the data contract (absent ones included)
-- Money: none
-- Scope: program
with report as (
    select table_name, status from load_report
),

latest as (
    select table_name, latest_date from freshness
),

configured as (
    select try_cast(json_extract_string(value, '$.stale_after_days') as integer) as stale_after_days
    from load_meta
    where key = 'settings_json'
),

threshold as (
    select coalesce($stale_after_days, (select max(stale_after_days) from configured), 2) as stale_after_days
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
        report.table_name <> 'partners' as counts_for_freshness,
        -- A payout period is a month: its data runs to the last day of that month.
        case when report.table_name = 'payouts' then last_day(latest.latest_date) else latest.latest_date end
            as covers_through,
        case when report.table_name = 'payouts' then 31 else 0 end as extra_days_allowed
    from report
    left join latest using (table_name)
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

final as (
    select
        tables.table_name,
        tables.status,
        tables.date_column,
        tables.latest_date,
        tables.covers_through,
        tables.counts_for_freshness,
        newest.newest_table,
        newest.newest_date,
        case
            when tables.counts_for_freshness and tables.status = 'loaded' and tables.covers_through is not null
                then greatest(date_diff('day', tables.covers_through, newest.newest_date), 0)
        end as days_behind,
        threshold.stale_after_days + tables.extra_days_allowed as days_allowed,
        coalesce(
            tables.counts_for_freshness
            and tables.status = 'loaded'
            and date_diff('day', tables.covers_through, newest.newest_date)
                > threshold.stale_after_days + tables.extra_days_allowed,
            false
        ) as is_stale
    from tables
    cross join threshold
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
    days_allowed,
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
