//! The sync protocol between a device and the sync server: one HTTP POST per round.
//!
//! Sans-I/O: types and their encoding only. The device's side is `sync.rs` (state) and
//! `http.rs` (transport); the server's side is the `sync-server` crate.
//!
//! A request carries the device's new changes for every document it changed (the bytes
//! since the heads the server last acknowledged) and the device's pull cursor. The response
//! acknowledges each pushed document, and carries one bounded page of what the device's scope
//! holds that it lacks, with `more` set if it should ask again.
//!
//! Wire format: `postcard` (compact binary serde) compressed with raw DEFLATE, sent as
//! `Content-Type: application/x-linli-sync`, with the protocol version in the
//! `X-Linli-Protocol` header and in the message. Pulls exclude the requesting device's
//! own changes, so an acknowledged push is never sent back.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::model::{Millis, Place, PlaceKind};
use crate::scope::Scope;
// Roles travel in the reference data; the type lives with the permission table.
pub use crate::roles::Role;

/// Bumped on any incompatible change to the messages below. The server also answers every
/// version from [`OLDEST_PROTOCOL_VERSION`], in that version's terms (see [`for_version`]), so
/// apps already installed keep syncing.
///
/// | version | change |
/// |---|---|
/// | 1 | first release |
/// | 2 | people in the reference data may have the roles added with the incident workflow (street admin, department handler, micro-grid worker); places may be streets and micro-grids |
/// | 3 | the reference data carries the user's grants (`ReferenceData::grants`), so the phone refuses writes outside them; older versions are answered without them ([`encode_response`]) |
/// | 4 | erasure (删除个人信息): the response lists documents erased on the server (`SyncResponse::erased`), which the device purges, and a push of one is refused as [`PushOutcome::Erased`]; older versions get erased documents in `gone` and the refusal as `Invalid` |
pub const PROTOCOL_VERSION: u16 = 4;
/// The oldest version the server still answers.
pub const OLDEST_PROTOCOL_VERSION: u16 = 1;
pub const CONTENT_TYPE: &str = "application/x-linli-sync";
pub const VERSION_HEADER: &str = "x-linli-protocol";
/// The sync endpoint, relative to the server's base URL.
pub const SYNC_PATH: &str = "/v1/sync";
/// The long poll a device holds to hear that its scope changed (`GET`, the same bearer
/// token; query `after=<cursor seq>&wait=<seconds>`, answer JSON `{"changed", "seq"}`).
pub const CHANGES_PATH: &str = "/v1/changes";
/// Largest encoded request the server accepts and the client sends; a client with more
/// pending splits its pushes over several rounds.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// Limit on decompressed size, against compression bombs.
pub const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// Where a device is in the server's change log.
///
/// A fresh device (or one behind the server's compaction horizon) starts in the snapshot
/// phase: the server pages through the scope's documents as compacted snapshots, in id
/// order, then continues from `seq = upto` with changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Every change in scope with a server sequence ≤ `seq` has been delivered.
    pub seq: u64,
    /// Set while a snapshot pass is under way.
    pub snapshot: Option<SnapshotCursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCursor {
    /// The server sequence when the pass began; changes resume after it.
    pub upto: u64,
    /// The last document id delivered in this pass.
    pub after_doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u16,
    pub cursor: Cursor,
    /// Version of the reference data (places, people) the device holds; 0 for none.
    pub reference_version: u64,
    pub push: Vec<DocPush>,
    /// Largest page the device wants, in changes or documents; the server may send fewer.
    pub page_limit: u32,
}

/// A device's new changes to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocPush {
    pub doc_id: String,
    /// Automerge bytes: everything since the heads the server last acknowledged.
    #[serde(with = "serde_bytes")]
    pub changes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u16,
    /// The server's clock when it answered, for response-time targets on the device.
    pub server_time: Millis,
    /// One entry per pushed document, in request order.
    pub acks: Vec<PushAck>,
    pub docs: Vec<DocChanges>,
    pub cursor: Cursor,
    /// More is waiting: ask again with `cursor`.
    pub more: bool,
    /// Present when the device's `reference_version` is stale.
    pub reference: Option<ReferenceData>,
    /// Documents that moved out of the device's scope since its cursor: it should forget
    /// them (keeping any changes of its own the server has not accepted).
    pub gone: Vec<String>,
    /// Documents erased on the server (protocol 4): the device purges them, its own
    /// unpushed changes included (erasure wins). Last in the message, and folded into `gone`
    /// for older versions by [`encode_response`].
    pub erased: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushOutcome {
    /// Stored (or already held: a replay stores nothing twice).
    Stored,
    /// The document is outside the user's scope; nothing stored.
    OutOfScope,
    /// The changes depend on changes the server does not have: push the whole document.
    MissingDependencies,
    /// Not valid Automerge bytes, or not a valid household / incident; nothing stored.
    Invalid,
    /// The document was erased (protocol 4): nothing stored, ever again; the device purges
    /// it. Sent as `Invalid` to older versions, which cannot decode it.
    Erased,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    pub doc_id: String,
    pub outcome: PushOutcome,
}

