-- Build-time rollup: certifications earned and expired per partner, certification name (detail) and day.
-- Params: none
-- Grain: one row per partner x certification x day with a certification_earned or certification_expired activity
-- Money: none
-- Scope: partner
with

events as (
    select a.partner_id, coalesce(a.detail, '') as certification, cast(a.occurred_at as date) as activity_date, a.activity_type
    from partner_activities as a
    where a.activity_type in ('certification_earned', 'certification_expired')
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select
        partner_id,
        certification,
        activity_date,
        count(*) filter (where activity_type = 'certification_earned') as earned,
        count(*) filter (where activity_type = 'certification_expired') as expired
    from events
    group by partner_id, certification, activity_date
)

select partner_id, certification, activity_date, earned, expired
from final
order by partner_id, certification, activity_date
