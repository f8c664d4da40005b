-- What changed in the pipeline over the default 7 days up to data_as_of, deal by deal, as the build stored it (pipeline_changes.store_changes), scoped by the filters.
-- Params:
--   $regions (varchar[], NULL = all): only deals in these regions (the region of the deal, else of its partner)
--   $tiers (varchar[], NULL = all): only deals whose partner has one of these tiers (direct deals drop out)
--   $partner_types (varchar[], NULL = all): only deals whose partner has one of these types (direct deals drop out)
--   $managers (varchar[], NULL = all): only deals whose partner is managed by one of these (direct deals drop out)
-- Grain: one row per opportunity x change kind
-- Money: none
-- Scope: partner
with changes as (
    select *
    from pipeline_changes_precomputed
    where step not in ('opening', 'closing')
),

-- The same scope rule as pipeline_as_of.sql (the macro partner_in_scope), on the partner known at to_date.
final as (
    select
        changes.*,
        partner_in_scope(
            changes.region, changes.tier, changes.partner_types, changes.partner_manager,
            $regions, $tiers, $partner_types, $managers
        ) as in_scope
    from changes
)

select
    opportunity_id,
    fiscal_quarter,
    step as change_kind,
    amount as amount_change,
    involvement,
    partner_id,
    partner_name,
    account_name,
    partner_type,
    region,
    partner_manager,
    owner,
    from_stage,
    to_stage,
    from_amount,
    to_amount,
    from_close_date,
    to_close_date,
    basis,
    quarter_start,
    from_date,
    to_date
from final
where in_scope
order by row_number
