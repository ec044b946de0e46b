//! Pushes that pass the strict parse but may contradict the document they are applied to:
//! real changes of a household document, decoded, mutated field by field (sequence number,
//! dependencies, actor, start op, an operation's object, key, predecessors, action), or
//! mutated byte by byte, then sealed again with a valid checksum so that
//! `linli_domain::changes::parse` accepts them. Shared by `fuzz_changes.rs` and the
//! `hunt_crashers` example (included with `#[path]`).
#![allow(dead_code, clippy::unwrap_used)]

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ExpandedChange, ObjType, ScalarValue};
use proptest::prelude::*;

/// The two devices that wrote [`household`].
pub fn actors() -> Vec<ActorId> {
    vec![ActorId::from(vec![1u8; 16]), ActorId::from(vec![2u8; 16])]
}

/// A household written by two devices: created with its address and a tag, a member added
/// on the second device, merged, a tag changed after the merge (four changes).
pub fn household() -> AutoCommit {
    static DOC: std::sync::OnceLock<AutoCommit> = std::sync::OnceLock::new();
    DOC.get_or_init(write_household).clone()
}

fn write_household() -> AutoCommit {
    use linli_domain::*;
    let [first, second]: [ActorId; 2] = actors().try_into().unwrap();
    let mut d = AutoCommit::new().with_actor(first);
    let address = Address {
        community_id: "c".into(),
        grid_id: "g".into(),
        micro_grid_id: None,
        building_id: Some("b".into()),
        unit_id: None,
        room: "101".into(),
    };
    let new = NewHousehold {
        place_id: "b".into(),
        room: "101".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: vec![CareTag::ElderlyAlone],
        notes: "独居".into(),
        members: vec![],
    };
    doc::init_household(&mut d, "h1", 1, &address, &new).unwrap();
    d.commit();
    let mut other = d.fork().with_actor(second);
    let member = NewMember {
        name: "张秀英".into(),
        relation: Relation::Head,
        birth_year: Some(1946),
        phone: Some("13812345678".into()),
        id_number: None,
    };
    doc::put_member(&mut other, "m1", &member).unwrap();
    other.commit();
    doc::set_tag(&mut d, CareTag::Disabled, true).unwrap();
    d.commit();
    d.merge(&mut other).unwrap();
    doc::set_tag(&mut d, CareTag::ElderlyAlone, false).unwrap();
    d.commit();
    d
}

/// One edit: what to change, two numbers and a pick (of an actor, an object, …).
pub type Edit = (u8, u64, u64, u8);

pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec((any::<u8>(), any::<u64>(), any::<u64>(), any::<u8>()), 1..5)
}

/// A known actor, an unknown one, or a short one.
fn actor_for(known: &[ActorId], pick: u8) -> ActorId {
    match pick % 4 {
        0 | 1 if !known.is_empty() => known[(pick as usize / 4) % known.len()].clone(),
        2 => ActorId::from(vec![9u8; 16]),
        _ => ActorId::from(vec![pick; 3]),
    }
}

fn op_id(known: &[ActorId], counter: u64, pick: u8) -> OpId {
    OpId(counter % 40, actor_for(known, pick))
}

