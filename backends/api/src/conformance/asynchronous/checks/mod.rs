//! The async checks, grouped by topic like the sync ones; each is re-exported as
//! `async_conformance::check_*`.

mod durability;
mod entries;
mod isolation;
mod ranges;
mod tables;
mod transactions;
mod values;

pub use durability::*;
pub use entries::*;
pub use isolation::*;
pub use ranges::*;
pub use tables::*;
pub use transactions::*;
pub use values::*;
