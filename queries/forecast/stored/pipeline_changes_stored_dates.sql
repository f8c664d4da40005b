-- Whether the build stored the pipeline changes between these two days (it stores the default view, the 7 days up to data_as_of): the stored days when they are the ones asked for.
-- Params:
--   $from_date (date, NULL = 7 days before to_date): the earlier day
--   $to_date (date, NULL = data_as_of): the later day
-- Grain: one row (the stored from_date and to_date) when they are the days asked for, none otherwise
-- Money: none
-- Scope: program
with

asked as (
    select coalesce($to_date, data_as_of) as to_date
    from (select try_cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date) as data_as_of from load_meta)
),

stored as (
    select distinct from_date, to_date from pipeline_changes_precomputed
)

-- Left out, from_date is 7 days before to_date: the stored from_date when to_date is the stored one.
select stored.from_date, stored.to_date
from stored, asked
where stored.to_date = asked.to_date and ($from_date is null or stored.from_date = $from_date)
