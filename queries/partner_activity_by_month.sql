-- How active one partner was, month by month and by activity type.
-- Params:
--   $partner_id (varchar): the partner
-- Grain: one row per month x activity type with at least one activity
with

activity as (
    select cast(date_trunc('month', occurred_at) as date) as month, activity_type
    from partner_activities
    where partner_id = $partner_id
),

final as (
    select month, activity_type, count(*) as activities
    from activity
    group by all
)

select month, activity_type, activities
from final
order by month, activity_type
