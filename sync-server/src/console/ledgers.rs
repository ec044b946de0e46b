//! Ledgers (台账) in the console: `/admin/ledgers`, a form (which ledger, place, period in
//! Asia/Shanghai with weeks from Monday, category) and its downloads, XLSX or CSV, streamed
//! (`POST /admin/ledgers/export`): rows go from one read transaction through a bounded
//! channel into the response body; an XLSX is first built in a temp file in constant-memory
//! mode, then streamed from it. Every export is written to the export log.
//!
//! Admins only. A community admin's ledgers carry ID numbers, phones and the sensitive care
//! tags in full (they are what the roster import reads back); a street admin's are masked.

use std::io::Read;
use std::sync::Arc;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use linli_domain::{CareTag, IncidentCategory, NeedCategory, PlaceKind, Role, VisitPurpose};
use serde::Deserialize;

use super::session::Staff;
use super::view::Names;
use super::{Page, blocking, render};
use crate::AppState;
use crate::ledger::csv::CsvSheet;
use crate::ledger::period::Period;
use crate::ledger::rows::{self, Export, Labels};
use crate::ledger::xlsx::XlsxSheet;
use crate::ledger::{Format, LedgerKind};
use crate::register::{ExportRecord, LedgerFilter};
use crate::storage::Storage;

const ADMINS_ONLY: &str = "只有社区和街道管理员可以导出台账。";

/// Chunks waiting for the client at most (each up to 64 KiB).
const IN_FLIGHT: usize = 8;

#[derive(Template)]
#[template(path = "ledgers.html")]
struct LedgersPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    kinds: Vec<(&'static str, &'static str)>,
    places: Vec<(String, String)>,
    categories: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
    full: bool,
}

fn categories() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "户籍：关爱标签",
            CareTag::ALL.iter().map(|t| (t.code(), t.label())).collect(),
        ),
        (
            "走访：目的",
            VisitPurpose::ALL
                .iter()
                .map(|t| (t.code(), t.label()))
                .collect(),
        ),
        (
            "事件：类别",
            IncidentCategory::ALL
                .iter()
                .map(|t| (t.code(), t.label()))
                .collect(),
        ),
        (
            "诉求：类别",
            NeedCategory::ALL
                .iter()
                .map(|t| (t.code(), t.label()))
                .collect(),
        ),
    ]
}

const PLACE_KINDS: [PlaceKind; 4] = [
    PlaceKind::Community,
    PlaceKind::Grid,
    PlaceKind::MicroGrid,
    PlaceKind::Building,
];

