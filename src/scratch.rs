//! The write-buffer pool: the warm buffers of the write path, kept by the store between
//! write transactions.
//!
//! A write tree takes the store's [`WriteSteps`] (the key and archive buffers, the rkyv
//! arena and the index planner's entry buffers) when it opens and gives them back when it
//! drops, so the next write transaction starts warm and a warm store allocates nothing per
//! put for them.

use std::sync::Mutex;

use crate::steps::WriteSteps;

/// One store's spare write buffers. Writers are serialised, so one slot is enough; a second
/// tree open at the same time simply starts with empty buffers.
#[derive(Default)]
pub(crate) struct ScratchSlot(Mutex<Option<WriteSteps>>);

impl ScratchSlot {
    pub(crate) fn take(&self) -> WriteSteps {
        self.0
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_default()
    }

    pub(crate) fn give_back(&self, scratch: WriteSteps) {
        // A poisoned lock only loses the buffers; the next tree allocates new ones.
        if let Ok(mut slot) = self.0.lock()
            && slot.is_none()
        {
            *slot = Some(scratch);
        }
    }
}
