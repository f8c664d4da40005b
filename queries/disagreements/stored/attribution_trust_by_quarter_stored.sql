-- How much partner revenue the sources agree on, by fiscal quarter of the close, as of data_as_of: from the deals the build classified.
-- Params:
--   $regions (varchar[], NULL = all): keep deals involving a partner in these regions
--   $tiers (varchar[], NULL = all): keep deals involving a partner in these tiers
--   $partner_types (varchar[], NULL = all): keep deals involving a partner of these types
--   $managers (varchar[], NULL = all): keep deals involving a partner of these managers
-- Grain: one row per fiscal quarter with partner revenue
-- Money: none
-- Scope: program
--
-- attribution_trust_by_quarter as of data_as_of (the same columns, rows and order): the same macro
-- trust_by_quarter, summing attribution_trust_deals_stored (attribution_trust_deals.sql, stored at
-- build time).
-- The columns are the macro's: fiscal_quarter, partner_deals, partner_revenue, agreed_revenue,
-- partial_revenue, conflicting_revenue, agreed_share, conflicting_share.
select *
from trust_by_quarter('attribution_trust_deals_stored', $regions, $tiers, $partner_types, $managers)
order by fiscal_quarter
