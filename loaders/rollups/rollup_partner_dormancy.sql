-- Build-time rollup: the day each partner turns dormant for the cohort survival curve: dormancy_days after the start of its first quiet stretch (no activity other than portal_login for dormancy_days, counting from joining).
-- Params: none
-- Grain: one row per partner; dormant_from = the start of that first gap + dormancy_days (as of a day X the partner is dormant when dormant_from <= X)
-- Money: none
-- Scope: partner
with

meta as (
    select coalesce(cast(json_extract(max(value) filter (where key = 'settings_json'), '$.dormancy_days') as integer), 90)
        as dormancy_days
    from load_meta
),

partner_rows as (
    select partner_id, joined_at from partners
),

-- Days with an activity other than portal_login, with the days since the partner's previous one
-- (rollup_partner_days.sql).
work_days as (
    select partner_id, activity_date, cast(work_gap_days as integer) as gap_days
    from rollup_partner_days
    where is_work_day
),

-- Logic --------------------------------------------------------------------------------------

-- From joining on: the first and last work day, and the first work day that starts a gap of
-- dormancy_days or more before the next one.
spans as (
    select
        p.partner_id,
        p.joined_at,
        min(w.activity_date) as first_work_on,
        max(w.activity_date) as last_work_on,
        min(w.activity_date - w.gap_days) filter (
            where w.gap_days >= meta.dormancy_days and w.activity_date - w.gap_days >= p.joined_at
        ) as first_gap_from
    from partner_rows as p
    cross join meta
    left join work_days as w on w.partner_id = p.partner_id and w.activity_date >= p.joined_at
    group by p.partner_id, p.joined_at
),

-- The first quiet stretch starts on joining (no work day within dormancy_days of it), else on the
-- first work day followed by a long gap, else on the last work day (open-ended). As of X the
-- partner is dormant from its start + dormancy_days when that day is on or before X: a gap that
-- starts earlier is shorter, and one that starts later starts after it.
final as (
    select
        s.partner_id,
        case
            when s.first_work_on is null or s.first_work_on - s.joined_at >= meta.dormancy_days then s.joined_at
            else coalesce(s.first_gap_from, s.last_work_on)
        end + meta.dormancy_days as dormant_from
    from spans as s
    cross join meta
)

select partner_id, dormant_from
from final
order by partner_id
