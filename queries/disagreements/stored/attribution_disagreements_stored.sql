-- Where the CRM, deal registrations, attributed credit and payouts disagree as of data_as_of: the ledger the build stored, filtered.
-- Params:
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner matches on any of its types)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per disagreement (see attribution_disagreements.sql)
-- Money: amount_at_stake, detail
-- Scope: partner
--
-- attribution_disagreements as of data_as_of (the same columns, rows and order): the build ran it
-- without filters into attribution_disagreements_stored; the filters apply to the row's partner.
-- The stored rows hold the output's columns, in its order, after the order they came in (row_number).
select l.* exclude (row_number)
from attribution_disagreements_stored as l
inner join partners as p on p.partner_id = l.partner_id
where partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
order by l.row_number
