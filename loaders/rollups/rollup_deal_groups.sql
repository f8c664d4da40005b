-- Build-time rollup: for every KPI breakdown dimension, with every partner counted, each deal x group it belongs to (a partner of the group was involved), whether the group holds its sourced partner, and the deal's columns; kpis_by_period.sql reads it when no partner filter is set.
-- Params: none
-- Grain: one row per dimension x group x opportunity with an involved partner of the group (partners of the partners extract only), ordered by dimension and close date
-- Money: none
-- Scope: program
select
    dimension, group_name, opportunity_id, sourced_here, amount, created_at, close_date, is_closed, is_won, deal_region,
    has_sourced
from deals_by_group('rollup_partner_groups', 'rollup_deal_involvement')
order by dimension, close_date, group_name, opportunity_id
