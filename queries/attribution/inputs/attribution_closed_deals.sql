-- Closed opportunities keyed by row, for the attribution engine to join its integer-coded touches back to.
-- Params: none
-- Grain: one row per closed opportunity
-- Money: none
-- Scope: program
with

final as (
    -- Numbered in opportunity_id order, so deals (and their credit rows) come out in export order unsorted.
    select row_number() over (order by opportunity_id) - 1 as deal_row, opportunity_id, is_won, cast(amount as decimal(18, 2)) as amount, close_date
    from opportunities
    where is_closed
)

select deal_row, opportunity_id, is_won, amount, close_date from final
