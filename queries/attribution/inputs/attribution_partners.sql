-- The partners the shared filters keep, with what the scenario tables group by.
-- Params:
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner of any of them)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per partner
-- Money: none
-- Scope: partner
with

kept as (
    select p.partner_id, p.partner_name, p.partner_types, p.tier, t.tier_rank
    from partners as p
    left join tier_order as t on t.tier = p.tier
    where partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select
        partner_id,
        partner_name,
        partner_types,
        array_to_string(list_sort(partner_types), ', ') as partner_type,
        tier,
        tier_rank
    from kept
)

select partner_id, partner_name, partner_types, partner_type, tier, tier_rank from final
