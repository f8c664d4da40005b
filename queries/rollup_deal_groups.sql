-- Build-time rollup: for every KPI breakdown dimension, with every partner counted, each deal x group it belongs to (a partner of the group was involved), whether the group holds its sourced partner, and the deal's columns; kpis_by_period.sql reads it when no partner filter is set.
-- Params: none
-- Grain: one row per dimension x group x opportunity with an involved partner of the group (partners of the partners extract only), ordered by dimension and close date
-- Money: none
-- Scope: program
with

members as (
    select distinct dimension, partner_id, group_name from rollup_partner_groups
),

involved as (
    select opportunity_id, partner_id, is_sourced, amount, created_at, close_date, is_closed, is_won, deal_region, has_sourced
    from rollup_deal_involvement
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select
        m.dimension,
        m.group_name,
        i.opportunity_id,
        bool_or(i.is_sourced) as sourced_here,
        i.amount,
        i.created_at,
        i.close_date,
        i.is_closed,
        i.is_won,
        i.deal_region,
        i.has_sourced
    from involved as i
    inner join members as m using (partner_id)
    group by m.dimension, m.group_name, i.opportunity_id, i.amount, i.created_at, i.close_date, i.is_closed, i.is_won,
        i.deal_region, i.has_sourced
)

select
    dimension, group_name, opportunity_id, sourced_here, amount, created_at, close_date, is_closed, is_won, deal_region,
    has_sourced
from final
order by dimension, close_date, group_name, opportunity_id
