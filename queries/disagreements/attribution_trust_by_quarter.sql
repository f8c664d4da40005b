-- How much partner revenue the CRM, deal registrations and touchpoints agree on, by fiscal quarter of the close.
-- Params:
--   $as_of (date, NULL = data_as_of): deals closed, registrations decided and touches made after this day do not count
--   $regions (varchar[], NULL = all): keep deals involving a partner in these regions
--   $tiers (varchar[], NULL = all): keep deals involving a partner in these tiers
--   $partner_types (varchar[], NULL = all): keep deals involving a partner of these types
--   $managers (varchar[], NULL = all): keep deals involving a partner of these managers
-- Grain: one row per fiscal quarter with partner revenue
-- Money: none
-- Scope: program
-- Stored: attribution_trust_by_quarter_stored (as of data_as_of, read by the runner)
--
-- Partner revenue: won deals naming a partner in at least one source (the CRM, the earliest
-- approved registration, a touchpoint on or before the close); each is agreed, partial or
-- conflicting as the macro trust_deals (queries/macros/trust_deals.sql) says. The sums are the
-- macro trust_by_quarter's, which the stored reader shares.
with

trusted as (
    select opportunity_id, amount, fiscal_quarter, agreement, partners
    from trust_deals($as_of)
)

-- The columns are the macro's: fiscal_quarter, partner_deals, partner_revenue, agreed_revenue,
-- partial_revenue, conflicting_revenue, agreed_share, conflicting_share.
select *
from trust_by_quarter('trusted', $regions, $tiers, $partner_types, $managers)
order by fiscal_quarter
