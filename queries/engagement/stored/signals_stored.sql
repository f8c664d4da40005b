-- Every partner's engagement signals as of data_as_of, computed once at build time by signals.store_signals, kept to the shared filters.
-- Params:
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per partner joined by data_as_of and not terminated by then (signals.STORED_COLUMNS: partner_signals
--   writes "Why at risk" from them for each viewer)
-- Money: unpaid_credit
-- Scope: partner
with

-- The same filters as partner_flags.sql, on the same partners table.
scoped_partners as (
    select p.partner_id
    from partners as p
    where partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select s.*
    from signals_precomputed as s
    where s.partner_id in (select partner_id from scoped_partners)
)

select
    partner_id,
    partner_name,
    partner_manager,
    tier,
    region,
    partner_types,
    engagement_score,
    last_activity_at,
    days_since_activity,
    is_dormant,
    usual_gap_days,
    is_overdue,
    p_alive,
    expected_activities_90d,
    burnout_risk,
    burnout_signal_count,
    burnout_signals,
    activity_fall_p,
    returned,
    returned_at,
    gap_before_return_days,
    at_risk,
    open_pipeline,
    open_deals,
    unpaid_credit,
    as_of,
    quiet_days
from final
order by row_number
