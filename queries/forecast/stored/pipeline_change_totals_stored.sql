-- The pipeline waterfall over the default 7 days up to data_as_of (opening, each kind of change, closing), from the ledger the build stored, scoped by the filters.
-- Params:
--   $regions (varchar[], NULL = all): only deals in these regions (the region of the deal, else of its partner)
--   $tiers (varchar[], NULL = all): only deals whose partner has one of these tiers (direct deals drop out)
--   $partner_types (varchar[], NULL = all): only deals whose partner has one of these types (direct deals drop out)
--   $managers (varchar[], NULL = all): only deals whose partner is managed by one of these (direct deals drop out)
-- Grain: one row per fiscal quarter x involvement x partner type x region x partner manager
-- Money: none
-- Scope: partner
with ledger as (
    select *
    from pipeline_changes_precomputed
    -- The same scope rule as pipeline_as_of.sql (the macro partner_in_scope), on the partner known at to_date.
    where partner_in_scope(region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select
        fiscal_quarter,
        quarter_start,
        involvement,
        partner_type,
        region,
        partner_manager,
        count(distinct opportunity_id) as deals,
        cast(coalesce(sum(amount) filter (where step = 'opening'), 0) as decimal(18, 2)) as opening,
        cast(coalesce(sum(amount) filter (where step = 'created'), 0) as decimal(18, 2)) as created,
        cast(coalesce(sum(amount) filter (where step = 'pulled_in'), 0) as decimal(18, 2)) as pulled_in,
        cast(coalesce(sum(amount) filter (where step = 'pushed_out'), 0) as decimal(18, 2)) as pushed_out,
        cast(coalesce(sum(amount) filter (where step = 'amount_up'), 0) as decimal(18, 2)) as amount_up,
        cast(coalesce(sum(amount) filter (where step = 'amount_down'), 0) as decimal(18, 2)) as amount_down,
        cast(coalesce(sum(amount) filter (where step = 'won'), 0) as decimal(18, 2)) as won,
        cast(coalesce(sum(amount) filter (where step = 'lost'), 0) as decimal(18, 2)) as lost,
        cast(coalesce(sum(amount) filter (where step = 'closing'), 0) as decimal(18, 2)) as closing,
        any_value(from_date) as from_date,
        any_value(to_date) as to_date
    from ledger
    group by fiscal_quarter, quarter_start, involvement, partner_type, region, partner_manager
)

select
    fiscal_quarter,
    quarter_start,
    involvement,
    partner_type,
    region,
    partner_manager,
    deals,
    opening,
    created,
    pulled_in,
    pushed_out,
    amount_up,
    amount_down,
    won,
    lost,
    closing,
    from_date,
    to_date
from final
order by quarter_start, involvement, partner_type, region, partner_manager
