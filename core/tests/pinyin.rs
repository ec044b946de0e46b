//! Searching households by pinyin, as grid workers type on phones (issue 10 item 7):
//! initials, full pinyin, mixes and spaces, polyphonic surnames, homophones, ranking, and
//! input that must never panic.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

fn add(s: &Store, place: &str, room: &str, names: &[&str]) -> String {
    let members = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let relation = if i == 0 {
                Relation::Head
            } else {
                Relation::Other
            };
            member(n, relation, None)
        })
        .collect();
    s.create_household(household(place, room, members)).unwrap()
}

/// Ids found, in the order returned.
fn found(s: &Store, q: &str) -> Vec<String> {
    s.search_households(q, 50)
        .unwrap_or_else(|e| panic!("{q:?}: {e}"))
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn initials_full_pinyin_spaces_and_mixes_find_the_chinese_name() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let zhang = add(s, BUILDING_1, "101", &["张秀英", "李建国"]);
    let other = add(s, BUILDING_1, "102", &["王志强"]);

    let by_chinese = found(s, "张秀英");
    assert_eq!(by_chinese, vec![zhang.clone()]);
    for q in [
        "zxy",
        "ZXY",
        "zhangxiuying",
        "zhang xiu ying",
        "Zhang Xiu Ying",
        "zhang xy",
        "zhangxy",
        "zxiuying",
        "z x y",
        "zhang",
        "zhangx",
        "zhangxiuy",
        "xiuying",
        "xy",
        "ljg",
        "lijianguo",
    ] {
        assert_eq!(found(s, q), by_chinese, "{q}");
    }
    assert_eq!(found(s, "wzq"), vec![other.clone()]);
    assert_eq!(found(s, "wang zhi qiang"), vec![other]);
    for q in ["zxq", "zhangxiuyingg", "xiuyingzhang", "qqq"] {
        assert!(found(s, q).is_empty(), "{q}");
    }
}

#[test]
fn homophones_are_found_together() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let zhang = add(s, BUILDING_1, "101", &["张伟"]);
    let zhang2 = add(s, BUILDING_1, "102", &["章伟"]);
    let li = add(s, BUILDING_1, "103", &["李伟"]);
    assert_eq!(
        sorted(found(s, "zhang")),
        sorted(vec![zhang.clone(), zhang2.clone()])
    );
    assert_eq!(
        sorted(found(s, "zhangwei")),
        sorted(vec![zhang.clone(), zhang2.clone()])
    );
    assert_eq!(
        sorted(found(s, "zw")),
        sorted(vec![zhang.clone(), zhang2.clone()])
    );
    // Chinese stays exact: 章 is not 张.
    assert_eq!(found(s, "章伟"), vec![zhang2]);
    assert_eq!(found(s, "张"), vec![zhang]);
    assert_eq!(found(s, "lw"), vec![li]);
}

#[test]
fn polyphonic_surnames_read_as_surnames() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let cases = [
        ("单田芳", "shan", "stf", "dan"),
        ("曾志强", "zeng", "zzq", "ceng"),
        ("解玉兰", "xie", "xyl", "jie"),
        ("区伟", "ou", "ow", "qu"),
        ("仇德福", "qiu", "qdf", "chou"),
        ("朴春梅", "piao", "pcm", "pu"),
        ("查海燕", "zha", "zhy", "cha"),
        ("盖小红", "ge", "gxh", "gai"),
    ];
    let ids: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (name, ..))| add(s, BUILDING_2, &format!("{}", 201 + i), &[name]))
        .collect();
    for ((name, surname, initials, usual), id) in cases.iter().zip(&ids) {
        assert!(found(s, surname).contains(id), "{name}: {surname}");
        assert!(found(s, initials).contains(id), "{name}: {initials}");
        assert!(!found(s, usual).contains(id), "{name} is not read {usual}");
        assert_eq!(found(s, name), vec![id.clone()]);
    }
    // Only the first character is a surname: 王单 is wangdan.
    let wang = add(s, BUILDING_1, "101", &["王单"]);
    assert_eq!(found(s, "wangdan"), vec![wang.clone()]);
    assert!(!found(s, "wangshan").contains(&wang));
}

#[test]
fn exact_before_prefix_before_elsewhere_whatever_the_address() {
    let t = open(1, "worker-li");
    let s = &t.store;
    // Addresses in the reverse of the rank order: by address alone the order would flip.
    let elsewhere = add(s, BUILDING_1, "101", &["李张秀英"]);
    let prefix = add(s, BUILDING_2, "201", &["张秀英华"]);
    let exact = add(s, BUILDING_9, "901", &["张秀英"]);
    let want = vec![exact.clone(), prefix.clone(), elsewhere.clone()];
    assert_eq!(found(s, "zxy"), want);
    assert_eq!(found(s, "zhangxiuying"), want);
    assert_eq!(found(s, "zhang xy"), want);
    assert_eq!(found(s, "张秀英"), want);
    // A prefix of the surname: both 张 names are prefixes, by address; 李张秀英 elsewhere.
    assert_eq!(
        found(s, "zhang"),
        vec![prefix.clone(), exact.clone(), elsewhere.clone()]
    );
    // The address is elsewhere too.
    let by_address = found(s, "桂花苑");
    assert_eq!(by_address, vec![exact]);
}

