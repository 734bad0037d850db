//! The memory backend (being written).
