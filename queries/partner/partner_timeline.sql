-- Everything one partner did, in time order: activities, registrations, touchpoints, deals won and lost, payouts.
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows
--   $sees_money (boolean, NULL = true): whether payouts show their amount (set by the runner from the viewer)
-- Grain: one row per event (a won or lost deal is one event on its close date)
-- Money: none
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

activities as (
    select occurred_at, 'Activity' as kind, activity_type as event, cast(null as varchar) as opportunity_id,
        cast(null as decimal(18, 2)) as amount, detail
    from partner_activities
    where partner_id in (select partner_id from the_partner)
),

registrations as (
    select registered_at, 'Registration', 'registration ' || status, opportunity_id, cast(null as decimal(18, 2)),
        concat_ws(', ', account_name, claimed_role)
    from deal_registrations
    where partner_id in (select partner_id from the_partner)
),

touches as (
    select occurred_at, 'Touchpoint', touch_type, opportunity_id, cast(null as decimal(18, 2)), cast(null as varchar)
    from touchpoints
    where partner_id in (select partner_id from the_partner)
),

involved as (
    select opportunity_id from touchpoints where partner_id in (select partner_id from the_partner)
    union
    select opportunity_id from opportunities where sourced_partner_id in (select partner_id from the_partner)
    union
    select opportunity_id from deal_registrations where partner_id in (select partner_id from the_partner) and status = 'approved' and opportunity_id is not null
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
        -- A payout's amount only for a viewer who sees money; the others see that it was paid.
        opportunity_id, case when coalesce($sees_money, true) then cast(amount as decimal(18, 2)) end, payout_id
    from payouts
    where partner_id in (select partner_id from the_partner)
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
