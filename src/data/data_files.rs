//! Which files of a Hugging Face dataset repo hold one split of one config, decided the way
//! the `datasets` library decides it:
//!
//! 1. The dataset card (`README.md`) may declare `configs:`, each with `data_files` patterns
//!    per split (and an optional `data_dir` they are relative to). A declared config wins.
//! 2. Otherwise the file names say it: `data/<split>-00000-of-00003.parquet` shards; else a
//!    directory named after the split (`test/…`); else a file named after it (`test.jsonl.gz`,
//!    `data/dev-x.parquet`). Split keywords follow `datasets`: `validation` also matches
//!    `valid`, `dev` and `val`; `test` also matches `testing`, `eval` and `evaluation`.
//!
//! Patterns are fsspec globs: `*` and `?` stay within one path segment, `**` crosses them,
//! `[...]` is a character class.

use std::collections::BTreeMap;

use serde::Deserialize;

/// File extensions leafbench can read.
pub const DATA_EXTENSIONS: [&str; 7] = [
    ".parquet",
    ".jsonl",
    ".json",
    ".jsonl.gz",
    ".json.gz",
    ".tsv",
    ".zip",
];

/// Characters that may separate a split keyword from the rest of a name.
const SEPARATORS: &str = "-._ 0123456789";

const DEFAULT_SPLITS: [&str; 3] = ["train", "validation", "test"];

fn split_keywords(split: &str) -> &'static [&'static str] {
    match split {
        "train" => &["train", "training"],
        "validation" => &["validation", "valid", "dev", "val"],
        "test" => &["test", "testing", "eval", "evaluation"],
        _ => &[],
    }
}

/// The repo files (paths relative to the repo root, `/`-separated, sorted) holding `split`
/// of `config`, given every file of the repo and the dataset card's text if there is one.
/// The error says what was looked for, for the caller to wrap with the repo's name.
pub fn split_data_files(
    listing: &[String],
    readme: Option<&str>,
    config: &str,
    split: &str,
) -> Result<Vec<String>, String> {
    let (declared, files) = repo_view(listing, readme)?;
    let chosen = if declared.is_empty() {
        undeclared_split_files(&files, config, split)?
    } else {
        declared_split_files(&declared, &files, config, split)?
    };
    let mut chosen: Vec<String> = chosen.into_iter().map(str::to_string).collect();
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty() {
        return Err(format!(
            "no file holds split `{split}` of config `{config}`"
        ));
    }
    if let Some(bad) = chosen.iter().find(|f| !has_data_extension(f)) {
        return Err(format!(
            "split `{split}` of config `{config}` is stored as `{bad}`; leafbench reads {}",
            DATA_EXTENSIONS.join(", ")
        ));
    }
    check_shards_complete(&chosen)?;
    Ok(chosen)
}

/// The split names `config` offers: those its card entry declares, else those the file-name
/// conventions find. MTEB's retrieval loader asks for a split by name and, when a config has
/// just one split (`corpus`, `queries`), takes that one whatever its name.
pub fn split_names(
    listing: &[String],
    readme: Option<&str>,
    config: &str,
) -> Result<Vec<String>, String> {
    let (declared, files) = repo_view(listing, readme)?;
    if !declared.is_empty() {
        let chosen = pick_config(&declared, config)?;
        return Ok(match &chosen.data_files {
            Some(DataFilesField::PerSplit(items)) => {
                let mut names: Vec<String> = Vec::new();
                for item in items {
                    if !names.contains(&item.split) {
                        names.push(item.split.clone());
                    }
                }
                names
            }
            Some(DataFilesField::Map(map)) => map.keys().cloned().collect(),
            _ => vec!["train".to_string()],
        });
    }
    let sharded: Vec<String> = files
        .iter()
        .filter_map(|f| sharded_split_name(f).map(str::to_string))
        .collect();
    if !sharded.is_empty() {
        let mut names = sharded;
        names.sort();
        names.dedup();
        return Ok(names);
    }
    Ok(DEFAULT_SPLITS
        .iter()
        .filter(|s| undeclared_split_files(&files, config, s).is_ok_and(|f| !f.is_empty()))
        .map(|s| s.to_string())
        .collect())
}

