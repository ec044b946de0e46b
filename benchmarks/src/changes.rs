//! Which Automerge changes a document's bytes hold, to check through the protocol alone that
//! nothing a device pushed was lost (the server's own tables are never read).

use std::collections::{HashMap, HashSet};

use automerge::{AutoCommit, ChangeHash};

use crate::Res;

/// Hashes of the changes `bytes` adds to a document holding `base` (empty: a new document).
pub fn added(base: &[u8], bytes: &[u8]) -> Res<Vec<ChangeHash>> {
    let mut d = AutoCommit::new();
    d.load_incremental(base)?;
    let before = d.get_heads();
    d.load_incremental(bytes)?;
    Ok(d.get_changes_meta(&before).iter().map(|m| m.hash).collect())
}

/// Concatenates what a pull delivered per document (a snapshot, then changes).
pub fn by_doc(docs: Vec<(String, Vec<u8>)>) -> HashMap<String, Vec<u8>> {
    let mut m: HashMap<String, Vec<u8>> = HashMap::new();
    for (id, bytes) in docs {
        m.entry(id).or_default().extend(bytes);
    }
    m
}

/// How many of the `expected` change hashes are missing from the documents `got`, each
/// applied on top of its `base` bytes (if any).
pub fn missing(
    expected: &[&(String, Vec<ChangeHash>)],
    got: &HashMap<String, Vec<u8>>,
    base: &HashMap<&str, &[u8]>,
) -> Res<usize> {
    let mut lost = 0;
    for (doc, hashes) in expected {
        let mut d = AutoCommit::new();
        d.load_incremental(base.get(doc.as_str()).copied().unwrap_or_default())?;
        d.load_incremental(got.get(doc).map(Vec::as_slice).unwrap_or_default())?;
        let held: HashSet<ChangeHash> = d.get_changes_meta(&[]).iter().map(|m| m.hash).collect();
        lost += hashes.iter().filter(|h| !held.contains(h)).count();
    }
    Ok(lost)
}