/// Edits a decoded change field by field.
pub fn mutate_change(
    mut c: ExpandedChange,
    edits: &[Edit],
    known: &[ActorId],
    hashes: &[ChangeHash],
) -> Change {
    for &(what, a, b, pick) in edits {
        let n = c.operations.len();
        let at = a as usize % n.max(1);
        match what % 14 {
            0 => c.seq = a % 5,
            1 if !c.deps.is_empty() => {
                c.deps.remove(a as usize % c.deps.len());
            }
            2 => c.deps.push(hashes[a as usize % hashes.len()]),
            3 => c.actor_id = actor_for(known, pick),
            4 => c.start_op = std::num::NonZeroU64::new(a % 40 + 1).unwrap(),
            5 if n > 0 => {
                c.operations[at].obj = if b % 3 == 0 {
                    ObjectId::Root
                } else {
                    ObjectId::Id(op_id(known, b, pick))
                };
            }
            6 if n > 0 => {
                c.operations[at].key = match b % 3 {
                    0 => Key::Map("members".into()),
                    1 => Key::Seq(ElementId::Head),
                    _ => Key::Seq(ElementId::Id(op_id(known, b, pick))),
                };
            }
            7 if n > 0 => {
                let op = &mut c.operations[at];
                let mut pred: Vec<OpId> = op.pred.iter().cloned().collect();
                if b % 2 == 0 {
                    pred.push(op_id(known, b, pick));
                } else {
                    pred.clear();
                }
                pred.sort();
                pred.dedup();
                op.pred = pred.into();
            }
            8 if n > 0 => c.operations[at].insert ^= true,
            9 if n > 0 => {
                c.operations[at].action = match b % 7 {
                    0 => OpType::Make(ObjType::Map),
                    1 => OpType::Make(ObjType::List),
                    2 => OpType::Make(ObjType::Text),
                    3 => OpType::Delete,
                    4 => OpType::Increment(a as i64),
                    5 => OpType::Put(ScalarValue::counter(b as i64)),
                    _ => OpType::Put(ScalarValue::Str("x".into())),
                };
            }
            10 if n > 0 => {
                c.operations.remove(at);
            }
            11 if n > 0 => {
                let op = c.operations[at].clone();
                c.operations.insert(b as usize % n, op);
            }
            12 => c.time = a as i64,
            _ => {}
        }
    }
    c.into()
}

/// Flips, inserts and deletes bytes of a change's body, then seals it again (length and
/// checksum), so only Automerge's own reading of the body can refuse it. `None` if
/// Automerge cannot read the result as a change at all.
pub fn mutate_bytes(change: &Change, edits: &[Edit]) -> Option<Vec<u8>> {
    let raw = change.raw_bytes();
    let (chunk_type, body_at) = (raw[8], header_len(raw));
    let mut body = raw[body_at..].to_vec();
    for &(what, a, b, _) in edits {
        if body.is_empty() {
            break;
        }
        let i = a as usize % body.len();
        match what % 3 {
            0 => body[i] ^= (b as u8).max(1),
            1 => body.insert(i, b as u8),
            _ => {
                body.remove(i);
            }
        }
    }
    seal(chunk_type, &body)
}

/// The length of a chunk's header: magic, checksum, type, LEB128 length.
fn header_len(raw: &[u8]) -> usize {
    9 + raw[9..].iter().take_while(|b| **b & 0x80 != 0).count() + 1
}

/// A chunk of `chunk_type` around `body`, with its length and checksum right.
pub fn seal(chunk_type: u8, body: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, chunk_type];
    let mut len = body.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(body);
    // Automerge's reader of one change computes its hash without checking the checksum.
    let hash = Change::try_from(&out[..]).ok()?.hash();
    out[4..8].copy_from_slice(&hash.0[..4]);
    Some(out)
}

/// A push made from the household's `which`-th change by `edits`: mutated field by field
/// when `bytewise` is false, else byte by byte.
pub fn push(which: usize, edits: &[Edit], bytewise: bool) -> Option<Vec<u8>> {
    push_from(&household().get_changes(&[]), which, edits, bytewise)
}

/// A push made from the `which`-th of `all` (a document's changes) by `edits`.
pub fn push_from(all: &[Change], which: usize, edits: &[Edit], bytewise: bool) -> Option<Vec<u8>> {
    let change = all.get(which % all.len().max(1))?;
    if bytewise {
        return mutate_bytes(change, edits);
    }
    let hashes: Vec<ChangeHash> = all.iter().map(Change::hash).collect();
    let mut known: Vec<ActorId> = all.iter().map(|c| c.actor_id().clone()).collect();
    known.sort();
    known.dedup();
    let mutated = mutate_change(change.decode(), edits, &known, &hashes);
    Some(mutated.raw_bytes().to_vec())
}
