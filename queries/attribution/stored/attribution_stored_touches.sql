-- Touch weights of won deals under one touch model at the build's default parameters, as stored at build time.
-- Params:
--   $model (varchar): first_touch, last_touch, linear, time_decay, position_based, w_shaped, touch_value, markov or shapley
--   $start_date (date, NULL = all): first close date to keep
--   $end_date (date, NULL = all): last close date to keep
-- Grain: one row per touch of a won deal with a positive weight under the model, in path order
-- Money: none
-- Scope: partner
--
-- The rows, order and values of queries.attribution.credit.touch_weights for that model; the parameters
-- they were computed with are in attribution_touch_default_params (a model missing there was not stored).
with

touches as (
    select
        touch_row,
        opportunity_id,
        partner_id,
        touch_type,
        touch_date,
        close_date,
        amount,
        case $model
            when 'first_touch' then first_touch
            when 'last_touch' then last_touch
            when 'linear' then linear
            when 'time_decay' then time_decay
            when 'position_based' then position_based
            when 'w_shaped' then w_shaped
            when 'touch_value' then touch_value
            when 'markov' then markov
            when 'shapley' then shapley
        end as weight
    from attribution_touch_default
    where ($start_date is null or close_date >= $start_date)
        and ($end_date is null or close_date <= $end_date)
),

final as (
    select touch_row, opportunity_id, partner_id, touch_type, touch_date, close_date, amount, weight
    from touches
    where weight > 0
)

select
    cast($model as varchar) as model,
    opportunity_id,
    partner_id,
    touch_type,
    touch_date,
    close_date,
    amount,
    weight
from final
order by touch_row
