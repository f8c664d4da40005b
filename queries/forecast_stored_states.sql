-- Deal states stored at build time by forecast.store_forecast (every deal on the data's last day, or the open deals on the eve of every fiscal quarter), scoped by the filters.
-- Params:
--   $kind (varchar): 'final' (every deal as it stands on data_as_of, closed ones included) or 'eve' (open deals on the eve of each fiscal quarter)
--   $regions (varchar[], NULL = all): in_scope only for deals in these regions (the region of the deal, else of its partner)
--   $tiers (varchar[], NULL = all): in_scope only for deals whose partner has one of these tiers (direct deals drop out)
--   $partner_types (varchar[], NULL = all): in_scope only for deals whose partner has one of these types (direct deals drop out)
--   $managers (varchar[], NULL = all): in_scope only for deals whose partner is managed by one of these (direct deals drop out)
-- Grain: one row per snapshot day x opportunity, as pipeline_as_of returns it
-- Money: none
-- Scope: partner
with stored as (
    select *
    from forecast_states_precomputed
    where state_kind = $kind
),

-- The same scope rule as pipeline_as_of.sql.
final as (
    select
        stored.*,
        coalesce(
            ($regions is null or list_contains($regions, stored.scope_region))
            and ($tiers is null or list_contains($tiers, stored.tier))
            and ($partner_types is null or len(list_intersect(stored.partner_types, $partner_types)) > 0)
            and ($managers is null or list_contains($managers, stored.partner_manager)),
            false
        ) as scoped
    from stored
)

select
    snapshot_date,
    snapshot_quarter,
    opportunity_id,
    account_name,
    owner,
    created_at,
    stage,
    stage_order,
    probability,
    probability_source,
    is_closed,
    is_won,
    amount,
    close_date,
    forecast_category,
    first_close_date,
    times_slipped,
    age_days,
    segment,
    partner_id,
    partner_name,
    partner_type,
    tier,
    partner_manager,
    basis,
    scoped as in_scope,
    scope_region,
    partner_types
from final
order by snapshot_date, opportunity_id
