-- The integer codes the attribution engine uses for partners and touch types (in name order), with each touch type's value.
-- Params: none
-- Grain: one row per kind (partner, touch_type) x distinct value in touchpoints
-- Money: none
-- Scope: partner
with

partner_codes as (
    select
        'partner' as kind,
        cast(row_number() over (order by partner_id) - 1 as integer) as code,
        partner_id as name,
        cast(0 as double) as touch_value
    from (select distinct partner_id from touchpoints where partner_id is not null)
),

type_codes as (
    select
        'touch_type' as kind,
        cast(row_number() over (order by types.touch_type nulls last) - 1 as integer) as code,
        types.touch_type as name,
        cast(coalesce(v.touch_value, 0) as double) as touch_value
    from (select distinct touch_type from touchpoints) as types
    left join touch_values as v on v.touch_type = types.touch_type
),

final as (
    select * from partner_codes
    union all
    select * from type_codes
)

select kind, code, name, touch_value from final
