//! Names as pinyin, for searching households the way grid workers type on phones.
//!
//! One concern: a person's name → the keys search finds it under. A key is the name itself
//! (lowercased) or its pinyin, lowercase ASCII without tones or spaces, where each syllable
//! is spelled either in full or by its initial letter: 张秀英 has `zhangxiuying`, `zxy`,
//! `zhangxy`, `zxiuying`… (every mix while the name has at most [`MIXED_UP_TO`] syllables;
//! longer names only all-full and all-initials). Keys that start at the first character
//! are `whole` (the query equals one: the name is spelled out; the query starts one: a
//! prefix); keys that start at a later character find a name by its middle or end
//! (`xiuying`, `xy`).
//!
//! The first character of a name is its surname and is read as one: 单 shan, 曾 zeng,
//! 解 xie, 区 ou… ([`SURNAME_READINGS`]); every other character takes the `pinyin` crate's
//! usual reading. ü is written `v` (吕 `lv`), as phone keyboards type it.

use std::collections::BTreeSet;

use pinyin::ToPinyin;

/// Polyphonic characters whose reading as a surname differs from their usual one.
pub const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('区', "ou"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('盖', "ge"),
    ('翟', "zhai"),
    ('乐', "yue"),
    ('缪', "miao"),
    ('覃', "qin"),
    ('召', "shao"),
    ('员', "yun"),
    ('繁', "po"),
    ('秘', "bi"),
];

/// Names of up to this many syllables are keyed by every mix of full and initial syllables.
pub const MIXED_UP_TO: usize = 4;

/// A key a name is found under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameKey {
    /// True when the key spells the name from its first character.
    pub whole: bool,
    pub key: String,
}

/// The syllables of a name, lowercase: one per Chinese character (the first read as a
/// surname), one per run of ASCII letters or digits; anything else (spaces, ·) separates.
/// Characters without a reading are left out.
pub fn syllables(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut ascii = String::new();
    for (i, c) in name.trim().chars().enumerate() {
        if c.is_ascii_alphanumeric() {
            ascii.push(c.to_ascii_lowercase());
            continue;
        }
        if !ascii.is_empty() {
            out.push(std::mem::take(&mut ascii));
        }
        let surname = (i == 0)
            .then(|| SURNAME_READINGS.iter().find(|(s, _)| *s == c))
            .flatten();
        let reading = match surname {
            Some((_, r)) => Some(*r),
            None => c.to_pinyin().map(|p| p.plain()),
        };
        if let Some(r) = reading {
            out.push(r.replace('ü', "v"));
        }
    }
    if !ascii.is_empty() {
        out.push(ascii);
    }
    out
}

/// The name's full pinyin, e.g. 张秀英 → `zhangxiuying`.
pub fn full(name: &str) -> String {
    syllables(name).concat()
}

/// The name's initials, e.g. 张秀英 → `zxy`.
pub fn initials(name: &str) -> String {
    syllables(name)
        .iter()
        .filter_map(|s| s.chars().next())
        .collect()
}

/// A syllable's first letter (any character, never a split one).
fn initial(syllable: &str) -> &str {
    syllable
        .char_indices()
        .nth(1)
        .map_or(syllable, |(i, _)| &syllable[..i])
}

/// Every key of one name, without duplicates.
pub fn name_keys(name: &str) -> BTreeSet<NameKey> {
    let mut keys = BTreeSet::new();
    let plain = name.trim().to_lowercase();
    if plain.is_empty() {
        return keys;
    }
    keys.insert(NameKey {
        whole: true,
        key: plain,
    });
    let syllables = syllables(name);
    for start in 0..syllables.len() {
        let rest = &syllables[start..];
        let whole = start == 0;
        if rest.len() <= MIXED_UP_TO {
            // Bit i of `mask` set: syllable i is written by its initial.
            for mask in 0..(1u32 << rest.len()) {
                let key = rest
                    .iter()
                    .enumerate()
                    .map(|(i, s)| if mask & (1 << i) != 0 { initial(s) } else { s })
                    .collect();
                keys.insert(NameKey { whole, key });
            }
        } else {
            keys.insert(NameKey {
                whole,
                key: rest.concat(),
            });
            keys.insert(NameKey {
                whole,
                key: rest.iter().map(|s| initial(s)).collect(),
            });
        }
    }
    keys
}

