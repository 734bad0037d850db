//! The byte format of the Kademlia tables (see `docs/format.md`, "Kademlia record store").
//!
//! Pure bytes to plain structs and back, with no libp2p types: peer ids and multiaddrs stay
//! raw bytes here and are parsed by the caller. This file depends on `std` only, so the
//! fuzz crate compiles it on its own (`#[path]`) without pulling in libp2p.
//!
//! Every decoder checks each length against the bytes that are actually there and rejects
//! trailing bytes: any input gives a value or a [`FormatError`], never a panic, and never an
//! allocation larger than the input.

use std::fmt;

/// The version byte every stored value starts with.
pub const VERSION: u8 = 1;

const FLAG_PUBLISHER: u8 = 0b01;
const FLAG_EXPIRES: u8 = 0b10;

/// A stored record (the value under its key in the records table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// The record's value.
    pub value: Vec<u8>,
    /// The publisher's peer id bytes, if the record names one.
    pub publisher: Option<Vec<u8>>,
    /// Expiry: nanoseconds since the Unix epoch (wall clock), if the record expires.
    pub expires: Option<u64>,
}

/// One provider of a key (an entry of the list under the key in the providers table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredProvider {
    /// The provider's peer id bytes.
    pub provider: Vec<u8>,
    /// Expiry: nanoseconds since the Unix epoch (wall clock), if it expires.
    pub expires: Option<u64>,
    /// The provider's known addresses, each a multiaddr's bytes.
    pub addresses: Vec<Vec<u8>>,
}

/// Why stored bytes do not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The input ended before a field was complete.
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// The version byte is not [`VERSION`].
    UnknownVersion(u8),
    /// Reserved flag bits are set.
    UnknownFlags(u8),
    /// A provider list is empty (empty lists are never stored).
    EmptyProviderList,
    /// Bytes follow the last field.
    TrailingBytes(usize),
    /// A field is longer than the format can express.
    TooLong {
        /// The field being written.
        field: &'static str,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Truncated { field } => write!(f, "truncated in field `{field}`"),
            FormatError::UnknownVersion(v) => write!(f, "unknown format version {v}"),
            FormatError::UnknownFlags(b) => write!(f, "unknown flag bits {b:#04x}"),
            FormatError::EmptyProviderList => f.write_str("empty provider list"),
            FormatError::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
            FormatError::TooLong { field } => write!(f, "field `{field}` is too long"),
        }
    }
}

impl std::error::Error for FormatError {}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], FormatError> {
        if self.bytes.len() < n {
            return Err(FormatError::Truncated { field });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], FormatError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn bytes16(&mut self, field: &'static str) -> Result<Vec<u8>, FormatError> {
        let len = self.u16(field)?;
        Ok(self.take(usize::from(len), field)?.to_vec())
    }

    fn version(&mut self) -> Result<(), FormatError> {
        match self.u8("version")? {
            VERSION => Ok(()),
            v => Err(FormatError::UnknownVersion(v)),
        }
    }

    fn finish(self) -> Result<(), FormatError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(FormatError::TrailingBytes(n)),
        }
    }
}

fn flags(byte: u8, allowed: u8) -> Result<u8, FormatError> {
    if byte & !allowed != 0 {
        return Err(FormatError::UnknownFlags(byte));
    }
    Ok(byte)
}

