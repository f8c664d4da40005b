-- How many partners the sidebar's filters match together (none: the pages' partner figures are empty).
-- Params:
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row
-- Money: none
-- Scope: partner
with

matches as (
    select partner_id
    from partners
    where partner_in_scope(region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select count(*) as partners from matches
)

select partners from final
