//! One model's schema record (`model:<Name>` in the metadata table): what it holds and
//! its text encoding.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::RECORD_HEADER;
use crate::schema::layout_text;
use crate::traits::model::ModelInfo;

/// One model's schema record, as stored under `model:<Name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ModelRecord {
    pub(super) version: u32,
    pub(super) layout: String,
    pub(super) primary_key: String,
    /// Tag → `name kind unique|- field,field`.
    pub(super) keys: BTreeMap<u8, String>,
    /// The earlier versions the records were stored at, oldest first, with their layouts.
    pub(super) history: Vec<(u32, String)>,
}

impl ModelRecord {
    pub(super) fn of(info: &ModelInfo) -> Self {
        ModelRecord {
            version: info.version,
            layout: layout_text(info.shape),
            primary_key: info.primary_key.to_owned(),
            keys: info
                .secondary_keys
                .iter()
                .map(|k| {
                    let unique = if k.unique { "unique" } else { "-" };
                    let line = format!(
                        "{} {} {unique} {}",
                        k.name,
                        k.kind.as_str(),
                        k.fields.join(",")
                    );
                    (k.tag, line)
                })
                .collect(),
            history: Vec::new(),
        }
    }

    pub(super) fn encode(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{RECORD_HEADER}");
        let _ = writeln!(out, "version {}", self.version);
        let _ = writeln!(out, "layout {}", self.layout);
        let _ = writeln!(out, "pk {}", self.primary_key);
        for (tag, line) in &self.keys {
            let _ = writeln!(out, "sk {tag} {line}");
        }
        for (version, layout) in &self.history {
            let _ = writeln!(out, "history {version} {layout}");
        }
        out
    }

    pub(super) fn decode(text: &str) -> std::result::Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(RECORD_HEADER) {
            return Err(format!(
                "it does not start with `{RECORD_HEADER}` (a record written before schema \
                 records were versioned, or damaged)"
            ));
        }
        let mut record = ModelRecord {
            version: 0,
            layout: String::new(),
            primary_key: String::new(),
            keys: BTreeMap::new(),
            history: Vec::new(),
        };
        for line in lines {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let number = |s: &str| s.parse::<u32>().map_err(|_| format!("bad line `{line}`"));
            match word {
                "version" => record.version = number(rest)?,
                "layout" => record.layout = rest.to_owned(),
                "pk" => record.primary_key = rest.to_owned(),
                "sk" => {
                    let (tag, key) = rest.split_once(' ').ok_or(format!("bad line `{line}`"))?;
                    let tag = tag
                        .parse::<u8>()
                        .map_err(|_| format!("bad line `{line}`"))?;
                    record.keys.insert(tag, key.to_owned());
                }
                "history" => {
                    let (v, layout) = rest.split_once(' ').ok_or(format!("bad line `{line}`"))?;
                    record.history.push((number(v)?, layout.to_owned()));
                }
                _ => return Err(format!("unknown line `{line}`")),
            }
        }
        if record.version == 0 || record.layout.is_empty() {
            return Err("it has no version or no layout".to_owned());
        }
        Ok(record)
    }
}
