-- Touchpoint ids of the given touch rows, to order touches of one deal that share a timestamp.
-- Params:
--   $touch_rows (bigint[]): rowids of the touchpoints to look up
-- Grain: one row per given touchpoint row
-- Money: none
-- Scope: program
with

wanted as (
    select unnest($touch_rows) as touch_row
),

final as (
    select t.rowid as touch_row, t.touchpoint_id
    from touchpoints as t
    semi join wanted on wanted.touch_row = t.rowid
)

select touch_row, touchpoint_id from final