/// Changes (or a snapshot) of one document for the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    pub doc_id: String,
    #[serde(with = "serde_bytes")]
    pub changes: Vec<u8>,
}

/// The place tree and the people in the device's scope: read-only on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceData {
    pub version: u64,
    pub places: Vec<Place>,
    pub people: Vec<Person>,
    /// The places the user was granted (protocol 3), a street grant expanded to the
    /// communities under it as the server scopes it: the phone refuses writes outside them.
    /// Last in the message, and left out for older versions by [`encode_response`].
    pub grants: Vec<Grant>,
}

/// A place granted to the user, with its kind (what `Scope::grant` takes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub place_id: String,
    pub kind: PlaceKind,
}

impl ReferenceData {
    /// The grants as a [`Scope`] (what the server judges pushes by).
    pub fn scope(&self) -> Scope {
        scope_of(&self.grants)
    }
}

/// The grants as a [`Scope`].
pub fn scope_of(grants: &[Grant]) -> Scope {
    let mut scope = Scope::default();
    for g in grants {
        scope.grant(g.kind, g.place_id.clone());
    }
    scope
}

/// A scope as grants, in a stable order (communities, grids, micro-grids, buildings, units).
pub fn grants_of(scope: &Scope) -> Vec<Grant> {
    let each = |set: &std::collections::BTreeSet<String>, kind: PlaceKind| {
        set.iter()
            .map(|id| Grant {
                place_id: id.clone(),
                kind,
            })
            .collect::<Vec<_>>()
    };
    [
        each(&scope.communities, PlaceKind::Community),
        each(&scope.grids, PlaceKind::Grid),
        each(&scope.micro_grids, PlaceKind::MicroGrid),
        each(&scope.buildings, PlaceKind::Building),
        each(&scope.units, PlaceKind::Unit),
    ]
    .concat()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// Whether the server answers requests of this version.
pub fn is_supported(version: u16) -> bool {
    (OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version)
}

/// Reference data as an app speaking `version` can decode it. Version 1 apps know four roles
/// and four place kinds (postcard encodes an enum by its index, so a fifth fails the whole
/// response): people with a later role are left out of what they receive, and so are streets
/// and micro-grids. A community's street parent is dropped (the v1 tree's root is the
/// community), and a building under a micro-grid is re-parented to the micro-grid's grid, so
/// the version-1 tree stays whole.
pub fn for_version(version: u16, mut reference: ReferenceData) -> ReferenceData {
    if version < 2 {
        reference.people.retain(|p| {
            matches!(
                p.role,
                Role::GridWorker | Role::BuildingLeader | Role::UnitLeader | Role::Admin
            )
        });
        let v1 = |k: PlaceKind| {
            matches!(
                k,
                PlaceKind::Community | PlaceKind::Grid | PlaceKind::Building | PlaceKind::Unit
            )
        };
        // Every dropped place, with the parent a v1 child of it is given instead.
        let dropped: BTreeMap<String, Option<String>> = reference
            .places
            .iter()
            .filter(|p| !v1(p.kind))
            .map(|p| {
                let to = match p.kind {
                    PlaceKind::MicroGrid => p.parent_id.clone(),
                    _ => None,
                };
                (p.id.clone(), to)
            })
            .collect();
        reference.places.retain(|p| v1(p.kind));
        // A micro-grid grant cannot be named to a version 1 app (nor are grants sent below 3).
        reference.grants.retain(|g| v1(g.kind));
        for p in &mut reference.places {
            if let Some(to) = p.parent_id.as_ref().and_then(|id| dropped.get(id)) {
                p.parent_id = to.clone();
            }
        }
    }
    reference
}

/// Encodes a response in the terms of its `protocol`: from version 4 as [`SyncResponse`].
/// Version 3 gets no `erased` list (its erased documents join `gone`, which it forgets
/// unless it holds unpushed changes; those it pushes are refused) and `Invalid` for
/// `Erased`; below 3 also no grants in the reference data (versions 1 and 2 declare
/// `ReferenceData` as version, places, people, and postcard is not self-describing: one more
/// field, or a variant they do not know, would fail the whole response).
pub fn encode_response(response: &SyncResponse) -> Result<Vec<u8>, CodecError> {
    if response.protocol >= 4 {
        return encode(response);
    }
    let acks: Vec<PushAck> = response
        .acks
        .iter()
        .map(|a| PushAck {
            doc_id: a.doc_id.clone(),
            outcome: match a.outcome {
                PushOutcome::Erased => PushOutcome::Invalid,
                o => o,
            },
        })
        .collect();
    let mut gone = response.gone.clone();
    for id in &response.erased {
        if !gone.contains(id) {
            gone.push(id.clone());
        }
    }
    let old = old::SyncResponse {
        protocol: response.protocol,
        server_time: response.server_time,
        acks: &acks,
        docs: &response.docs,
        cursor: &response.cursor,
        more: response.more,
        reference: response.reference.as_ref(),
        gone: &gone,
    };
    if response.protocol >= 3 {
        return encode(&old);
    }
    encode(&old::SyncResponseV2::from(&old))
}

/// The messages as versions 1 to 3 declare them, where they differ from today's: only to
/// encode (borrowing today's), see [`encode_response`].
mod old {
    use serde::Serialize;

    use super::{Cursor, DocChanges, Person, Place, PushAck};
    use crate::model::Millis;

    /// Versions 1 to 3: no `erased`.
    #[derive(Serialize)]
    pub(super) struct SyncResponse<'a> {
        pub(super) protocol: u16,
        pub(super) server_time: Millis,
        pub(super) acks: &'a [PushAck],
        pub(super) docs: &'a [DocChanges],
        pub(super) cursor: &'a Cursor,
        pub(super) more: bool,
        pub(super) reference: Option<&'a super::ReferenceData>,
        pub(super) gone: &'a [String],
    }

    #[derive(Serialize)]
    pub(super) struct ReferenceData<'a> {
        version: u64,
        places: &'a [Place],
        people: &'a [Person],
    }

    /// Versions 1 and 2: no grants either.
    #[derive(Serialize)]
    pub(super) struct SyncResponseV2<'a> {
        protocol: u16,
        server_time: Millis,
        acks: &'a [PushAck],
        docs: &'a [DocChanges],
        cursor: &'a Cursor,
        more: bool,
        reference: Option<ReferenceData<'a>>,
        gone: &'a [String],
    }

    impl<'a> From<&SyncResponse<'a>> for SyncResponseV2<'a> {
        fn from(r: &SyncResponse<'a>) -> Self {
            SyncResponseV2 {
                protocol: r.protocol,
                server_time: r.server_time,
                acks: r.acks,
                docs: r.docs,
                cursor: r.cursor,
                more: r.more,
                reference: r.reference.map(|x| ReferenceData {
                    version: x.version,
                    places: &x.places,
                    people: &x.people,
                }),
                gone: r.gone,
            }
        }
    }
}

