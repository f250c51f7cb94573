-- The crowding forecast (issue 21): the latest forecast per facility, written by the forecasting
-- job every 15 minutes (`paris-live forecast run`), read by GET /v1/facilities/{id}/forecast when
-- Redis has none. `body` is the FacilityForecast JSON (schemas/forecast.py).
CREATE TABLE IF NOT EXISTS facility_forecasts (
    facility_id  text PRIMARY KEY,
    generated_at timestamptz NOT NULL,
    reason       text,
    body         jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS facility_forecasts_generated_at ON facility_forecasts (generated_at);
