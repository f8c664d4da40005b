-- Build-time rollup: each opportunity with the columns the KPIs read, its sourced partner (CRM, else an approved registration claimed as sourced) and whether a partner was involved.
-- Params: none
-- Grain: one row per opportunity, ordered by close date (a period's deals are a range of the table)
-- Money: none
-- Scope: partner
with

deals as (
    select
        o.opportunity_id,
        cast(o.amount as decimal(18, 2)) as amount,
        o.created_at,
        o.close_date,
        coalesce(o.is_closed, false) as is_closed,
        coalesce(o.is_won, false) as is_won,
        o.sourced_partner_id as crm_sourced_partner_id,
        coalesce(o.region, sp.region) as deal_region
    from opportunities as o
    left join partners as sp on sp.partner_id = o.sourced_partner_id
),

pairs as (
    select opportunity_id, partner_id, is_sourced, is_involved from rollup_deal_partners
),

-- Logic --------------------------------------------------------------------------------------

-- Partner-involved (docs/design.md, Program health): a touchpoint on or before close, the sourced
-- partner, or an approved registration (any day: the KPIs are not "as of" a day).
flags as (
    select
        opportunity_id,
        max(case when is_sourced then partner_id end) as sourced_partner_id,
        bool_or(is_involved) as has_partner
    from pairs
    group by opportunity_id
),

final as (
    select
        d.*,
        f.sourced_partner_id,
        coalesce(f.sourced_partner_id is not null, false) as has_sourced,
        coalesce(f.has_partner, false) as has_partner
    from deals as d
    left join flags as f using (opportunity_id)
)

select
    opportunity_id, amount, created_at, close_date, is_closed, is_won, crm_sourced_partner_id, sourced_partner_id,
    deal_region, has_sourced, has_partner
from final
order by close_date, opportunity_id
