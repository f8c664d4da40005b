-- The integer codes of partners and touch types in the stored attribution paths, with each touch type's value, as the build stored them.
-- Params: none
-- Grain: one row per kind (partner, touch_type) x distinct value in touchpoints
-- Money: none
-- Scope: partner
--
-- The rows of attribution_touch_codes.sql at build time.
with

final as (
    select kind, code, name, touch_value from attribution_path_codes
)

select kind, code, name, touch_value from final
