//! Alerts after a background sync (issue 10): one-line calls into the core's `alerts.rs`.
//! A shell keeps the snapshot text between background runs (preferences on Android,
//! `UserDefaults` on iOS) and posts one local notification per alert, by its key.

use linli_core::*;

use crate::{LinliStore, Result};

#[uniffi::remote(Enum)]
pub enum AlertKind {
    Assigned,
    Escalated,
    FollowUpDue,
}

#[uniffi::remote(Record)]
pub struct Alert {
    pub key: String,
    pub kind: AlertKind,
    pub record_id: String,
    pub summary: String,
}

#[uniffi::export]
impl LinliStore {
    /// What alerting needs now, as text to keep until the next run; `at` is normally `now()`.
    pub fn alert_snapshot(&self, at: i64) -> Result<String> {
        Ok(self.store.alert_snapshot(at)?.to_text())
    }

    /// The alerts for `me` between a snapshot taken before a sync and one after it, at `now`.
    /// A text that is not a snapshot is `InvalidInput { field: "snapshot", reason:
    /// "bad_format" }`.
    pub fn alerts_between(
        &self,
        before: String,
        after: String,
        me: String,
        now: i64,
    ) -> Result<Vec<Alert>> {
        let before = AlertSnapshot::from_text(&before)?;
        let after = AlertSnapshot::from_text(&after)?;
        Ok(alerts(&before, &after, &me, now))
    }
}