/// Machine-readable reasons the server refuses a whole request (body of a 4xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No token, unknown token.
    Unauthorized,
    /// The device was revoked.
    Revoked,
    /// The protocol version is not spoken by this server.
    UnsupportedVersion,
    /// The body is not a valid request.
    Malformed,
    /// The body is larger than `MAX_REQUEST_BYTES`.
    TooLarge,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unauthorized => "unauthorized",
            Refusal::Revoked => "revoked",
            Refusal::UnsupportedVersion => "unsupported_version",
            Refusal::Malformed => "malformed",
            Refusal::TooLarge => "too_large",
        }
    }

    pub fn from_code(code: &str) -> Option<Refusal> {
        [
            Refusal::Unauthorized,
            Refusal::Revoked,
            Refusal::UnsupportedVersion,
            Refusal::Malformed,
            Refusal::TooLarge,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("message could not be decoded")]
    Decode,
    #[error("message is larger than allowed")]
    TooLarge,
    #[error("message could not be encoded")]
    Encode,
}

/// postcard, then raw DEFLATE.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    let plain = postcard::to_allocvec(msg).map_err(|_| CodecError::Encode)?;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&plain).map_err(|_| CodecError::Encode)?;
    z.finish().map_err(|_| CodecError::Encode)
}

/// The inverse of [`encode`], refusing anything that inflates past `MAX_DECODED_BYTES`.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, CodecError> {
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .take(MAX_DECODED_BYTES as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|_| CodecError::Decode)?;
    if plain.len() > MAX_DECODED_BYTES {
        return Err(CodecError::TooLarge);
    }
    // The whole body must be exactly one message: another type, or junk after a valid
    // message, is refused rather than half-read.
    match postcard::take_from_bytes(&plain) {
        Ok((msg, [])) => Ok(msg),
        _ => Err(CodecError::Decode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_small_when_idle() {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: Cursor {
                seq: 123_456,
                snapshot: None,
            },
            reference_version: 7,
            push: vec![],
            page_limit: 500,
        };
        let bytes = encode(&req).unwrap();
        assert!(bytes.len() < 32, "idle request is {} bytes", bytes.len());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), req);
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: Cursor::default(),
            reference_version: 0,
            push: vec![],
            page_limit: 10,
        };
        let mut plain = postcard::to_allocvec(&req).unwrap();
        plain.extend_from_slice(b"junk");
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        assert!(decode::<SyncRequest>(&z.finish().unwrap()).is_err());
    }

    fn place(id: &str, kind: PlaceKind, parent: Option<&str>) -> Place {
        Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: id.into(),
        }
    }

    #[test]
    fn version_one_loses_streets_and_micro_grids_but_keeps_a_whole_tree() {
        let reference = ReferenceData {
            version: 3,
            places: vec![
                place("s", PlaceKind::Street, None),
                place("c", PlaceKind::Community, Some("s")),
                place("g", PlaceKind::Grid, Some("c")),
                place("m", PlaceKind::MicroGrid, Some("g")),
                place("b1", PlaceKind::Building, Some("m")),
                place("b2", PlaceKind::Building, Some("g")),
                place("u", PlaceKind::Unit, Some("b1")),
            ],
            people: vec![],
            grants: vec![],
        };
        assert_eq!(for_version(2, reference.clone()), reference);
        let v1 = for_version(1, reference);
        let parent = |id: &str| {
            v1.places
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.parent_id.clone())
        };
        assert_eq!(v1.places.len(), 5);
        assert_eq!(parent("s"), None);
        assert_eq!(parent("m"), None);
        assert_eq!(parent("c"), Some(None));
        assert_eq!(parent("b1"), Some(Some("g".into())));
        assert_eq!(parent("b2"), Some(Some("g".into())));
        assert_eq!(parent("u"), Some(Some("b1".into())));
    }

    #[test]
    fn grants_travel_from_version_three_only() {
        let response = |protocol| SyncResponse {
            protocol,
            server_time: 5,
            acks: vec![],
            docs: vec![],
            cursor: Cursor::default(),
            more: false,
            reference: Some(ReferenceData {
                version: 4,
                places: vec![place("g", PlaceKind::Grid, None)],
                people: vec![],
                grants: vec![Grant {
                    place_id: "g".into(),
                    kind: PlaceKind::Grid,
                }],
            }),
            gone: vec!["x".into()],
            erased: vec![],
        };
        let now = response(4);
        let bytes = encode_response(&now).unwrap();
        assert_eq!(decode::<SyncResponse>(&bytes).unwrap(), now);
        assert!(now.reference.as_ref().unwrap().scope().grids.contains("g"));
        // A version 2 answer has no grants: today's decoder sees the message end early.
        let old = encode_response(&response(2)).unwrap();
        assert!(decode::<SyncResponse>(&old).is_err());
        // Nor has a version 3 answer an `erased` list.
        let old = encode_response(&response(3)).unwrap();
        assert!(decode::<SyncResponse>(&old).is_err());
        let mut scope = Scope::default();
        scope.grant(PlaceKind::Unit, "u");
        scope.grant(PlaceKind::Community, "c");
        assert_eq!(scope_of(&grants_of(&scope)), scope);
    }

    /// What a version 3 app declares: today's response without `erased`, and four outcomes.
    #[derive(Debug, Deserialize, PartialEq)]
    enum OutcomeV3 {
        Stored,
        OutOfScope,
        MissingDependencies,
        Invalid,
    }

    #[derive(Debug, Deserialize)]
    struct AckV3 {
        doc_id: String,
        outcome: OutcomeV3,
    }

    #[derive(Debug, Deserialize)]
    struct ResponseV3 {
        _protocol: u16,
        _server_time: Millis,
        acks: Vec<AckV3>,
        _docs: Vec<DocChanges>,
        _cursor: Cursor,
        _more: bool,
        _reference: Option<ReferenceData>,
        gone: Vec<String>,
    }

    #[test]
    fn erasures_reach_version_three_as_gone_and_invalid() {
        let response = |protocol| SyncResponse {
            protocol,
            server_time: 5,
            acks: vec![PushAck {
                doc_id: "e".into(),
                outcome: PushOutcome::Erased,
            }],
            docs: vec![],
            cursor: Cursor::default(),
            more: false,
            reference: None,
            gone: vec!["x".into()],
            erased: vec!["e".into(), "f".into()],
        };
        let now = response(4);
        assert_eq!(
            decode::<SyncResponse>(&encode_response(&now).unwrap()).unwrap(),
            now
        );
        let v3: ResponseV3 = decode(&encode_response(&response(3)).unwrap()).unwrap();
        assert_eq!(v3.gone, ["x", "e", "f"]);
        assert_eq!(v3.acks[0].doc_id, "e");
        assert_eq!(v3.acks[0].outcome, OutcomeV3::Invalid);
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert!(decode::<SyncRequest>(b"garbage").is_err());
        let bomb = vec![0u8; MAX_DECODED_BYTES + 10];
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&bomb).unwrap();
        let packed = z.finish().unwrap();
        assert!(matches!(
            decode::<SyncRequest>(&packed),
            Err(CodecError::TooLarge)
        ));
    }
}
