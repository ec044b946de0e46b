//! Uploads held between the dry run and the confirmation, and the import run.
//!
//! An upload becomes a job of the admin who sent it (nobody else sees it), held in memory
//! for an hour at most, [`MAX_JOBS`] at a time. The dry run ([`dry_run`]) reads, checks and
//! plans the file against what is stored now and writes nothing. Confirming starts the run
//! once (a second confirmation finds it running): it plans again against what is stored
//! then, refuses if any problem appeared, and writes the households in batches, one write
//! transaction each, reporting progress after each batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linli_domain::model::{Address, Household, Member};

use super::plan::{self, Counts, Plan};
use super::write::write_household;
use super::{FileError, roster, table};
use crate::register::{HouseholdRow, LedgerFilter, MemberRow};
use crate::storage::{Device, Storage};

/// Uploads held at once (at most 20 MB each); the oldest is dropped for a new one.
pub const MAX_JOBS: usize = 8;
/// How long an upload is held.
pub const KEEP: Duration = Duration::from_secs(3600);
/// Households written per transaction.
pub const BATCH: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Uploaded; the dry run can be shown and the import confirmed.
    Checked,
    Running {
        done: usize,
        total: usize,
    },
    Done(Counts),
    /// The run stopped; Chinese, naming no resident. Batches already written stay written.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    /// The user who uploaded it.
    pub owner: String,
    pub file_name: String,
    pub bytes: Arc<Vec<u8>>,
    pub state: JobState,
    created: Instant,
}

/// The jobs of this server process.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        // A panic while holding the lock leaves plain data: keep using it.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds an upload; returns its job id.
    pub fn add(&self, owner: &str, file_name: &str, bytes: Vec<u8>) -> String {
        let id = crate::storage::new_token();
        let mut jobs = self.lock();
        jobs.retain(|_, j| {
            j.created.elapsed() < KEEP || matches!(j.state, JobState::Running { .. })
        });
        while jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .values()
                .filter(|j| !matches!(j.state, JobState::Running { .. }))
                .min_by_key(|j| j.created)
                .map(|j| j.id.clone());
            match oldest {
                Some(o) => jobs.remove(&o),
                None => break,
            };
        }
        jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                owner: owner.to_owned(),
                file_name: file_name.to_owned(),
                bytes: Arc::new(bytes),
                state: JobState::Checked,
                created: Instant::now(),
            },
        );
        id
    }

    /// The job `id` if `owner` uploaded it.
    pub fn get(&self, id: &str, owner: &str) -> Option<Job> {
        self.lock()
            .get(id)
            .filter(|j| j.owner == owner && j.created.elapsed() < KEEP)
            .cloned()
    }

    /// Moves a checked job of `owner` to running; false if it is not checked (already
    /// started, finished) or not theirs.
    pub fn start(&self, id: &str, owner: &str) -> bool {
        match self.lock().get_mut(id) {
            Some(j) if j.owner == owner && j.state == JobState::Checked => {
                j.state = JobState::Running { done: 0, total: 0 };
                true
            }
            _ => false,
        }
    }

    /// Sets a job's state; a finished job lets go of its file.
    pub fn set(&self, id: &str, state: JobState) {
        if let Some(j) = self.lock().get_mut(id) {
            if matches!(state, JobState::Done(_) | JobState::Failed(_)) {
                j.bytes = Arc::new(Vec::new());
            }
            j.state = state;
        }
    }
}

/// Why a dry run or a run cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    File(FileError),
    Storage,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::File(e) => e.message(),
            Refusal::Storage => "服务器暂时无法读取数据，请稍后重试。".into(),
        }
    }
}

impl From<crate::Error> for Refusal {
    fn from(e: crate::Error) -> Refusal {
        tracing::error!(error = %e, "import failed");
        Refusal::Storage
    }
}

/// The households stored in the device's scope with their current members, from the
/// register's rows (households whose members all moved out are left out: a new family in
/// that flat is a new household).
fn stored_households(storage: &dyn Storage, device: &Device) -> Result<Vec<Household>, Refusal> {
    let mut out = Vec::new();
    storage.ledger_households(
        &device.scope,
        &LedgerFilter::default(),
        &mut |h: HouseholdRow, members: Vec<MemberRow>| {
            out.push(household_of(h, members));
            Ok(())
        },
    )?;
    Ok(out)
}

fn household_of(h: HouseholdRow, members: Vec<MemberRow>) -> Household {
    Household {
        id: h.doc_id,
        address: Address {
            community_id: h.place.community_id,
            grid_id: h.place.grid_id,
            building_id: h.place.building_id,
            unit_id: h.place.unit_id,
            room: h.room,
            micro_grid_id: h.place.micro_grid_id,
        },
        residency: h.residency,
        housing: h.housing,
        tags: h.tags,
        notes: h.notes,
        members: members
            .into_iter()
            .filter(|m| m.moved_out_at.is_none())
            .map(|m| Member {
                id: m.member_id,
                name: m.name,
                relation: m.relation,
                birth_year: m.birth_year,
                phone: m.phone,
                id_number: m.id_number,
                gender: m.gender,
                residence: m.residence,
                tags: m.tags,
                moved_out_at: None,
            })
            .collect(),
        visits: Vec::new(),
        created_at: h.created_at,
    }
}

/// Reads, checks and plans `bytes` for `device` (an admin) against what is stored now.
/// Writes nothing.
pub fn dry_run(storage: &dyn Storage, device: &Device, bytes: &[u8]) -> Result<Plan, Refusal> {
    let table = table::read(bytes).map_err(Refusal::File)?;
    let checked = roster::check(&table, storage.server().now()).map_err(Refusal::File)?;
    let places = storage
        .reference(device, 0)?
        .map(|r| r.places)
        .unwrap_or_default();
    let existing = stored_households(storage, device)?;
    let communities: Vec<String> = device.scope.communities.iter().cloned().collect();
    let mut p = plan::plan(&checked.rows, &places, &communities, &existing);
    p.problems.extend(checked.problems);
    p.problems.sort_by_key(|x| x.line);
    p.counts.rows = table.rows.len();
    Ok(p)
}

/// Runs an import as `device`'s user: plans again, and writes only if the plan has no
/// problems. `progress(done, total)` after each batch; `notify` after each batch too (so
/// devices waiting on the long poll hear of it).
pub fn run(
    storage: &dyn Storage,
    device: &Device,
    bytes: &[u8],
    progress: &mut dyn FnMut(usize, usize),
    notify: &mut dyn FnMut(),
) -> Result<Counts, String> {
    let plan = dry_run(storage, device, bytes).map_err(|e| e.message())?;
    if !plan.problems.is_empty() {
        return Err(format!(
            "文件有 {} 处问题，未导入任何数据。请修正后重新上传。",
            plan.problems.len()
        ));
    }
    let writes: Vec<_> = plan.writes().collect();
    let total = writes.len();
    progress(0, total);
    let server = storage.server().clone();
    for (i, batch) in writes.chunks(BATCH).enumerate() {
        storage
            .write_workflow(&mut |tx| {
                for h in batch {
                    write_household(tx, &server, &device.user_id, h)?;
                }
                Ok(())
            })
            .map_err(|e| {
                tracing::error!(error = %e, "import batch failed");
                "写入时出错，已停止；之前的批次已写入，重新导入同一文件可继续。".to_owned()
            })?;
        notify();
        progress((i * BATCH + batch.len()).min(total), total);
    }
    Ok(plan.counts)
}
