-- What the served database was built from, and with which settings.
-- Params: none
-- Grain: one row per key (built_at, data_as_of, reporting_currency, fiscal_year_start_month, settings_json, ...)
-- Money: none
-- Scope: program
select key, value from load_meta
