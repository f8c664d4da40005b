-- The activity history of each partner in the shape BG/NBD needs: repeat active days, recency and age, as of a date.
-- Params:
--   $as_of (date, NULL = data_as_of): activity after this day is ignored
-- Grain: one row per partner with at least one activity other than portal_login by $as_of
-- Money: none
-- Scope: partner
with

meta as (
    select coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of
    from load_meta
),

work_days as (
    select distinct a.partner_id, cast(a.occurred_at as date) as active_on
    from partner_activities as a, meta
    where a.activity_type <> 'portal_login' and cast(a.occurred_at as date) <= meta.as_of
),

final as (
    select
        w.partner_id,
        min(w.active_on) as first_active_on,
        max(w.active_on) as last_active_on,
        count(*) - 1 as frequency,
        datediff('day', min(w.active_on), max(w.active_on)) as recency_days,
        datediff('day', min(w.active_on), any_value(meta.as_of)) as age_days
    from work_days as w, meta
    group by w.partner_id
)

select partner_id, first_active_on, last_active_on, frequency, recency_days, age_days
from final
order by partner_id
