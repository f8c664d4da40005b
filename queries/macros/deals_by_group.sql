-- Each deal x partner group it belongs to (a partner of the group was involved: rollup_deal_involvement), whether the group holds its sourced partner, and the deal's columns: rollup_deal_groups.sql (every partner counted) and kpis_by_period.sql (partner filters set).
-- Params:
--   members_table (varchar): the name of a table or CTE with columns dimension, group_name, partner_id (one row per member)
--   involvement_table (varchar): 'rollup_deal_involvement' (a name, not the table itself: the build creates the macros before the rollups)
-- Grain: one row per dimension x group x opportunity with an involved partner of the group
create or replace macro deals_by_group(members_table, involvement_table) as table
with

members as (
    select distinct dimension, group_name, partner_id
    from query_table(members_table)
)

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
from query_table(involvement_table) as i
inner join members as m using (partner_id)
group by m.dimension, m.group_name, i.opportunity_id, i.amount, i.created_at, i.close_date, i.is_closed, i.is_won,
    i.deal_region, i.has_sourced
