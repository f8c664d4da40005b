-- Whether the build stored the forecast history of this fiscal quarter and pipeline (it stores the quarter of data_as_of, every pipeline): the stored quarter when it is the one asked for.
-- Params:
--   $fiscal_quarter (varchar, NULL = the quarter of data_as_of): 'FY2026 Q4'
--   $segment (varchar, NULL = partner): the pipeline (an unknown one has no stored rows, so the output refuses it)
-- Grain: one row (the stored fiscal quarter) when it is the one asked for, none otherwise
-- Money: none
-- Scope: program
select distinct fiscal_quarter
from forecast_history_precomputed
where ($fiscal_quarter is null or fiscal_quarter = $fiscal_quarter)
    and segment = coalesce($segment, 'partner')
