//! The register (户籍登记) as the server queries it: rows projected from household documents
//! (`register_*` tables), kept in step with each document in the transaction that stores it,
//! the search the console makes (the phone's Chinese search: name substring, pinyin initials
//! and full pinyin, address and room), a household's history from its change messages, and
//! how sensitive fields are masked. Storage-independent and pure; `sqlite/register.rs`
//! stores and reads the rows.

use automerge::AutoCommit;
use linli_domain::codes::NeedStatus;
use linli_domain::doc::{self, DocPlace};
use linli_domain::needs::NeedItem;
use linli_domain::pinyin::{self, NameKey};
use linli_domain::{
    CareTag, Gender, Household, Housing, Member, Millis, NeedCategory, PersonResidence, Relation,
    Residency, Visit, VisitPurpose,
};

/// A household's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRow {
    pub doc_id: String,
    pub place: DocPlace,
    pub room: String,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub notes: String,
    pub created_at: Millis,
    /// When the server last stored the document.
    pub updated_at: Millis,
    /// Every member has moved out (整户迁出).
    pub moved_out: bool,
}

/// A member's row (current, or moved out with `moved_out_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub member_id: String,
    pub name: String,
    pub relation: Relation,
    pub birth_year: Option<i32>,
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub tags: Vec<CareTag>,
    pub moved_out_at: Option<Millis>,
}

/// Everything one household document projects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    pub household: HouseholdRow,
    /// Current members first (the document's order), then those who moved out.
    pub members: Vec<MemberRow>,
    /// The search keys of the current members' names.
    pub names: Vec<NameKey>,
    pub visits: Vec<Visit>,
    pub needs: Vec<NeedItem>,
    /// The household this one was merged into: it has no register rows.
    pub merged_into: Option<String>,
}

fn member_row(m: Member) -> MemberRow {
    MemberRow {
        member_id: m.id,
        name: m.name,
        relation: m.relation,
        birth_year: m.birth_year,
        gender: m.gender,
        residence: m.residence,
        phone: m.phone,
        id_number: m.id_number,
        tags: m.tags,
        moved_out_at: m.moved_out_at,
    }
}

/// The rows of a household document stored at `place` (the place the server judged it by,
/// its micro-grid filled in) at `updated_at`; `None` when it does not read as a household
/// (an incident, or a newer layout).
pub fn project(
    doc_id: &str,
    d: &AutoCommit,
    place: &DocPlace,
    updated_at: Millis,
) -> Option<Projection> {
    let h: Household = doc::read_household(d).ok()?;
    let former = doc::read_former_members(d).unwrap_or_default();
    let needs = doc::read_needs(d, doc_id).unwrap_or_default();
    let names = pinyin::household_keys(h.members.iter().map(|m| m.name.as_str()))
        .into_iter()
        .collect();
    let moved_out = h.members.is_empty() && !former.is_empty();
    let a = h.address;
    let household = HouseholdRow {
        doc_id: doc_id.to_owned(),
        place: place.clone(),
        room: a.room,
        residency: h.residency,
        housing: h.housing,
        tags: h.tags,
        notes: h.notes,
        created_at: h.created_at,
        updated_at,
        moved_out,
    };
    Some(Projection {
        household,
        members: h
            .members
            .into_iter()
            .chain(former)
            .map(member_row)
            .collect(),
        names,
        visits: h.visits,
        needs,
        merged_into: doc::read_merged_into(d).ok().flatten(),
    })
}

/// The household an incident document names, if any.
pub fn incident_household(d: &AutoCommit) -> Option<String> {
    doc::read_incident(d).ok().and_then(|(i, _)| i.household_id)
}

/// Care tags joined for a column: codes by ','.
pub fn tag_codes(tags: &[CareTag]) -> String {
    tags.iter().map(|t| t.code()).collect::<Vec<_>>().join(",")
}

/// The inverse of [`tag_codes`]; unknown codes are skipped.
pub fn tags_of(codes: &str) -> Vec<CareTag> {
    codes.split(',').filter_map(CareTag::from_code).collect()
}

/// The most rows a register page shows.
pub const MAX_PAGE: u32 = 200;

/// What a register page asks for: an optional search, an optional place under the scope,
/// and the page. Rows are also limited to the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterQuery {
    pub search: Option<Search>,
    /// A community, grid, micro-grid, building or unit.
    pub place_id: Option<String>,
    /// Include households whose members all moved out.
    pub moved_out: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A search as the phone makes it. Every term must match the household: a name (as typed,
/// by substring; or its pinyin, by whole key or a key's prefix), its room, or the name of
/// its building or unit. A query of pinyin letters only (`zxy`, `zhang xy`) is one term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub terms: Vec<String>,
    /// The query as pinyin letters, when it is pinyin.
    pub letters: Option<String>,
}

/// Why a search was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchError {
    TooLong,
}

impl Search {
    /// The search of a query; `Ok(None)` for an empty one. At most 8 terms and 100
    /// characters, as on the phone.
    pub fn parse(query: &str) -> Result<Option<Search>, SearchError> {
        let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if terms.is_empty() {
            return Ok(None);
        }
        if terms.len() > 8 || query.chars().count() > 100 {
            return Err(SearchError::TooLong);
        }
        let letters = pinyin::query_letters(query);
        let terms = match &letters {
            Some(l) => vec![l.clone()],
            None => terms,
        };
        Ok(Some(Search { terms, letters }))
    }
}

