//! The sled backend (being written).
