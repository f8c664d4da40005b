-- How active one partner was, month by month and by activity type.
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows
-- Grain: one row per month x activity type with at least one activity
-- Money: none
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

activity as (
    select cast(date_trunc('month', occurred_at) as date) as month, activity_type
    from partner_activities
    where partner_id in (select partner_id from the_partner)
),

final as (
    select month, activity_type, count(*) as activities
    from activity
    group by all
)

select month, activity_type, activities
from final
order by month, activity_type
