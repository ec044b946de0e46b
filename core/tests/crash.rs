//! A write that returned survives the process being killed: a child process records
//! households and visits, printing each id once its call returns; the parent kills it with
//! SIGKILL mid-stream, reopens the file, and finds every acknowledged record.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use linli_core::*;

const CHILD_ENV: &str = "LINLI_CRASH_CHILD_DB";

/// The child's loop: write until killed (bounded, so a stray child ends by itself).
fn child(path: &str) {
    let store = Store::open(path, identity(1, "worker-li"), &linli_testkit::DB_KEY).expect("open");
    store.put_places(&places()).expect("places");
    let mut out = std::io::stdout().lock();
    for i in 0..100_000u32 {
        let hh = store
            .create_household(household(BUILDING_1, &format!("{i}"), vec![]))
            .expect("household");
        writeln!(out, "ack household {hh}").expect("stdout");
        out.flush().expect("flush");
        let v = store.record_visit(visit(&hh)).expect("visit");
        writeln!(out, "ack visit {hh} {v}").expect("stdout");
        out.flush().expect("flush");
    }
}

#[test]
fn killed_after_write_returns_keeps_the_record() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        child(&path);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    for round in 0..3 {
        let mut proc = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "killed_after_write_returns_keeps_the_record",
                "--nocapture",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
        let mut acked = Vec::new();
        // Let it get going (and vary where it dies), then kill it without warning.
        let wait_for = 20 + round * 17;
        while acked.len() < wait_for {
            let line = lines.next().expect("child ended early").unwrap();
            if let Some(rest) = line.strip_prefix("ack ") {
                acked.push(rest.to_owned());
            }
        }
        proc.kill().unwrap(); // SIGKILL
        proc.wait().unwrap();
        // Acknowledgements already in the pipe count too.
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ack ") {
                acked.push(rest.to_owned());
            }
        }

        let store = Store::open(&path, identity(1, "worker-li"), &linli_testkit::DB_KEY).unwrap();
        let ok: String = store.with_raw_connection(|c| {
            c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap()
        });
        assert_eq!(ok, "ok");
        for a in &acked {
            let parts: Vec<&str> = a.split(' ').collect();
            match parts.as_slice() {
                ["household", hh] => {
                    store.household(hh).unwrap();
                    assert!(
                        store
                            .households_in(BUILDING_1)
                            .unwrap()
                            .iter()
                            .any(|h| h.id == *hh)
                    );
                }
                ["visit", hh, v] => {
                    assert!(
                        store
                            .household(hh)
                            .unwrap()
                            .visits
                            .iter()
                            .any(|x| x.id == *v)
                    );
                    assert!(store.visits_of(hh).unwrap().iter().any(|x| x.id == *v));
                }
                _ => panic!("bad ack line {a}"),
            }
        }
        assert!(acked.len() >= wait_for);
    }
}
