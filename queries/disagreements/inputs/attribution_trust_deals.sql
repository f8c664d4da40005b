-- Each won deal naming a partner, as of a date: whether the CRM, its registration and its touchpoints agree, and the partners involved.
-- Params:
--   $as_of (date, NULL = data_as_of): deals closed, registrations decided and touches made after this day do not count
-- Grain: one row per won opportunity naming a partner in at least one source
-- Money: none
-- Scope: partner
--
-- The per-deal part of attribution_trust_by_quarter.sql: both read the macro trust_deals
-- (queries/macros/trust_deals.sql, which defines agreed, partial and conflicting). The build
-- stores this as of data_as_of and attribution_trust_by_quarter_stored.sql sums it.
select opportunity_id, amount, fiscal_quarter, agreement, partners
from trust_deals($as_of)
