-- Everything one partner did, in time order: activities, registrations, touchpoints, deals won and lost, payouts.
-- Params:
--   $partner_id (varchar): the partner
-- Grain: one row per event (a won or lost deal is one event on its close date)
with

activities as (
    select occurred_at, 'Activity' as kind, activity_type as event, cast(null as varchar) as opportunity_id,
        cast(null as decimal(18, 2)) as amount, detail
    from partner_activities
    where partner_id = $partner_id
),

registrations as (
    select registered_at, 'Registration', 'registration ' || status, opportunity_id, cast(null as decimal(18, 2)),
        concat_ws(', ', account_name, claimed_role)
    from deal_registrations
    where partner_id = $partner_id
),

touches as (
    select occurred_at, 'Touchpoint', touch_type, opportunity_id, cast(null as decimal(18, 2)), cast(null as varchar)
    from touchpoints
    where partner_id = $partner_id
),

involved as (
    select opportunity_id from touchpoints where partner_id = $partner_id
    union
    select opportunity_id from opportunities where sourced_partner_id = $partner_id
    union
    select opportunity_id from deal_registrations where partner_id = $partner_id and status = 'approved' and opportunity_id is not null
),

closed_deals as (
    select cast(o.close_date as timestamp), case when o.is_won then 'Deal won' else 'Deal lost' end,
        o.stage, o.opportunity_id, cast(o.amount as decimal(18, 2)), o.account_name
    from involved
    inner join opportunities as o using (opportunity_id)
    where o.is_closed
),

paid as (
    select cast(coalesce(paid_at, period) as timestamp), 'Payout', payout_type || coalesce(' (' || status || ')', ''),
        opportunity_id, cast(amount as decimal(18, 2)), payout_id
    from payouts
    where partner_id = $partner_id
),

final as (
    select * from activities
    union all select * from registrations
    union all select * from touches
    union all select * from closed_deals
    union all select * from paid
)

select occurred_at, kind, event, opportunity_id, amount, detail
from final
order by occurred_at, kind, event
