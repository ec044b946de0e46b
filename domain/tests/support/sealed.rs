//! Whole documents with a mutated body and a valid checksum, so that Automerge's reading of
//! the columns (not its checksum test) meets the damage. Shared by `fuzz_bytes.rs` and the
//! `hunt_crashers` example (included with `#[path]`, after `mutations.rs`).
#![allow(dead_code, clippy::unwrap_used)]

use sha2::{Digest, Sha256};

use super::mutations::{self, Edit};

/// A document chunk around `body`, its length and checksum right (Automerge's layout: magic,
/// the first four bytes of SHA-256 over type, LEB128 length and body, type, length, body).
pub fn seal_document(body: &[u8]) -> Vec<u8> {
    let mut typed = vec![0u8];
    let mut len = body.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            typed.push(byte);
            break;
        }
        typed.push(byte | 0x80);
    }
    typed.extend_from_slice(body);
    let hash = Sha256::digest(&typed);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&typed);
    out
}

/// The body of the household (`mutations::household`) as a whole uncompressed document.
pub fn household_body() -> Vec<u8> {
    let saved = mutations::household().save_nocompress();
    let header = 9 + saved[9..].iter().take_while(|b| **b & 0x80 != 0).count() + 1;
    saved[header..].to_vec()
}

/// The household's document with its body flipped, inserted into and cut by `edits`,
/// sealed again.
pub fn mutated_document(edits: &[Edit]) -> Vec<u8> {
    let mut body = household_body();
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
    seal_document(&body)
}
