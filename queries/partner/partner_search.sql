-- Partners whose name or id contains the search text, for the Partner 360 picker.
-- Params:
--   $search (varchar, NULL = every partner): text to look for in the name or id, case-insensitive
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per partner
-- Money: none
-- Scope: partner
with

matches as (
    select partner_id, partner_name, tier, region, partner_manager, status
    from partners
    where ($search is null or contains(lower(partner_name), lower($search)) or contains(lower(partner_id), lower($search)))
        and partner_in_scope(region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select
        partner_id,
        partner_name,
        tier,
        region,
        partner_manager,
        status,
        partner_name || ' (' || partner_id || ')' as label
    from matches
)

select partner_id, partner_name, tier, region, partner_manager, status, label
from final
order by lower(partner_name), partner_id
