-- The Program health KPIs of the default view (every partner, linear model) as stored at build time by queries/program/kpis.py (store_kpis): kpis_by_period's rows for the periods asked, none unless every one is stored.
-- Params:
--   $period_starts (date[]): first day of each period
--   $period_ends (date[]): last day of each period, same length as $period_starts
--   $dimension (varchar, NULL = no split): partner_type, tier, region or partner_manager, one group per value
--   $model (varchar, NULL = linear): attribution model; only linear is stored (any other gives no rows)
-- Grain: one row per period x group x KPI (as kpis_by_period)
-- Money: none
-- Scope: program
with

periods as (
    select
        cast(i as integer) as period_index,
        $period_starts[i] as period_start,
        $period_ends[i] as period_end
    from range(1, len($period_starts) + 1) as t (i)
),

held as (
    select period_start, period_end from kpis_stored_periods where dimension = coalesce($dimension, 'all')
),

stored as (
    select period_start, period_end, group_name, kpi, sort_order, value, partner_value, direct_value, needs
    from kpis_stored
    where dimension = coalesce($dimension, 'all')
),

-- Logic --------------------------------------------------------------------------------------

missing as (
    select count(*) as periods
    from periods as p
    anti join held as h on h.period_start = p.period_start and h.period_end = p.period_end
),

final as (
    select p.period_index, s.group_name, s.kpi, s.sort_order, s.value, s.partner_value, s.direct_value, s.needs
    from periods as p
    inner join stored as s on s.period_start = p.period_start and s.period_end = p.period_end
    where (select periods from missing) = 0 and coalesce($model, 'linear') = 'linear'
)

select period_index, group_name, kpi, sort_order, value, partner_value, direct_value, needs
from final
order by period_index, group_name, sort_order, kpi