fn put_bytes16(out: &mut Vec<u8>, bytes: &[u8], field: &'static str) -> Result<(), FormatError> {
    let len = u16::try_from(bytes.len()).map_err(|_| FormatError::TooLong { field })?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Encodes a record: `version, flags, [expires u64], [publisher u16-len bytes],
/// value u32-len bytes`.
pub fn encode_record(record: &StoredRecord) -> Result<Vec<u8>, FormatError> {
    let value_len =
        u32::try_from(record.value.len()).map_err(|_| FormatError::TooLong { field: "value" })?;
    let mut out = Vec::with_capacity(16 + record.value.len());
    out.push(VERSION);
    let mut f = 0;
    if record.publisher.is_some() {
        f |= FLAG_PUBLISHER;
    }
    if record.expires.is_some() {
        f |= FLAG_EXPIRES;
    }
    out.push(f);
    if let Some(expires) = record.expires {
        out.extend_from_slice(&expires.to_le_bytes());
    }
    if let Some(publisher) = &record.publisher {
        put_bytes16(&mut out, publisher, "publisher")?;
    }
    out.extend_from_slice(&value_len.to_le_bytes());
    out.extend_from_slice(&record.value);
    Ok(out)
}

/// Decodes what [`encode_record`] wrote.
pub fn decode_record(bytes: &[u8]) -> Result<StoredRecord, FormatError> {
    let mut r = Reader { bytes };
    r.version()?;
    let f = flags(r.u8("flags")?, FLAG_PUBLISHER | FLAG_EXPIRES)?;
    let expires = if f & FLAG_EXPIRES != 0 {
        Some(r.u64("expires")?)
    } else {
        None
    };
    let publisher = if f & FLAG_PUBLISHER != 0 {
        Some(r.bytes16("publisher")?)
    } else {
        None
    };
    let len = r.u32("value")?;
    let len = usize::try_from(len).map_err(|_| FormatError::Truncated { field: "value" })?;
    let value = r.take(len, "value")?.to_vec();
    r.finish()?;
    Ok(StoredRecord {
        value,
        publisher,
        expires,
    })
}

fn put_provider(out: &mut Vec<u8>, p: &StoredProvider) -> Result<(), FormatError> {
    put_bytes16(out, &p.provider, "provider")?;
    match p.expires {
        Some(expires) => {
            out.push(FLAG_EXPIRES);
            out.extend_from_slice(&expires.to_le_bytes());
        }
        None => out.push(0),
    }
    let count = u16::try_from(p.addresses.len())
        .map_err(|_| FormatError::TooLong { field: "addresses" })?;
    out.extend_from_slice(&count.to_le_bytes());
    for address in &p.addresses {
        put_bytes16(out, address, "address")?;
    }
    Ok(())
}

fn read_provider(r: &mut Reader<'_>) -> Result<StoredProvider, FormatError> {
    let provider = r.bytes16("provider")?;
    let f = flags(r.u8("provider flags")?, FLAG_EXPIRES)?;
    let expires = if f & FLAG_EXPIRES != 0 {
        Some(r.u64("provider expires")?)
    } else {
        None
    };
    let count = r.u16("address count")?;
    // No capacity from the count: each address takes at least 2 bytes of input, so the
    // vector never outgrows what the input holds.
    let mut addresses = Vec::new();
    for _ in 0..count {
        addresses.push(r.bytes16("address")?);
    }
    Ok(StoredProvider {
        provider,
        expires,
        addresses,
    })
}

/// Encodes a non-empty provider list: `version, count u16, count × (provider u16-len bytes,
/// flags, [expires u64], address count u16, addresses u16-len bytes each)`.
pub fn encode_providers(providers: &[StoredProvider]) -> Result<Vec<u8>, FormatError> {
    if providers.is_empty() {
        return Err(FormatError::EmptyProviderList);
    }
    let count =
        u16::try_from(providers.len()).map_err(|_| FormatError::TooLong { field: "providers" })?;
    let mut out = vec![VERSION];
    out.extend_from_slice(&count.to_le_bytes());
    for p in providers {
        put_provider(&mut out, p)?;
    }
    Ok(out)
}

/// Decodes what [`encode_providers`] wrote.
pub fn decode_providers(bytes: &[u8]) -> Result<Vec<StoredProvider>, FormatError> {
    let mut r = Reader { bytes };
    r.version()?;
    let count = r.u16("provider count")?;
    if count == 0 {
        return Err(FormatError::EmptyProviderList);
    }
    let mut providers = Vec::new();
    for _ in 0..count {
        providers.push(read_provider(&mut r)?);
    }
    r.finish()?;
    Ok(providers)
}

/// The value of a provided-set entry and of a meta entry: the version byte, then `payload`.
pub fn encode_marker(payload: &[u8]) -> Vec<u8> {
    [&[VERSION][..], payload].concat()
}

/// Decodes what [`encode_marker`] wrote, giving the payload.
pub fn decode_marker(bytes: &[u8]) -> Result<&[u8], FormatError> {
    let mut r = Reader { bytes };
    r.version()?;
    Ok(r.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> StoredRecord {
        StoredRecord {
            value: b"value".to_vec(),
            publisher: Some(vec![0, 36, 8, 1]),
            expires: Some(1_700_000_000_000_000_000),
        }
    }

    fn providers() -> Vec<StoredProvider> {
        vec![
            StoredProvider {
                provider: vec![1, 2, 3],
                expires: None,
                addresses: vec![vec![4, 5], vec![]],
            },
            StoredProvider {
                provider: vec![9],
                expires: Some(7),
                addresses: vec![],
            },
        ]
    }

    #[test]
    fn records_round_trip_with_and_without_optional_fields() {
        let full = record();
        let bare = StoredRecord {
            value: vec![],
            publisher: None,
            expires: None,
        };
        for r in [full, bare] {
            assert_eq!(decode_record(&encode_record(&r).unwrap()).unwrap(), r);
        }
    }

    #[test]
    fn provider_lists_round_trip() {
        let ps = providers();
        assert_eq!(
            decode_providers(&encode_providers(&ps).unwrap()).unwrap(),
            ps
        );
        assert_eq!(encode_providers(&[]), Err(FormatError::EmptyProviderList));
    }

    #[test]
    fn every_truncation_and_extension_is_an_error() {
        let rec = encode_record(&record()).unwrap();
        let ps = encode_providers(&providers()).unwrap();
        for n in 0..rec.len() {
            assert!(decode_record(&rec[..n]).is_err(), "record prefix {n}");
        }
        for n in 0..ps.len() {
            assert!(decode_providers(&ps[..n]).is_err(), "providers prefix {n}");
        }
        let mut longer = rec.clone();
        longer.push(0);
        assert_eq!(decode_record(&longer), Err(FormatError::TrailingBytes(1)));
        let mut longer = ps.clone();
        longer.push(0);
        assert_eq!(
            decode_providers(&longer),
            Err(FormatError::TrailingBytes(1))
        );
    }

    #[test]
    fn unknown_versions_and_flags_are_errors() {
        let mut rec = encode_record(&record()).unwrap();
        rec[0] = 2;
        assert_eq!(decode_record(&rec), Err(FormatError::UnknownVersion(2)));
        rec[0] = VERSION;
        rec[1] |= 0x80;
        assert!(matches!(
            decode_record(&rec),
            Err(FormatError::UnknownFlags(_))
        ));
        assert_eq!(decode_marker(&encode_marker(b"x")), Ok(&b"x"[..]));
        assert_eq!(
            decode_marker(&[]),
            Err(FormatError::Truncated { field: "version" })
        );
    }

    #[test]
    fn oversize_fields_are_refused_when_encoding() {
        let r = StoredRecord {
            value: vec![],
            publisher: Some(vec![0; 70_000]),
            expires: None,
        };
        assert_eq!(
            encode_record(&r),
            Err(FormatError::TooLong { field: "publisher" })
        );
    }

    fn canonical(bytes: &[u8]) {
        if let Ok(r) = decode_record(bytes) {
            assert_eq!(encode_record(&r).as_deref(), Ok(bytes));
        }
        if let Ok(ps) = decode_providers(bytes) {
            assert_eq!(encode_providers(&ps).as_deref(), Ok(bytes));
        }
    }

    proptest::proptest! {
        #[test]
        fn damaged_encodings_decode_canonically_or_fail(
            value in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            publisher in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 0..40)),
            expires in proptest::option::of(proptest::num::u64::ANY),
            addresses in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..8), 0..4),
            at in proptest::num::usize::ANY,
            byte in proptest::num::u8::ANY,
        ) {
            let record = StoredRecord { value: value.clone(), publisher: publisher.clone(), expires };
            let provider = StoredProvider { provider: value, expires, addresses };
            let encoded = [
                encode_record(&record).unwrap(),
                encode_providers(&[provider.clone(), provider]).unwrap(),
            ];
            proptest::prop_assert_eq!(decode_record(&encoded[0]).unwrap(), record);
            for bytes in encoded {
                let mut damaged = bytes.clone();
                let i = at % damaged.len();
                damaged[i] = byte;
                canonical(&damaged);
                canonical(&bytes[..i]);
                canonical(&bytes[i..]);
            }
        }
    }
}
