-- Build-time rollup: the group each partner falls in under every KPI breakdown dimension (all: 'All partners'; partner_type: one group per type; tier; region and partner_manager: '(none)' when blank).
-- Params: none
-- Grain: one row per dimension x partner x group (a partner with two types has two partner_type rows, one without types none)
-- Money: none
-- Scope: partner
with

partner_rows as (
    select partner_id, partner_types, tier, region, partner_manager from partners
),

dimensions as (
    select unnest(['all', 'partner_type', 'tier', 'region', 'partner_manager']) as dimension
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select
        d.dimension,
        p.partner_id,
        unnest(case d.dimension
            when 'partner_type' then p.partner_types
            when 'tier' then [p.tier]
            when 'region' then [coalesce(p.region, '(none)')]
            when 'partner_manager' then [coalesce(p.partner_manager, '(none)')]
            else ['All partners']
        end) as group_name
    from partner_rows as p
    cross join dimensions as d
)

select dimension, partner_id, group_name
from final
order by dimension, partner_id, group_name