#[test]
fn exact_matches_come_first_past_the_limit() {
    let t = open(1, "worker-li");
    let s = &t.store;
    for i in 0..60 {
        add(s, BUILDING_1, &format!("{}", 100 + i), &["张秀英华"]);
    }
    let exact = add(s, BUILDING_9, "901", &["张秀英"]);
    let page = s.search_households("zxy", 50).unwrap();
    assert_eq!(page.len(), 50);
    assert_eq!(page[0].id, exact);
    let page = s.search_households("张秀英", 10).unwrap();
    assert_eq!(page.len(), 10);
    assert_eq!(page[0].id, exact);
    assert_eq!(s.search_households("zhang", 0).unwrap().len(), 0);
    assert_eq!(s.search_households("zhang", 10_000).unwrap().len(), 61);
}

#[test]
fn chinese_queries_of_one_two_and_three_characters_still_work() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let a = add(s, BUILDING_1, "301", &["王张三丰"]);
    let b = add(s, BUILDING_9, "12", &["张三"]);
    // Exact first (张三 is b's whole name), then a, where 张三 is in the middle.
    assert_eq!(found(s, "张三"), vec![b.clone(), a.clone()]);
    assert_eq!(found(s, "张三丰"), vec![a.clone()]);
    assert_eq!(found(s, "丰"), vec![a.clone()]);
    // 张 starts b's name and is inside a's.
    assert_eq!(found(s, "张"), vec![b.clone(), a.clone()]);
    assert_eq!(found(s, "王"), vec![a.clone()]);
    assert_eq!(found(s, "安置 张三"), vec![a]);
    assert!(found(s, "赵钱孙").is_empty());
}

#[test]
fn a_renamed_member_is_found_by_the_new_name_only() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let id = add(s, BUILDING_1, "101", &["张秀英"]);
    let mid = s.household(&id).unwrap().members[0].id.clone();
    s.edit_member(&id, &mid, member("李娜", Relation::Head, None))
        .unwrap();
    assert!(found(s, "zxy").is_empty());
    assert!(found(s, "张秀英").is_empty());
    assert_eq!(found(s, "ln"), vec![id.clone()]);
    assert_eq!(found(s, "lina"), vec![id.clone()]);
    let key_rows: i64 = s.with_raw_connection(|c| {
        c.query_row("SELECT count(*) FROM household_names", [], |r| r.get(0))
            .unwrap()
    });
    // 李娜: the name, lina, ln, lin, lna (whole); na, n (from the second character).
    assert_eq!(key_rows, 7);
}

#[test]
fn bad_input_is_a_clear_result_or_a_typed_error() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let id = add(s, BUILDING_1, "101", &["张秀英"]);
    for q in ["", "   ", "\t\n"] {
        assert!(
            matches!(
                s.search_households(q, 10),
                Err(Error::InvalidInput { field: "query", .. })
            ),
            "{q:?}"
        );
    }
    for q in [
        "z".repeat(10_000),
        "张".repeat(10_000),
        "zxy ".repeat(2_500),
    ] {
        assert!(matches!(
            s.search_households(&q, 10),
            Err(Error::InvalidInput { field: "query", .. })
        ));
    }
    // FTS5 and SQL syntax is text: no error, and only what the text finds.
    for q in [
        "\"",
        "*",
        "OR",
        "AND",
        "NOT",
        "NEAR(",
        "NEAR(zhang xiu)",
        "zxy*",
        "\"zxy\"",
        "zxy OR",
        "zhang OR li",
        "'",
        "' OR 1=1 --",
        "%",
        "_",
        "^",
        ":",
        "(",
        ")",
        "-",
        "{}",
        "\\",
        "张*",
        "\"张秀英\"",
        "%张%",
        "zh_ng",
    ] {
        let r = s.search_households(q, 10);
        assert!(r.is_ok(), "{q:?}: {r:?}");
        assert!(r.unwrap().len() <= 1, "{q:?}");
    }
    assert!(found(s, "OR").is_empty());
    assert!(found(s, "%").is_empty());
    assert!(found(s, "zh_ng").is_empty());
    // A quote beside a short term is dropped by the per-character index, as before.
    assert_eq!(found(s, "\"张"), vec![id]);
}
