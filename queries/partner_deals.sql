-- The deals one partner was involved in (touchpoint, sourced, or approved registration), open, won and lost.
-- Params:
--   $partner_id (varchar): the partner
-- Grain: one row per opportunity
with

roles as (
    select opportunity_id, 'touched' as role from touchpoints where partner_id = $partner_id
    union
    select opportunity_id, 'sourced (CRM)' from opportunities where sourced_partner_id = $partner_id
    union
    select opportunity_id, 'registered' from deal_registrations
    where partner_id = $partner_id and status = 'approved' and opportunity_id is not null
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
        o.sourced_partner_id
    from by_deal as b
    inner join opportunities as o using (opportunity_id)
)

select opportunity_id, account_name, outcome, stage, amount, created_at, close_date, involvement, sourced_partner_id
from final
order by case outcome when 'open' then 1 when 'won' then 2 else 3 end, close_date desc, opportunity_id
