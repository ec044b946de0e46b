//! Needs raised on visits, followed up (issue 10): one-line calls into the core's
//! `needs.rs`, in their own export block.

use linli_core::*;

use crate::{LinliStore, Result};

#[uniffi::export]
impl LinliStore {
    /// Raises a need on a recorded visit; returns its id. A visit's own needs are raised
    /// with it by `record_visit`.
    pub fn raise_need(&self, need: NewNeed) -> Result<String> {
        Ok(self.store.raise_need(need)?)
    }

    pub fn need(&self, need_id: String) -> Result<NeedItem> {
        Ok(self.store.need(&need_id)?)
    }

    pub fn needs_of(&self, household_id: String) -> Result<Vec<NeedItem>> {
        Ok(self.store.needs_of(&household_id)?)
    }

    /// Take, done, reopen, assign (detail.owner), reschedule (detail.due_at); the new status.
    pub fn move_need(
        &self,
        need_id: String,
        action: NeedAction,
        detail: NeedMoveDetail,
    ) -> Result<NeedStatus> {
        Ok(self.store.move_need(&need_id, action, detail)?)
    }

    pub fn assign_need(&self, need_id: String, owner: String) -> Result<NeedStatus> {
        Ok(self.store.assign_need(&need_id, &owner)?)
    }

    pub fn reschedule_need(&self, need_id: String, due_at: i64) -> Result<NeedStatus> {
        Ok(self.store.reschedule_need(&need_id, due_at)?)
    }

    /// 转事件: reports an incident from the need; the need becomes referred. The incident id.
    pub fn need_to_incident(&self, need_id: String, incident: NewNeedIncident) -> Result<String> {
        Ok(self.store.need_to_incident(&need_id, incident)?)
    }

    /// The need an incident was converted from, if any.
    pub fn incident_need(&self, incident_id: String) -> Result<Option<String>> {
        Ok(self.store.incident_need(&incident_id)?)
    }

    pub fn need_moves(&self, need_id: String) -> Result<Vec<NeedAction>> {
        Ok(self.store.need_moves(&need_id)?)
    }

    /// Open or in hand, in the place given (any level) or all on the device; earliest due
    /// first.
    pub fn open_needs(&self, place_id: Option<String>) -> Result<Vec<NeedSummary>> {
        Ok(self.store.open_needs(place_id.as_deref())?)
    }

    /// Open or in hand and due at or before `at`; earliest due first.
    pub fn needs_due(&self, at: i64) -> Result<Vec<NeedSummary>> {
        Ok(self.store.needs_due(at)?)
    }
}

/// The moves a need allows from `status` (refer is `need_to_incident`).
#[uniffi::export]
pub fn need_allowed_actions(status: NeedStatus) -> Vec<NeedAction> {
    status.allowed_actions()
}

/// When a need of `category` raised at `at` is due by default.
#[uniffi::export]
pub fn default_need_due(category: NeedCategory, at: i64) -> i64 {
    linli_core::default_due(category, at)
}