/// `GET /admin/ledgers`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let storage = state.storage().clone();
    let shown = blocking(move || {
        if !staff.device.role.is_admin() {
            return Err(Page::Forbidden(ADMINS_ONLY));
        }
        let names = Names::of(storage.as_ref(), &staff.device)?;
        Ok(LedgersPage {
            staff_name: staff.account.user.name.clone(),
            is_admin: true,
            csrf: staff.csrf.clone(),
            kinds: LedgerKind::ALL
                .iter()
                .map(|k| (k.code(), k.label()))
                .collect(),
            places: names.places_of(&staff.device, &PLACE_KINDS),
            categories: categories(),
            full: staff.device.role == Role::Admin,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    category: String,
}

/// An export checked and ready to run.
struct Plan {
    kind: LedgerKind,
    format: Format,
    filter: LedgerFilter,
    staff: Staff,
    names: Names,
    communities: Vec<String>,
    now: i64,
}

/// The community a place lies in (itself, or its nearest community parent).
fn community_of(names: &Names, id: &str) -> Option<String> {
    let mut at = names.places.iter().find(|p| p.id == id);
    while let Some(p) = at {
        if p.kind == PlaceKind::Community {
            return Some(p.id.clone());
        }
        at = p
            .parent_id
            .as_ref()
            .and_then(|up| names.places.iter().find(|x| &x.id == up));
    }
    None
}

fn plan(storage: &dyn Storage, staff: Staff, f: &ExportFields) -> Result<Plan, Page> {
    if !staff.device.role.is_admin() {
        return Err(Page::Forbidden(ADMINS_ONLY));
    }
    let kind = LedgerKind::from_code(&f.kind).ok_or(Page::Bad("请选择台账类型。"))?;
    let format =
        Format::from_code(&f.format).ok_or(Page::Bad("请选择导出格式（XLSX 或 CSV）。"))?;
    let now = storage.server().now();
    let (from, to) = Period::parse(&f.period, &f.from, &f.to)
        .map_err(|_| {
            Page::Bad("请选择时间段；自定义时间段的日期格式为 年-月-日，且结束不早于开始。")
        })?
        .bounds(now);
    let category = match (kind, f.category.trim()) {
        (LedgerKind::Disputes, _) => Some(IncidentCategory::Dispute.code().to_owned()),
        (_, "") => None,
        (k, c) if k.has_category(c) => Some(c.to_owned()),
        _ => return Err(Page::Bad("所选类别不适用于该台账。")),
    };
    let names = Names::of(storage, &staff.device)?;
    let place_id = Some(f.place.trim().to_owned()).filter(|p| !p.is_empty());
    let communities = match &place_id {
        Some(p) => {
            if !names
                .places_of(&staff.device, &PLACE_KINDS)
                .iter()
                .any(|(id, _)| id == p)
            {
                return Err(Page::NotFound);
            }
            community_of(&names, p).into_iter().collect()
        }
        None => staff.device.scope.communities.iter().cloned().collect(),
    };
    Ok(Plan {
        kind,
        format,
        filter: LedgerFilter {
            place_id,
            from,
            to,
            category,
        },
        staff,
        names,
        communities,
        now,
    })
}

/// Percent-encodes a file name for `filename*=UTF-8''…` (RFC 5987).
fn encode_name(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

type Chunk = Result<Bytes, std::io::Error>;

/// Runs the export on a blocking thread, sending chunks to `tx`; logs it when done. A
/// failure ends the body with an error, so the client sees a broken download, never a
/// short file that looks whole.
fn produce(storage: Arc<dyn Storage>, p: Plan, tx: tokio::sync::mpsc::Sender<Chunk>) {
    let gone = || crate::Error::Io(std::io::Error::other("the client went away"));
    let place = |id: &str| p.names.place(id);
    let person = |id: &str| p.names.person(id);
    let e = Export {
        scope: &p.staff.device.scope,
        kind: p.kind,
        filter: &p.filter,
        labels: Labels {
            place: &place,
            person: &person,
        },
        full: p.staff.device.role == Role::Admin,
        now: p.now,
    };
    let mut send = |b: Vec<u8>| tx.blocking_send(Ok(Bytes::from(b))).map_err(|_| gone());
    let result = (|| -> crate::Result<u64> {
        match p.format {
            Format::Csv => {
                let mut sheet = CsvSheet::new(&mut send);
                let n = rows::export(storage.as_ref(), &e, &mut sheet)?;
                sheet.finish()?;
                Ok(n)
            }
            Format::Xlsx => {
                let dir = tempfile::tempdir()?;
                let mut sheet = XlsxSheet::new(p.kind.title(), dir.path())?;
                let n = rows::export(storage.as_ref(), &e, &mut sheet)?;
                let path = dir.path().join("ledger.xlsx");
                sheet.save(&path)?;
                let mut file = std::fs::File::open(&path)?;
                loop {
                    let mut chunk = vec![0u8; crate::ledger::csv::CHUNK];
                    let read = file.read(&mut chunk)?;
                    if read == 0 {
                        break;
                    }
                    chunk.truncate(read);
                    send(chunk)?;
                }
                Ok(n)
            }
        }
    })();
    match result {
        Ok(rows) => {
            let record = ExportRecord {
                user_id: p.staff.account.user.id.clone(),
                communities: p.communities.clone(),
                ledger: p.kind.code().to_owned(),
                format: p.format.code().to_owned(),
                filters: serde_json::to_string(&p.filter).unwrap_or_default(),
                rows,
                at: p.now,
            };
            if let Err(err) = storage.record_export(&record) {
                tracing::error!(error = %err, "export log failed");
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, ledger = p.kind.code(), "ledger export stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
        }
    }
}

/// `POST /admin/ledgers/export`: the ledger as a download.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Form<ExportFields>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    if !staff.csrf_ok(&fields.csrf) {
        return Page::Forged.into_response();
    }
    let storage = state.storage().clone();
    let s = storage.clone();
    let p = match blocking(move || plan(s.as_ref(), staff, &fields)).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let day = crate::ledger::period::time(Some(p.now))
        .get(..10)
        .unwrap_or_default()
        .replace('-', "");
    let ext = p.format.code();
    let ascii = format!("ledger-{}-{day}.{ext}", p.kind.code());
    let chinese = format!("{}-{day}.{ext}", p.kind.title());
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_name(&chinese)
    );
    let content_type = p.format.content_type();
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(IN_FLIGHT);
    tokio::task::spawn_blocking(move || produce(storage, p, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