/// One page of the register and how many households match in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterPage {
    /// Each household with its current members.
    pub households: Vec<(HouseholdRow, Vec<MemberRow>)>,
    pub total: u64,
}

/// One change of a document, from its message `{"u": user, "op": …, "f": [fields]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The change's time as its author's clock wrote it (milliseconds).
    pub at: Millis,
    pub user_id: String,
    pub op: String,
    pub fields: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ChangeNote {
    #[serde(rename = "u", default)]
    user: String,
    #[serde(default)]
    op: String,
    #[serde(rename = "f", default)]
    fields: Vec<String>,
}

/// Every change of the document, newest first; a change without a readable message is
/// `op: "unknown"`.
pub fn history(d: &mut AutoCommit) -> Vec<HistoryEntry> {
    let mut out: Vec<HistoryEntry> = d
        .get_changes(&[])
        .iter()
        .map(|c| {
            let note = c
                .message()
                .and_then(|m| serde_json::from_str::<ChangeNote>(m).ok())
                .unwrap_or(ChangeNote {
                    user: String::new(),
                    op: "unknown".into(),
                    fields: Vec::new(),
                });
            HistoryEntry {
                at: c.timestamp(),
                user_id: note.user,
                op: if note.op.is_empty() {
                    "unknown".into()
                } else {
                    note.op
                },
                fields: note.fields,
            }
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out
}

/// Care tags shown only to whom may see ID numbers: community correction and drug rehab,
/// and disability.
pub fn is_sensitive(tag: CareTag) -> bool {
    matches!(tag, CareTag::Correction | CareTag::Disabled)
}

/// What a masked sensitive tag shows.
pub const MASKED_TAG: &str = "特殊关爱（已隐藏）";

/// An ID number with only its first 6 and last 4 characters: `110105********1234`.
pub fn mask_id_number(id: &str) -> String {
    mask(id, 6, 4)
}

/// A phone number with only its first 3 and last 4 digits: `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    mask(phone, 3, 4)
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The labels of tags, sensitive ones masked unless `full`; each label once.
pub fn tag_labels(tags: &[CareTag], full: bool) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for t in tags {
        let label = if full || !is_sensitive(*t) {
            t.label()
        } else {
            MASKED_TAG
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// What a ledger export asks for. Rows are also limited to the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct LedgerFilter {
    /// A community, grid, micro-grid, building or unit (already checked to be in scope).
    pub place_id: Option<String>,
    /// The period `[from, to)`, in milliseconds (Asia/Shanghai days and weeks, converted
    /// by the caller); applies to visits, needs raised, incidents reported.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// A code of the ledger's category: a care tag (households), a visit purpose (visits),
    /// an incident category (incidents), a need category (follow-ups).
    pub category: Option<String>,
}

/// A visit as a ledger row: where, and the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerVisit {
    pub doc_id: String,
    pub place: DocPlace,
    pub room: String,
    pub visit_id: String,
    pub visitor: String,
    pub at: Millis,
    pub purpose: VisitPurpose,
    /// The needs raised, by category.
    pub needs: Vec<(NeedCategory, String)>,
    pub done_on_spot: String,
    pub follow_up: bool,
}

/// A need raised on a visit and its follow-up, as a ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerNeed {
    pub doc_id: String,
    pub place: DocPlace,
    pub room: String,
    pub need_id: String,
    pub category: NeedCategory,
    pub text: String,
    pub raised_by: String,
    pub raised_at: Millis,
    pub status: NeedStatus,
    pub owner: String,
    pub due_at: Millis,
    pub done_at: Option<Millis>,
    pub incident_id: Option<String>,
}

/// The visit's needs as stored in `register_visits.needs`: "code:text" lines.
pub fn needs_text(needs: &[linli_domain::Need]) -> String {
    needs
        .iter()
        .map(|n| format!("{}:{}", n.category.code(), n.text.replace('\n', " ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The inverse of [`needs_text`].
pub fn needs_of(text: &str) -> Vec<(NeedCategory, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(c, t)| {
            (
                NeedCategory::from_code(c).unwrap_or(NeedCategory::Other),
                t.to_owned(),
            )
        })
        .collect()
}

/// One ledger export, as the export log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    pub user_id: String,
    /// The communities its rows could come from.
    pub communities: Vec<String>,
    /// The ledger's code (`households`, `visits`, `incidents`, `disputes`, `needs`).
    pub ledger: String,
    /// `xlsx` or `csv`.
    pub format: String,
    /// The filters, as JSON.
    pub filters: String,
    pub rows: u64,
    pub at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id_number("110105194912311234"), "110105********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(
            tag_labels(
                &[CareTag::Disabled, CareTag::Correction, CareTag::Veteran],
                false
            ),
            [MASKED_TAG, "退役军人"]
        );
        assert_eq!(tag_labels(&[CareTag::Disabled], true), ["残疾"]);
    }

    #[test]
    fn searches() {
        assert_eq!(Search::parse("  ").unwrap(), None);
        let s = Search::parse("Zhang xy").unwrap().unwrap();
        assert_eq!(s.terms, ["zhangxy"]);
        let s = Search::parse("3栋 301").unwrap().unwrap();
        assert_eq!((s.terms.len(), s.letters), (2, None));
        assert_eq!(Search::parse(&"长".repeat(101)), Err(SearchError::TooLong));
        assert_eq!(
            tags_of(&tag_codes(&[CareTag::Veteran, CareTag::Disabled])).len(),
            2
        );
    }
}
