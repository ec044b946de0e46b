//! Roster import (花名册导入) for community and street admins: upload an XLSX or CSV of the
//! household ledger, read its dry run (every row's problem, what would be created and
//! changed; nothing written), confirm, and watch the import run (the page polls a progress
//! fragment every second). The rules are `crate::import`'s; the buildings must lie in the
//! admin's communities, and an upload is seen only by the admin who sent it.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::Staff;
use super::{Page, blocking, render, render_status};
use crate::AppState;
use crate::import::jobs::{self, Refusal};
use crate::import::plan::Counts;
use crate::import::{FileError, JobState, MAX_ROWS, MAX_UPLOAD_BYTES, Problem};

/// At most this many problems are listed (the count covers all of them).
const LISTED: usize = 1000;

/// A problem as the report shows it.
pub struct ProblemRow {
    pub line: usize,
    pub column: &'static str,
    pub message: String,
}

/// Where a confirmed import stands, as the progress fragment shows it.
pub struct Progress {
    pub job_id: String,
    pub running: bool,
    pub done: usize,
    pub total: usize,
    pub percent: usize,
    pub finished: Option<Counts>,
    pub failed: Option<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    max_mb: usize,
    max_rows: usize,
    /// A refused upload.
    error: Option<String>,
    job_id: String,
    file_name: String,
    counts: Option<Counts>,
    problems: Vec<ProblemRow>,
    problem_total: usize,
    may_confirm: bool,
    progress: Option<Progress>,
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressFragment {
    p: Progress,
}

fn page_for(staff: &Staff) -> ImportPage {
    ImportPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        max_mb: MAX_UPLOAD_BYTES / 1024 / 1024,
        max_rows: MAX_ROWS,
        error: None,
        job_id: String::new(),
        file_name: String::new(),
        counts: None,
        problems: Vec::new(),
        problem_total: 0,
        may_confirm: false,
        progress: None,
    }
}

fn admins_only(staff: &Staff) -> Result<(), Page> {
    if staff.device.role.is_admin() {
        Ok(())
    } else {
        Err(Page::Forbidden("只有社区或街道管理员可以导入花名册。"))
    }
}

/// `GET /admin/import`.
pub async fn page(staff: Staff) -> Response {
    if let Err(e) = admins_only(&staff) {
        return e.into_response();
    }
    render(&page_for(&staff))
}

fn refused(staff: &Staff, message: String) -> Response {
    let mut p = page_for(staff);
    p.error = Some(message);
    render_status(StatusCode::BAD_REQUEST, &p)
}

/// `POST /admin/import` (multipart: `csrf`, `file`): holds the upload and shows its dry run.
pub async fn upload(State(state): State<AppState>, staff: Staff, mut form: Multipart) -> Response {
    if let Err(e) = admins_only(&staff) {
        return e.into_response();
    }
    let mut csrf = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return refused(&staff, FileError::TooLarge.message());
            }
            Err(_) => return Page::Bad("表单无效，请刷新后重试。").into_response(),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").chars().take(100).collect();
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                                return refused(&staff, FileError::TooLarge.message());
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return refused(&staff, FileError::TooLarge.message());
                        }
                        Err(_) => return Page::Bad("上传中断，请重试。").into_response(),
                    }
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if !csrf.is_some_and(|c| staff.csrf_ok(&c)) {
        return Page::Forged.into_response();
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refused(&staff, "请选择要导入的 XLSX 或 CSV 文件。".into());
    };
    let id = state.imports().add(&staff.account.user.id, &name, bytes);
    Redirect::to(&format!("/admin/import/{id}")).into_response()
}

fn progress_of(job_id: &str, state: &JobState) -> Option<Progress> {
    let mut p = Progress {
        job_id: job_id.to_owned(),
        running: false,
        done: 0,
        total: 0,
        percent: 0,
        finished: None,
        failed: None,
    };
    match state {
        JobState::Checked => return None,
        JobState::Running { done, total } => {
            p.running = true;
            p.done = *done;
            p.total = *total;
            p.percent = if *total == 0 { 0 } else { done * 100 / total };
        }
        JobState::Done(c) => {
            p.percent = 100;
            p.finished = Some(c.clone());
        }
        JobState::Failed(m) => p.failed = Some(m.clone()),
    }
    Some(p)
}

/// `GET /admin/import/{id}`: the dry run of an upload, or its import's progress.
pub async fn report(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = admins_only(&staff) {
        return e.into_response();
    }
    let Some(job) = state.imports().get(&id, &staff.account.user.id) else {
        return Page::NotFound.into_response();
    };
    let mut page = page_for(&staff);
    page.job_id = job.id.clone();
    page.file_name = job.file_name.clone();
    if let Some(p) = progress_of(&job.id, &job.state) {
        page.progress = Some(p);
        return render(&page);
    }
    let storage = state.storage().clone();
    let device = staff.device.clone();
    let bytes = job.bytes.clone();
    let planned = blocking(move || Ok(jobs::dry_run(storage.as_ref(), &device, &bytes))).await;
    match planned {
        Ok(Ok(plan)) => {
            page.problem_total = plan.problems.len();
            page.may_confirm = plan.problems.is_empty();
            page.problems = plan.problems.iter().take(LISTED).map(row_of).collect();
            page.counts = Some(plan.counts);
            render(&page)
        }
        Ok(Err(Refusal::Storage)) => Page::Internal.into_response(),
        Ok(Err(r)) => {
            page.error = Some(r.message());
            render_status(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => e.into_response(),
    }
}

fn row_of(p: &Problem) -> ProblemRow {
    ProblemRow {
        line: p.line,
        column: p.column.unwrap_or("—"),
        message: p.message.clone(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmFields {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/import/{id}/confirm`: starts the import once, in the background.
pub async fn confirm(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<ConfirmFields>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    if !staff.csrf_ok(&fields.csrf) {
        return Page::Forged.into_response();
    }
    if let Err(e) = admins_only(&staff) {
        return e.into_response();
    }
    let user = staff.account.user.id.clone();
    let Some(job) = state.imports().get(&id, &user) else {
        return Page::NotFound.into_response();
    };
    // Only the first confirmation runs it; a second one just shows the progress.
    if state.imports().start(&id, &user) {
        let storage = state.storage().clone();
        let changes = state.changes().clone();
        let jobs = state.imports().clone();
        let device = staff.device.clone();
        tokio::task::spawn_blocking(move || {
            let mut progress = |done, total| jobs.set(&job.id, JobState::Running { done, total });
            let mut notify = || changes.notify();
            let outcome = jobs::run(
                storage.as_ref(),
                &device,
                &job.bytes,
                &mut progress,
                &mut notify,
            );
            jobs.set(
                &job.id,
                match outcome {
                    Ok(c) => JobState::Done(c),
                    Err(m) => JobState::Failed(m),
                },
            );
        });
    }
    Redirect::to(&format!("/admin/import/{id}")).into_response()
}

/// `GET /admin/import/{id}/progress`: the fragment the page polls while the import runs.
pub async fn progress(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = admins_only(&staff) {
        return e.into_response();
    }
    let Some(job) = state.imports().get(&id, &staff.account.user.id) else {
        return Page::NotFound.into_response();
    };
    match progress_of(&job.id, &job.state) {
        Some(p) => render(&ProgressFragment { p }),
        None => Page::NotFound.into_response(),
    }
}
