-- The closure outbox becomes the API's outbox (issue 19): complaints and survey answers are
-- written to it in the transaction that records them, published after the commit, and relayed by
-- any API process if the one that wrote them died first. A complaint event also goes to
-- `complaints-routed`, keyed by the competent service: that key is kept here.
ALTER TABLE closure_outbox ADD COLUMN IF NOT EXISTS routed_to text;
