-- Which rows were rejected, from which file and line, and why.
-- Params:
--   $table_name (varchar, NULL = every table): only this table's rejected rows
-- Grain: one row per quarantined source row
-- Money: row
-- Scope: partner
select
    table_name,
    source_file,
    line_number,
    reason,
    row
from quarantine
where ($table_name is null or table_name = $table_name)
order by table_name, line_number