/// The configs the card declares (none without a card) and the files that may hold data.
fn repo_view<'a>(
    listing: &'a [String],
    readme: Option<&str>,
) -> Result<(Vec<DeclaredConfig>, Vec<&'a str>), String> {
    let declared = match readme {
        Some(text) => declared_configs(text)?,
        None => Vec::new(),
    };
    let files = listing
        .iter()
        .map(String::as_str)
        .filter(|f| is_candidate(f))
        .collect();
    Ok((declared, files))
}

pub fn has_data_extension(file: &str) -> bool {
    DATA_EXTENSIONS.iter().any(|ext| file.ends_with(ext))
}

/// Hidden files, the card and loading scripts never hold data (as in `datasets`).
fn is_candidate(file: &str) -> bool {
    let hidden = file
        .split('/')
        .any(|part| part.starts_with('.') || part.starts_with("__"));
    let name = file.rsplit('/').next().unwrap_or(file);
    !hidden && name != "README.md" && !name.ends_with(".py")
}

// ---------------------------------------------------------------------------------------------
// Configs declared in the dataset card

#[derive(Debug, Deserialize)]
struct Card {
    #[serde(default)]
    configs: Vec<DeclaredConfig>,
}

#[derive(Debug, Deserialize)]
struct DeclaredConfig {
    config_name: String,
    #[serde(default)]
    data_files: Option<DataFilesField>,
    #[serde(default)]
    data_dir: Option<String>,
    #[serde(default)]
    default: bool,
}

/// The shapes `data_files` takes in a card: one pattern, a list of patterns (both the `train`
/// split), a list of `{split, path}`, or a map from split to patterns.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DataFilesField {
    One(String),
    PerSplit(Vec<SplitPatterns>),
    Many(Vec<String>),
    Map(BTreeMap<String, Patterns>),
}

#[derive(Debug, Deserialize)]
struct SplitPatterns {
    split: String,
    path: Patterns,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Patterns {
    One(String),
    Many(Vec<String>),
}

impl Patterns {
    fn to_vec(&self) -> Vec<String> {
        match self {
            Patterns::One(p) => vec![p.clone()],
            Patterns::Many(ps) => ps.clone(),
        }
    }
}

/// The `configs:` of the card's YAML front matter (empty when there is none).
fn declared_configs(readme: &str) -> Result<Vec<DeclaredConfig>, String> {
    let Some(yaml) = front_matter(readme) else {
        return Ok(Vec::new());
    };
    let card: Card = serde_saphyr::from_str(yaml)
        .map_err(|e| format!("README.md: the YAML header is not a valid dataset card: {e}"))?;
    Ok(card.configs)
}

fn front_matter(readme: &str) -> Option<&str> {
    let rest = readme
        .strip_prefix("---\n")
        .or_else(|| readme.strip_prefix("---\r\n"))?;
    let end = rest
        .match_indices("\n---")
        .map(|(i, _)| i)
        .find(|&i| matches!(rest[i + 4..].chars().next(), None | Some('\n' | '\r')))?;
    Some(&rest[..end + 1])
}

fn declared_split_files<'a>(
    declared: &[DeclaredConfig],
    files: &[&'a str],
    config: &str,
    split: &str,
) -> Result<Vec<&'a str>, String> {
    let chosen = pick_config(declared, config)?;
    let base = chosen
        .data_dir
        .as_deref()
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty());
    let patterns: Vec<String> = match &chosen.data_files {
        Some(field) => split_patterns(field, split),
        None => {
            // A config with only a data_dir uses the file-name conventions inside it.
            let inside: Vec<&str> = files
                .iter()
                .copied()
                .filter(|f| base.is_none_or(|b| f.starts_with(&format!("{b}/"))))
                .collect();
            return Ok(conventional_split_files(&inside, base, split));
        }
    };
    if patterns.is_empty() {
        return Err(format!(
            "config `{}` declares no split `{split}` in README.md",
            chosen.config_name
        ));
    }
    let matched: Vec<&str> = files
        .iter()
        .copied()
        .filter(|f| {
            patterns.iter().any(|p| {
                let full = match base {
                    Some(b) => format!("{b}/{}", p.trim_start_matches("./")),
                    None => p.trim_start_matches("./").to_string(),
                };
                glob_match(&full, f)
            })
        })
        .collect();
    if matched.is_empty() {
        return Err(format!(
            "no file matches the patterns of split `{split}` of config `{}` ({})",
            chosen.config_name,
            patterns.join(", ")
        ));
    }
    Ok(matched)
}

