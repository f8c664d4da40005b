-- The deals one partner was involved in (touchpoint, sourced, or approved registration), open, won and lost.
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows, and a
--     deal's sourced partner managed by someone else is left blank
-- Grain: one row per opportunity
-- Money: none
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

roles as (
    select opportunity_id, 'touched' as role from touchpoints where partner_id in (select partner_id from the_partner)
    union
    select opportunity_id, 'sourced (CRM)' from opportunities where sourced_partner_id in (select partner_id from the_partner)
    union
    select opportunity_id, 'registered' from deal_registrations
    where partner_id in (select partner_id from the_partner) and status = 'approved' and opportunity_id is not null
),

by_deal as (
    select opportunity_id, string_agg(role, ', ' order by role) as involvement
    from roles
    group by opportunity_id
),

final as (
    select
        o.opportunity_id,
        o.account_name,
        case when o.is_won then 'won' when o.is_closed then 'lost' else 'open' end as outcome,
        o.stage,
        cast(o.amount as decimal(18, 2)) as amount,
        o.created_at,
        o.close_date,
        b.involvement,
        -- Another manager's partner is not named to a partner lead.
        case when partner_in_scope(null, null, null, source.partner_manager, null, null, null, $managers) then o.sourced_partner_id end
            as sourced_partner_id
    from by_deal as b
    inner join opportunities as o using (opportunity_id)
    left join partners as source on source.partner_id = o.sourced_partner_id
)

select opportunity_id, account_name, outcome, stage, amount, created_at, close_date, involvement, sourced_partner_id
from final
order by case outcome when 'open' then 1 when 'won' then 2 else 3 end, close_date desc, opportunity_id
