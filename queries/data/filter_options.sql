-- The values the shared sidebar filters offer, and the earliest date in the data.
-- Params: none
-- Grain: one row
-- Money: none
-- Scope: program
with partner_values as (
    select
        list_sort(list_distinct(list(region))) as regions,
        list_sort(list_distinct(list(partner_manager))) as managers
    from partners
),

types as (
    select list_sort(list_distinct(flatten(list(partner_types)))) as partner_types from partners
),

tiers as (
    select list(tier order by coalesce(tier_rank, 999), tier) as tiers
    from (select distinct partners.tier, tier_order.tier_rank from partners left join tier_order using (tier))
),

-- Distinct first: a list of every deal's region is as long as the deals table.
deal_regions as (
    select
        case when count(*) > 0 then coalesce(list_sort(list(region) filter (where region is not null)), []) end as regions,
        (select min(created_at) from opportunities) as earliest
    from (select distinct region from opportunities)
),

final as (
    select
        list_sort(list_distinct(list_concat(partner_values.regions, deal_regions.regions))) as regions,
        tiers.tiers,
        types.partner_types,
        partner_values.managers,
        coalesce(deal_regions.earliest, (select min(joined_at) from partners)) as earliest
    from partner_values, types, tiers, deal_regions
)

select * from final
