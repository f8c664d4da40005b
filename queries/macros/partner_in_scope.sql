-- Whether a partner passes the shared partner filters (NULL = all): its region, tier, types and manager against the $regions, $tiers, $partner_types and $managers an output takes.
-- Params:
--   region_of, tier_of (varchar), types_of (varchar[]), manager_of (varchar): the partner's; a row with no partner passes only when no filter is set
--   keep_regions, keep_tiers, keep_types, keep_managers (varchar[], NULL = all): the output's $regions, $tiers, $partner_types, $managers
-- Grain: one boolean per call, never NULL (false), so it can be kept as a column (in_scope)
create or replace macro partner_in_scope(region_of, tier_of, types_of, manager_of, keep_regions, keep_tiers, keep_types, keep_managers) as
coalesce(
    (keep_regions is null or list_contains(keep_regions, region_of))
    and (keep_tiers is null or list_contains(keep_tiers, tier_of))
    and (keep_types is null or len(list_intersect(types_of, keep_types)) > 0)
    and (keep_managers is null or list_contains(keep_managers, manager_of)),
    false
)
