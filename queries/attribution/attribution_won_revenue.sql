-- Won revenue of the period, the total a scenario's credit reconciles to.
-- Params:
--   $start_date (date, NULL = from the start): first close date
--   $end_date (date, NULL = to the end): last close date
-- Grain: one row
-- Money: none
-- Scope: program
with

won as (
    select amount
    from opportunities
    where is_won
        and ($start_date is null or close_date >= $start_date)
        and ($end_date is null or close_date <= $end_date)
),

final as (
    select cast(coalesce(sum(amount), 0) as decimal(18, 2)) as won_revenue, count(*) as won_deals from won
)

select won_revenue, won_deals from final
