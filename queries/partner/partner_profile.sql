-- One partner at a glance: who they are (roles, tier, region, manager, joined, status) and what they did.
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows
-- Grain: one row (none when the partner id is unknown)
-- Money: payouts
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

partner as (
    select * from partners where partner_id in (select partner_id from the_partner)
),

activity as (
    select
        count(*) as activities,
        max(occurred_at) filter (where activity_type <> 'portal_login') as last_activity_at
    from partner_activities
    where partner_id in (select partner_id from the_partner)
),

involved as (
    select opportunity_id from touchpoints where partner_id in (select partner_id from the_partner)
    union
    select opportunity_id from opportunities where sourced_partner_id in (select partner_id from the_partner)
    union
    select opportunity_id from deal_registrations where partner_id in (select partner_id from the_partner) and status = 'approved' and opportunity_id is not null
),

deals as (
    select
        count(*) filter (where not coalesce(o.is_closed, false)) as open_deals,
        count(*) filter (where o.is_won) as won_deals,
        count(*) filter (where o.is_closed and not o.is_won) as lost_deals,
        sum(o.amount) filter (where o.is_won) as won_amount,
        sum(o.amount) filter (where not coalesce(o.is_closed, false)) as open_amount
    from involved
    inner join opportunities as o using (opportunity_id)
),

paid as (
    select sum(amount) filter (where coalesce(status, '') <> 'clawed_back') as payouts
    from payouts
    where partner_id in (select partner_id from the_partner)
),

final as (
    select
        p.partner_id,
        p.partner_name,
        p.partner_types,
        p.tier,
        p.region,
        p.country,
        p.partner_manager,
        p.joined_at,
        coalesce(p.status, 'active') as status,
        p.terminated_at,
        a.activities,
        a.last_activity_at,
        d.open_deals,
        d.won_deals,
        d.lost_deals,
        cast(coalesce(d.won_amount, 0) as decimal(18, 2)) as won_amount,
        cast(coalesce(d.open_amount, 0) as decimal(18, 2)) as open_amount,
        cast(coalesce(paid.payouts, 0) as decimal(18, 2)) as payouts
    from partner as p, activity as a, deals as d, paid
)

select
    partner_id, partner_name, partner_types, tier, region, country, partner_manager, joined_at, status, terminated_at,
    activities, last_activity_at, open_deals, won_deals, lost_deals, won_amount, open_amount, payouts
from final
