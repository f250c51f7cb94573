"""The live store layout in Redis, shared by the stream sinks (writers) and the API (readers).

- ``{prefix}facility:{id}`` — a hash per facility: ``seq`` (int), ``json`` (the FacilityStatus JSON,
  exactly the bytes pushed to clients), ``updated_at``.
- ``{prefix}facilities`` — a sorted set of facility ids scored by their last ``seq`` (cheap listing).
- ``{prefix}status-changes`` — the pub/sub channel of change notifications. Each message is the
  FacilityStatus JSON itself (it carries ``facility_id`` and ``seq``), so API processes forward it as is.

Writes go through :data:`PUT_STATUS_LUA`, which stores a status only when its ``seq`` is newer than the
stored one and publishes the notification in the same atomic step: replays and duplicate flushes
after a crash change nothing and notify no one.
"""

from __future__ import annotations

from paris_live.settings import Settings

# KEYS[1] = facility hash, KEYS[2] = index zset, KEYS[3] = channel (as a key for cluster routing)
# ARGV[1] = facility id, ARGV[2] = seq, ARGV[3] = status JSON, ARGV[4] = updated_at
# Returns 1 when stored and published, 0 when the stored seq is already >= the new one.
PUT_STATUS_LUA = """
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
local seq = tonumber(ARGV[2])
if seq <= current then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'json', ARGV[3], 'updated_at', ARGV[4])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('PUBLISH', KEYS[3], ARGV[3])
return 1
"""


def facility_key(settings: Settings, facility_id: str) -> str:
    """The hash holding one facility's live status."""
    return settings.key("facility", facility_id)


def index_key(settings: Settings) -> str:
    """The sorted set of facility ids with a live status, scored by seq."""
    return settings.key("facilities")


def changes_channel(settings: Settings) -> str:
    """The pub/sub channel carrying every status change."""
    return settings.key("status-changes")
