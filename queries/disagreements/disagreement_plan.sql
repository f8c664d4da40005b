-- The commission plan the disagreements are checked against (the settings the database was built with).
-- Params: none
-- Grain: one row
-- Money: default_rate
-- Scope: program
with

settings as (
    select value as settings_json from load_meta where key = 'settings_json'
),

final as (
    select
        json_extract_string(settings_json, '$.commission_plan.model') as model,
        cast(json_extract(settings_json, '$.commission_plan.default_rate') as double) as default_rate,
        cast(json_extract(settings_json, '$.commission_plan.payment_terms_days') as integer) as payment_terms_days,
        cast(json_extract(settings_json, '$.commission_plan.amount_tolerance_pct') as double) as tolerance_pct,
        cast(json_extract(settings_json, '$.commission_plan.amount_tolerance_min') as double) as tolerance_min,
        coalesce(
            cast(json_extract(settings_json, '$.commission_plan.credit_payout_types') as varchar[]),
            ['commission', 'referral_fee']
        ) as credit_payout_types
    from settings
)

select model, default_rate, payment_terms_days, tolerance_pct, tolerance_min, credit_payout_types from final
