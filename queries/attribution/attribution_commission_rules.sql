-- The commission plan of the settings, in match order, ending with the default rate for anything unmatched.
-- Params: none
-- Grain: one row per commission rule
-- Money: rate
-- Scope: program
with

rules as (
    select rule_order, partner_type, tier, touch_type, rate
    from commission_rules
),

fallback as (
    select
        1000000 as rule_order,
        cast(null as varchar) as partner_type,
        cast(null as varchar) as tier,
        cast(null as varchar) as touch_type,
        coalesce(cast(json_extract(max(value), '$.commission_plan.default_rate') as double), 0.10) as rate
    from load_meta
    where key = 'settings_json'
),

final as (
    select * from rules
    union all
    select * from fallback
)

select partner_type, tier, touch_type, rate from final order by rule_order
