//! Between libp2p's records and the stored ones: deadlines mapped between the monotonic and
//! the wall clock, and the table helpers the store's operations share.

use std::ops::Bound;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::{Multiaddr, PeerId};
use netabase_backend_api::{Direction, ReadTable, WriteTable, WriteTransaction};

use super::error::{KadError, KadResult, corrupt};
use super::format::{self, FormatError, StoredProvider, StoredRecord};
use super::{PROVIDERS_TABLE, RECORDS_TABLE};
use crate::error::NetabaseError;

/// Deadlines further ahead than this are stored as this far ahead (an `Instant` cannot
/// hold every wall-clock time a peer could send).
pub(super) const MAX_AHEAD: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One reading of both clocks, to map deadlines between them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    pub(super) instant: Instant,
    wall: Duration,
}

impl Clock {
    pub(super) fn now() -> Self {
        Clock {
            instant: Instant::now(),
            // A clock before 1970 reads as 1970: deadlines stay ordered and finite.
            wall: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    pub(super) fn wall_nanos(self) -> u64 {
        u64::try_from(self.wall.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The wall-clock time of `deadline`, in nanoseconds since the Unix epoch.
    pub(super) fn to_wall(self, deadline: Instant) -> u64 {
        let wall = if deadline >= self.instant {
            self.wall
                .saturating_add((deadline - self.instant).min(MAX_AHEAD))
        } else {
            self.wall.saturating_sub(self.instant - deadline)
        };
        u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX)
    }

    pub(super) fn expired(self, wall_nanos: u64) -> bool {
        wall_nanos <= self.wall_nanos()
    }

    /// The `Instant` of a wall-clock deadline that has not passed.
    pub(super) fn to_instant(self, wall_nanos: u64) -> Instant {
        let ahead = Duration::from_nanos(wall_nanos.saturating_sub(self.wall_nanos()));
        self.instant
            .checked_add(ahead.min(MAX_AHEAD))
            .unwrap_or(self.instant)
    }

    pub(super) fn live(self, expires: Option<u64>) -> bool {
        expires.is_none_or(|e| !self.expired(e))
    }
}

pub(super) fn peer_from(bytes: &[u8]) -> Result<PeerId, String> {
    PeerId::from_bytes(bytes).map_err(|e| format!("bad peer id: {e}"))
}

pub(super) fn record_to_stored(record: &Record, clock: Clock) -> StoredRecord {
    StoredRecord {
        value: record.value.clone(),
        publisher: record.publisher.map(|p| p.to_bytes()),
        expires: record.expires.map(|e| clock.to_wall(e)),
    }
}

pub(super) fn stored_to_record(
    key: &[u8],
    s: StoredRecord,
    clock: Clock,
) -> Result<Record, String> {
    Ok(Record {
        key: RecordKey::new(&key),
        value: s.value,
        publisher: s.publisher.as_deref().map(peer_from).transpose()?,
        expires: s.expires.map(|e| clock.to_instant(e)),
    })
}

pub(super) fn provider_to_stored(p: &ProviderRecord, clock: Clock) -> StoredProvider {
    StoredProvider {
        provider: p.provider.to_bytes(),
        expires: p.expires.map(|e| clock.to_wall(e)),
        addresses: p.addresses.iter().map(|a| a.to_vec()).collect(),
    }
}

pub(super) fn stored_to_provider(
    key: &[u8],
    s: &StoredProvider,
    clock: Clock,
) -> Result<ProviderRecord, String> {
    let addresses = s
        .addresses
        .iter()
        .map(|a| Multiaddr::try_from(a.clone()).map_err(|e| format!("bad multiaddr: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProviderRecord {
        key: RecordKey::new(&key),
        provider: peer_from(&s.provider)?,
        expires: s.expires.map(|e| clock.to_instant(e)),
        addresses,
    })
}

pub(super) fn decode_providers_at(key: &[u8], bytes: &[u8]) -> KadResult<Vec<StoredProvider>> {
    format::decode_providers(bytes).map_err(|e| corrupt(PROVIDERS_TABLE, key, e))
}

pub(super) fn encode_err(e: FormatError) -> KadError {
    KadError::Store(NetabaseError::Config {
        message: format!("record cannot be stored: {e}"),
    })
}

pub(super) fn len_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Writes the provider list of `key` (removing the key when the list is empty).
pub(super) fn write_providers<T: WriteTable>(
    table: &mut T,
    key: &[u8],
    list: &[StoredProvider],
) -> KadResult<()> {
    if list.is_empty() {
        table.remove(key)?;
    } else {
        table.insert(key, &format::encode_providers(list).map_err(encode_err)?)?;
    }
    Ok(())
}

/// Whether writing `key` would add an entry to a table already holding `max`.
pub(super) fn is_new_beyond<T: ReadTable>(table: &T, key: &[u8], max: usize) -> KadResult<bool> {
    Ok(table.get(key)?.is_none() && len_usize(table.len()?) >= max)
}

/// Removes the expired records; returns how many went.
pub(super) fn purge_records<W: WriteTransaction>(backend: &W, clock: Clock) -> KadResult<usize> {
    let mut records = backend.open_table(RECORDS_TABLE)?;
    let mut expired = Vec::new();
    for entry in records.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
        let (key, value) = entry?;
        let r = format::decode_record(value.as_ref())
            .map_err(|e| corrupt(RECORDS_TABLE, key.as_ref(), e))?;
        if !clock.live(r.expires) {
            expired.push(key.as_ref().to_vec());
        }
    }
    for key in &expired {
        records.remove(key)?;
    }
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_map_between_clocks() {
        let clock = Clock::now();
        let later = clock.instant + Duration::from_secs(3600);
        let wall = clock.to_wall(later);
        assert_eq!(wall, clock.wall_nanos() + 3_600_000_000_000);
        assert!(!clock.expired(wall));
        assert_eq!(clock.to_instant(wall), later);
        // An absurd deadline from the network is clamped, not a panic.
        assert_eq!(clock.to_instant(u64::MAX), clock.instant + MAX_AHEAD);
        assert!(clock.expired(clock.wall_nanos()));
        if let Some(earlier) = clock.instant.checked_sub(Duration::from_secs(1)) {
            assert!(clock.expired(clock.to_wall(earlier)));
        }
    }
}