/// The keys of every member of a household, without duplicates.
pub fn household_keys<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<NameKey> {
    names.into_iter().flat_map(name_keys).collect()
}

/// The query as pinyin letters, lowercase and joined (`Zhang xy` → `zhangxy`), when it is
/// pinyin: only ASCII letters, with spaces or apostrophes (`xi'an`) between syllables.
pub fn query_letters(query: &str) -> Option<String> {
    let pinyin = query
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c.is_whitespace() || c == '\'');
    let letters: String = query
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (pinyin && !letters.is_empty()).then_some(letters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str, whole: bool) -> Vec<String> {
        name_keys(name)
            .into_iter()
            .filter(|k| k.whole == whole)
            .map(|k| k.key)
            .collect()
    }

    #[test]
    fn a_name_has_full_pinyin_and_initials() {
        assert_eq!(syllables("张秀英"), ["zhang", "xiu", "ying"]);
        assert_eq!(full("张秀英"), "zhangxiuying");
        assert_eq!(initials("张秀英"), "zxy");
        assert_eq!(full("吕丽"), "lvli");
        assert_eq!(full("Anna 李"), "annali");
        assert_eq!(full(""), "");
        assert_eq!(initial("ê"), "ê");
        assert_eq!(initials("·"), "");
    }

    #[test]
    fn polyphonic_surnames_read_as_surnames_only_first() {
        for (name, want) in [
            ("单田芳", "shantianfang"),
            ("曾国藩", "zengguofan"),
            ("解缙", "xiejin"),
            ("区伟", "ouwei"),
            ("仇英", "qiuying"),
            ("朴正", "piaozheng"),
            ("查良镛", "zhaliangyong"),
            ("盖聂", "genie"),
        ] {
            assert_eq!(full(name), want, "{name}");
        }
        // Not first: the usual reading.
        assert_eq!(full("王单"), "wangdan");
        assert_eq!(full("李曾"), "liceng");
    }

    #[test]
    fn every_mix_of_full_and_initial_syllables_is_a_key() {
        let whole = keys("张秀英", true);
        for k in [
            "张秀英",
            "zhangxiuying",
            "zxy",
            "zhangxy",
            "zxiuying",
            "zhangxiuy",
            "zxying",
            "zhangxying",
        ] {
            assert!(whole.contains(&k.to_owned()), "{k}: {whole:?}");
        }
        assert_eq!(whole.len(), 9);
        assert_eq!(
            keys("张秀英", false),
            ["xiuy", "xiuying", "xy", "xying", "y", "ying"]
        );
        // Long names: all-full and all-initials only.
        let long = keys("阿卜杜拉克里木", true);
        assert_eq!(long.len(), 3, "{long:?}");
    }

    #[test]
    fn household_keys_merge_members() {
        let k = household_keys(["张伟", "张伟", "章伟"]);
        let whole: Vec<_> = k.iter().filter(|k| k.whole).map(|k| &k.key).collect();
        assert_eq!(whole.iter().filter(|k| k.as_str() == "zhangwei").count(), 1);
        assert!(whole.iter().any(|k| k.as_str() == "章伟"));
    }

    #[test]
    fn queries_are_pinyin_when_only_letters() {
        assert_eq!(query_letters("zxy").as_deref(), Some("zxy"));
        assert_eq!(
            query_letters(" Zhang XIU ying ").as_deref(),
            Some("zhangxiuying")
        );
        assert_eq!(query_letters("xi'an").as_deref(), Some("xian"));
        assert_eq!(query_letters("张三"), None);
        assert_eq!(query_letters("zhang3"), None);
        assert_eq!(query_letters("NEAR("), None);
        assert_eq!(query_letters("  "), None);
        assert_eq!(query_letters("'"), None);
    }
}
