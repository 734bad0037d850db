//! The Kademlia record store's byte format (`src/kad/format.rs`), compiled here on its own
//! so this crate needs no libp2p.
//!
//! Arbitrary bytes decoded as a record, a provider list and a marker never panic; whatever
//! decodes re-encodes to exactly the input (the format is canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../src/kad/format.rs"]
#[allow(dead_code)]
mod format;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = format::decode_record(data) {
        assert_eq!(format::encode_record(&record).as_deref(), Ok(data));
    }
    if let Ok(providers) = format::decode_providers(data) {
        assert_eq!(format::encode_providers(&providers).as_deref(), Ok(data));
    }
    if let Ok(payload) = format::decode_marker(data) {
        assert_eq!(format::encode_marker(payload), data);
    }
});
