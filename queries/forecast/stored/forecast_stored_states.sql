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
-- The stored rows hold pipeline_as_of's columns, in its order, and the state kind; in_scope is
-- decided again here on what pipeline_as_of decided it on (scope_region, tier, partner_types,
-- partner_manager), by the same macro partner_in_scope.
select
    * exclude (state_kind) replace (
        partner_in_scope(scope_region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)
            as in_scope
    )
from forecast_states_precomputed
where state_kind = $kind
order by snapshot_date, opportunity_id