/// The config named `config`; `default` also means the one marked `default: true`, or the
/// only one, as `load_dataset` without a name does.
fn pick_config<'c>(
    declared: &'c [DeclaredConfig],
    config: &str,
) -> Result<&'c DeclaredConfig, String> {
    if let Some(c) = declared.iter().find(|c| c.config_name == config) {
        return Ok(c);
    }
    if config == "default" {
        if let Some(c) = declared.iter().find(|c| c.default) {
            return Ok(c);
        }
        if let [only] = declared {
            return Ok(only);
        }
    }
    let names: Vec<&str> = declared.iter().map(|c| c.config_name.as_str()).collect();
    Err(format!(
        "README.md declares no config `{config}` (it declares: {})",
        names.join(", ")
    ))
}

fn split_patterns(field: &DataFilesField, split: &str) -> Vec<String> {
    match field {
        DataFilesField::One(p) if split == "train" => vec![p.clone()],
        DataFilesField::Many(ps) if split == "train" => ps.clone(),
        DataFilesField::One(_) | DataFilesField::Many(_) => Vec::new(),
        DataFilesField::PerSplit(items) => items
            .iter()
            .filter(|i| i.split == split)
            .flat_map(|i| i.path.to_vec())
            .collect(),
        DataFilesField::Map(map) => map.get(split).map(Patterns::to_vec).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------------
// File-name conventions, for repos whose card declares no configs

fn undeclared_split_files<'a>(
    files: &[&'a str],
    config: &str,
    split: &str,
) -> Result<Vec<&'a str>, String> {
    // Without declared configs the repo has one config, `default`. A mirror-like repo with
    // one folder per subset is still read, from that folder.
    let base = (config != "default").then_some(config);
    let inside: Vec<&str> = match base {
        Some(dir) => files
            .iter()
            .copied()
            .filter(|f| f.starts_with(&format!("{dir}/")))
            .collect(),
        None => files.to_vec(),
    };
    if base.is_some() && inside.is_empty() {
        return Err(format!(
            "README.md declares no configs and there is no folder `{config}/` for subset `{config}`"
        ));
    }
    let chosen = conventional_split_files(&inside, base, split);
    if chosen.is_empty() {
        return Err(format!(
            "no file is named for split `{split}` (expected e.g. data/{split}-00000-of-00001.parquet, \
             {split}.jsonl.gz or a folder {split}/)"
        ));
    }
    Ok(chosen)
}

/// The conventions of `datasets`, tried in its order; the first that finds any split decides.
fn conventional_split_files<'a>(
    files: &[&'a str],
    base: Option<&str>,
    split: &str,
) -> Vec<&'a str> {
    let relative = |f: &'a str| -> &'a str {
        match base {
            Some(b) => f
                .strip_prefix(b)
                .map(|r| r.trim_start_matches('/'))
                .unwrap_or(f),
            None => f,
        }
    };
    let sharded: Vec<&str> = files
        .iter()
        .copied()
        .filter(|f| sharded_split_name(relative(f)).is_some())
        .collect();
    if !sharded.is_empty() {
        return sharded
            .into_iter()
            .filter(|f| sharded_split_name(relative(f)) == Some(split))
            .collect();
    }
    let by_dir = |f: &&'a str, keywords: &[&str]| {
        let rel = relative(f);
        let dirs = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        dirs.split('/')
            .filter(|d| !d.is_empty())
            .any(|d| keywords.iter().any(|k| names_keyword(d, k, false)))
    };
    let by_name = |f: &&'a str, keywords: &[&str]| {
        let rel = relative(f);
        let name = rel.rsplit('/').next().unwrap_or(rel);
        keywords.iter().any(|k| names_keyword(name, k, true))
    };
    for rule in [&by_dir as &dyn Fn(&&'a str, &[&str]) -> bool, &by_name] {
        let any_split = DEFAULT_SPLITS
            .iter()
            .any(|s| files.iter().any(|f| rule(f, split_keywords(s))));
        if any_split {
            return files
                .iter()
                .copied()
                .filter(|f| rule(f, split_keywords(split)))
                .collect();
        }
    }
    if split == "train" {
        files.to_vec()
    } else {
        Vec::new()
    }
}

/// `data/<split>-NNNNN-of-NNNNN….…` names its split.
fn sharded_split_name(file: &str) -> Option<&str> {
    let name = file.strip_prefix("data/")?;
    if name.contains('/') {
        return None;
    }
    let (split, rest) = name.split_once('-')?;
    let b = rest.as_bytes();
    let shard = b.len() >= 14
        && b[..5].iter().all(u8::is_ascii_digit)
        && &b[5..9] == b"-of-"
        && b[9..14].iter().all(u8::is_ascii_digit)
        && rest[14..].contains('.');
    (shard && !split.is_empty()).then_some(split)
}

/// Whether `name` holds `keyword` at its start or after a separator, followed by a separator
/// (a file name must have one after it, if only the extension's dot; a folder name may end).
fn names_keyword(name: &str, keyword: &str, need_after: bool) -> bool {
    name.match_indices(keyword).any(|(i, _)| {
        let before_ok = i == 0 || name[..i].ends_with(|c| SEPARATORS.contains(c));
        let after = &name[i + keyword.len()..];
        let after_ok = match after.chars().next() {
            None => !need_after,
            Some(c) => SEPARATORS.contains(c),
        };
        before_ok && after_ok
    })
}

/// A split written in shards (`…-00001-of-00003…`) must have all of them: a cache holding
/// only some is an interrupted download, not a smaller split.
fn check_shards_complete(files: &[String]) -> Result<(), String> {
    let mut groups: BTreeMap<(String, usize), Vec<usize>> = BTreeMap::new();
    for f in files {
        if let Some((prefix, index, total)) = shard_of(f) {
            groups.entry((prefix, total)).or_default().push(index);
        }
    }
    for ((prefix, total), mut indices) in groups {
        indices.sort_unstable();
        indices.dedup();
        if indices.len() != total {
            return Err(format!(
                "{prefix}*: {} of {total} shards present; the download is incomplete",
                indices.len()
            ));
        }
    }
    Ok(())
}

fn shard_of(file: &str) -> Option<(String, usize, usize)> {
    let at = file.find("-of-")?;
    let index = file.get(at.checked_sub(5)?..at)?;
    let total = file.get(at + 4..at + 9)?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(index) || !digits(total) {
        return None;
    }
    Some((
        file[..at - 5].to_string(),
        index.parse().ok()?,
        total.parse().ok()?,
    ))
}

// ---------------------------------------------------------------------------------------------
// fsspec globs

/// Whether `path` matches the glob `pattern` (see the module docs).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    match_from(&p, &s)
}

fn match_from(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            // `**/` may also match no folder at all.
            let rest = &p[2..];
            if rest.first() == Some(&'/') && match_from(&rest[1..], s) {
                return true;
            }
            (0..=s.len()).any(|i| match_from(rest, &s[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=s.len() {
                if match_from(rest, &s[i..]) {
                    return true;
                }
                if s.get(i) == Some(&'/') {
                    break;
                }
            }
            false
        }
        Some('?') => s.first().is_some_and(|&c| c != '/') && match_from(&p[1..], &s[1..]),
        Some('[') => match (char_class(p), s.first()) {
            (Some((matches, len)), Some(&c)) => {
                c != '/' && matches(c) && match_from(&p[len..], &s[1..])
            }
            (Some(_), None) => false,
            // An unclosed `[` is a literal.
            (None, Some(&c)) => c == '[' && match_from(&p[1..], &s[1..]),
            (None, None) => false,
        },
        Some(&c) => s.first() == Some(&c) && match_from(&p[1..], &s[1..]),
    }
}

/// The class starting at `p[0] == '['`: a predicate and the pattern length it spans.
fn char_class(p: &[char]) -> Option<(impl Fn(char) -> bool, usize)> {
    let mut i = 1;
    let negated = matches!(p.get(1), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let start = i;
    // A `]` right after the opening bracket is a member, not the end.
    if p.get(i) == Some(&']') {
        i += 1;
    }
    while p.get(i)? != &']' {
        i += 1;
    }
    let members: Vec<char> = p[start..i].to_vec();
    let test = move |c: char| {
        let mut j = 0;
        let mut hit = false;
        while j < members.len() {
            if j + 2 < members.len() && members[j + 1] == '-' {
                hit |= members[j] <= c && c <= members[j + 2];
                j += 3;
            } else {
                hit |= members[j] == c;
                j += 1;
            }
        }
        hit != negated
    };
    Some((test, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(files: &[&str]) -> Vec<String> {
        files.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn globs_follow_fsspec() {
        assert!(glob_match(
            "data/test-*",
            "data/test-00000-of-00001.parquet"
        ));
        assert!(!glob_match("data/test-*", "data/sub/test-0.parquet"));
        assert!(glob_match("**/test[-._ 0-9]*", "test.jsonl.gz"));
        assert!(glob_match("**/test[-._ 0-9]*", "en/x/test_1.parquet"));
        assert!(!glob_match("**/test[-._ 0-9]*", "en/testing.parquet"));
        assert!(glob_match(
            "en-en/test-*",
            "en-en/test-00000-of-00001.parquet"
        ));
        assert!(glob_match("a/?.json", "a/b.json") && !glob_match("a/?.json", "a/bc.json"));
        assert!(glob_match("x[!0-9]", "xa") && !glob_match("x[!0-9]", "x5"));
        assert!(glob_match("**", "a/b/c"));
    }

    #[test]
    fn card_configs_pick_the_subset_and_split() {
        let readme =
            "---\nlicense: mit\ndataset_info:\n  features:\n  - name: n\n    dtype: string\n\
            configs:\n- config_name: en\n  data_files:\n  - split: test\n    path: en/test-*\n  \
            - split: train\n    path: [en/train-*]\n- config_name: de\n  data_files:\n  \
            - split: test\n    path: de/test-*\n---\n# Card\n";
        let files = listing(&[
            "README.md",
            ".gitattributes",
            "en/test-00000-of-00001.parquet",
            "en/train-00000-of-00002.parquet",
            "en/train-00001-of-00002.parquet",
            "de/test-00000-of-00001.parquet",
        ]);
        let test = split_data_files(&files, Some(readme), "en", "test").unwrap();
        assert_eq!(test, ["en/test-00000-of-00001.parquet"]);
        let train = split_data_files(&files, Some(readme), "en", "train").unwrap();
        assert_eq!(train.len(), 2);
        let err = split_data_files(&files, Some(readme), "fr", "test").unwrap_err();
        assert!(
            err.contains("no config `fr`") && err.contains("en, de"),
            "{err}"
        );
        let err = split_data_files(&files, Some(readme), "de", "train").unwrap_err();
        assert!(err.contains("declares no split `train`"), "{err}");
    }

    #[test]
    fn data_files_in_all_card_shapes() {
        let files = listing(&["d/a.parquet", "d/b.parquet", "t.jsonl"]);
        let card = |body: &str| format!("---\nconfigs:\n- config_name: default\n{body}---\n");
        let map = card("  data_files:\n    test: t.jsonl\n    train: [d/*.parquet]\n");
        assert_eq!(
            split_data_files(&files, Some(&map), "default", "test").unwrap(),
            ["t.jsonl"]
        );
        assert_eq!(
            split_data_files(&files, Some(&map), "default", "train")
                .unwrap()
                .len(),
            2
        );
        let one = card("  data_files: d/a.parquet\n");
        assert_eq!(
            split_data_files(&files, Some(&one), "default", "train").unwrap(),
            ["d/a.parquet"]
        );
        let dir = card("  data_dir: d\n  data_files:\n  - split: test\n    path: b.*\n");
        assert_eq!(
            split_data_files(&files, Some(&dir), "default", "test").unwrap(),
            ["d/b.parquet"]
        );
        let dir_only = card("  data_dir: d\n");
        let err = split_data_files(&files, Some(&dir_only), "default", "test").unwrap_err();
        assert!(err.contains("no file holds split `test`"), "{err}");
    }

    #[test]
    fn conventions_without_a_card() {
        let sharded = listing(&[
            "data/test-00000-of-00001.parquet",
            "data/dev-00000-of-00001.parquet",
        ]);
        assert_eq!(
            split_data_files(&sharded, None, "default", "dev").unwrap(),
            ["data/dev-00000-of-00001.parquet"]
        );
        let flat = listing(&["test.json.gz", "train.jsonl", ".gitattributes", "loader.py"]);
        assert_eq!(
            split_data_files(&flat, None, "default", "test").unwrap(),
            ["test.json.gz"]
        );
        let dirs = listing(&[
            "validation/0000.parquet",
            "test/0000.parquet",
            "test/0001.parquet",
            "train.jsonl",
        ]);
        assert_eq!(
            split_data_files(&dirs, None, "default", "test")
                .unwrap()
                .len(),
            2
        );
        // Folder names win over file names, as in `datasets`.
        assert!(split_data_files(&dirs, None, "default", "train").is_err());
        let dev = listing(&["dev.jsonl", "test.jsonl"]);
        assert_eq!(
            split_data_files(&dev, None, "default", "validation").unwrap(),
            ["dev.jsonl"]
        );
        let subsets = listing(&["en-en/test.jsonl.gz", "ko-ko/test.jsonl.gz"]);
        assert_eq!(
            split_data_files(&subsets, None, "en-en", "test").unwrap(),
            ["en-en/test.jsonl.gz"]
        );
        let err = split_data_files(&subsets, None, "fr-fr", "test").unwrap_err();
        assert!(err.contains("no folder `fr-fr/`"), "{err}");
    }

    #[test]
    fn split_names_of_a_config() {
        let readme = "---\nconfigs:\n- config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus.jsonl\n\
            - config_name: default\n  data_files:\n  - split: test\n    path: qrels/test.tsv\n  - split: dev\n    path: qrels/dev.tsv\n---\n";
        let files = listing(&["corpus.jsonl", "qrels/test.tsv", "qrels/dev.tsv"]);
        assert_eq!(
            split_names(&files, Some(readme), "corpus").unwrap(),
            ["corpus"]
        );
        assert_eq!(
            split_names(&files, Some(readme), "default").unwrap(),
            ["test", "dev"]
        );
        let plain = listing(&["test.jsonl", "train.jsonl"]);
        assert_eq!(
            split_names(&plain, None, "default").unwrap(),
            ["train", "test"]
        );
    }

    #[test]
    fn unreadable_formats_and_missing_shards_are_errors() {
        let csv = listing(&["test.csv"]);
        assert!(has_data_extension("qrels/test.tsv"));
        let err = split_data_files(&csv, None, "default", "test").unwrap_err();
        assert!(err.contains("stored as `test.csv`"), "{err}");
        let partial = listing(&[
            "data/test-00000-of-00003.parquet",
            "data/test-00002-of-00003.parquet",
        ]);
        let err = split_data_files(&partial, None, "default", "test").unwrap_err();
        assert!(err.contains("2 of 3 shards"), "{err}");
    }
}
